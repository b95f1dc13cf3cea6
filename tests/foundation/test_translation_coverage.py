"""Nothing user-visible escapes translation: every word of a template is inside {% translate %} or
{% blocktranslate %}, and the committed .po files hold every message the code and templates use, each
translated (what `make messages` would add is already there)."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.template.base import Lexer, TokenType

TEMPLATES = Path(settings.BASE_DIR) / "templates"
LOCALE = Path(settings.BASE_DIR) / "locale"

# Templates left out of the check while they are being translated (empty: every template is checked).
NOT_YET_TRANSLATED: tuple[str, ...] = ()

# Words that read the same in every language: the brand and protocol names.
ALLOWED_WORDS = ("Hubdash", "HTTP", "https", "p90")
# A token of letters mixed with digits is an identifier (an example UUID in a placeholder), not a word.
IDENTIFIER = re.compile(r"[\w-]*\d[\w-]*")
# yesno arguments that fill data attributes for scripts, never shown.
DATA_VALUES = ("'true,false'", '"true,false"')

# Text inside these elements is code or an identifier, never translated (<code>to</code>, isVerified).
NOT_TEXT = {"script", "style", "code", "kbd", "pre"}
# Attributes a person reads or hears.
VISIBLE_ATTRIBUTES = {"title", "aria-label", "alt", "placeholder", "aria-description", "aria-roledescription"}
# Filters whose quoted argument is shown: {{ x|yesno:"verified,not verified" }}, {{ x|default:"never" }}.
SHOWN_FILTER_ARGUMENT = re.compile(r"\|(?:yesno|default|default_if_none):(\"[^\"]*\"|'[^']*')")
# A quoted phrase handed to an included template: {% include … with label="Webhook URL" %} (use _("…")).
QUOTED_PHRASE = re.compile(r"=(\"[^\"]*\s[^\"]*\"|'[^']*\s[^']*')")
LETTER = re.compile(r"[^\W\d_]")


def _has_words(text: str) -> bool:
    for word in ALLOWED_WORDS:
        text = re.sub(rf"\b{re.escape(word)}\b", "", text)
    text = IDENTIFIER.sub("", text)
    return bool(LETTER.search(text))


class _Text(HTMLParser):
    """Collects text nodes and visible attributes that contain words, outside code, scripts and styles."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in NOT_TEXT:
            self.skipping.append(tag)
        for name, value in attrs:
            if name in VISIBLE_ATTRIBUTES and value and _has_words(value):
                self.found.append(f'{name}="{value.strip()}"')

    def handle_endtag(self, tag: str) -> None:
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data: str) -> None:
        if not self.skipping and _has_words(data):
            self.found.append(" ".join(data.split()))


def _in_class(blocks: list[str]) -> bool:
    """A block that fills an attribute of the parent (`main_class`, `body_class`) holds class names."""
    return bool(blocks) and blocks[-1].endswith("class")


def untranslated(source: str) -> list[str]:
    """The user-visible words of a template that no translation tag covers."""
    found: list[str] = []
    skeleton: list[str] = []  # the template's HTML with every tag and variable taken out
    in_translation = in_comment = False
    blocks: list[str] = []  # {% block %} names, innermost last
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name == "block":
                blocks.append(token.contents.split()[1])
            elif name == "endblock" and blocks:
                blocks.pop()
            elif name in ("blocktranslate", "blocktrans"):
                in_translation = True
            elif name in ("endblocktranslate", "endblocktrans"):
                in_translation = False
            elif name == "comment":
                in_comment = True
            elif name == "endcomment":
                in_comment = False
            elif name in ("include", "with") and not in_comment:
                found += [f"{{% {name} … {m.group(0)} %}}" for m in QUOTED_PHRASE.finditer(token.contents)]
        elif token.token_type == TokenType.VAR and not in_comment:
            found += [
                f"{{{{ …{m.group(0)} }}}}"
                for m in SHOWN_FILTER_ARGUMENT.finditer(token.contents)
                if LETTER.search(m.group(1)) and m.group(1) not in DATA_VALUES
            ]
        elif token.token_type == TokenType.TEXT and not (in_translation or in_comment or _in_class(blocks)):
            skeleton.append(token.contents)
    parser = _Text()
    parser.feed("".join(skeleton))
    parser.close()
    return found + parser.found


def _checked_templates() -> list[Path]:
    return [
        path
        for path in sorted(TEMPLATES.rglob("*.html"))
        if not path.relative_to(TEMPLATES).as_posix().startswith(NOT_YET_TRANSLATED)
    ]


def test_the_checker_finds_untranslated_words_and_passes_translated_ones() -> None:
    assert untranslated("<p>Hello</p>") == ["Hello"]
    assert untranslated('<a title="Open it" href="{% url \'x\' %}">{% translate "Go" %}</a>') == [
        'title="Open it"'
    ]
    assert untranslated('{{ ok|yesno:"verified,not verified" }}') == ['{{ …|yesno:"verified,not verified" }}']
    assert untranslated('{% include "f.html" with label="Webhook URL" %}') == [
        '{% include … ="Webhook URL" %}'
    ]
    assert untranslated("<td>{{ count }} logs</td>") == ["logs"]
    # What is allowed: translated text, values, code, comments, brand names and punctuation.
    assert untranslated('{% load i18n %}<h1>{% translate "Sign in" %} · Hubdash</h1>') == []
    assert untranslated("{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}") == []
    assert untranslated('{% include "f.html" with label=_("Webhook URL") tab="overview" %}') == []
    assert (
        untranslated("<code>manage.py run_worker</code> {# a note #}{% comment %}Why{% endcomment %}") == []
    )
    assert (
        untranslated('<option value="{{ v }}"{% if x %} selected{% endif %}>{{ label }}</option> — #') == []
    )
    assert untranslated("<script>var x = 'text';</script><td>HTTP {{ status }}</td>") == []
    assert untranslated('<input placeholder="https://…"><input placeholder="9b1e4c2a-55f0-4e3b">') == []
    assert untranslated("<p data-open=\"{{ x|yesno:'true,false' }}\"></p>") == []


@pytest.mark.parametrize(
    "template", _checked_templates(), ids=lambda path: path.relative_to(TEMPLATES).as_posix()
)
def test_every_word_of_the_template_is_translated(template: Path) -> None:
    assert untranslated(template.read_text()) == []


def test_the_not_yet_translated_list_names_templates_that_exist() -> None:
    for prefix in NOT_YET_TRANSLATED:
        assert any(
            path.relative_to(TEMPLATES).as_posix().startswith(prefix) for path in TEMPLATES.rglob("*.html")
        )


# --- The .po files ---------------------------------------------------------------------------------


def read_po(path: Path) -> dict[tuple[str | None, str, str | None], tuple[list[str], bool]]:
    """{(context, msgid, msgid_plural): ([msgstr, …], fuzzy)} of a .po file (the header left out)."""
    entries: dict[tuple[str | None, str, str | None], tuple[list[str], bool]] = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        fuzzy, last = False, ""
        for line in block.splitlines():
            if line.startswith("#,"):
                fuzzy = fuzzy or "fuzzy" in line
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[last] += ast.literal_eval(line)
            elif line.strip():
                last, value = line.split(" ", 1)
                fields[last] = ast.literal_eval(value)
        if fields.get("msgid"):
            strings = [fields[key] for key in sorted(fields) if key.startswith("msgstr")]
            entries[(fields.get("msgctxt"), fields["msgid"], fields.get("msgid_plural"))] = (strings, fuzzy)
    return entries


CATALOGS = sorted(LOCALE.glob("*/LC_MESSAGES/*.po"))


def test_there_is_a_portuguese_catalog_for_python_templates_and_scripts() -> None:
    assert {path.relative_to(LOCALE).as_posix() for path in CATALOGS} >= {
        "pt_BR/LC_MESSAGES/django.po",
        "pt_BR/LC_MESSAGES/djangojs.po",
    }


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.relative_to(LOCALE).as_posix())
def test_every_message_is_translated(catalog: Path) -> None:
    entries = read_po(catalog)
    assert entries
    untranslated_messages = [key for key, (strings, fuzzy) in entries.items() if fuzzy or not all(strings)]
    assert untranslated_messages == [], f"translate these in {catalog} (and drop any fuzzy flag)"


@pytest.mark.parametrize("catalog", CATALOGS, ids=lambda path: path.relative_to(LOCALE).as_posix())
def test_the_compiled_catalog_is_up_to_date(catalog: Path) -> None:
    compiled = catalog.with_suffix(".mo")
    # `make` compiles them (the .mo files are not committed); a stale one would show old translations.
    assert compiled.exists() and compiled.stat().st_mtime >= catalog.stat().st_mtime, (
        f"{compiled} is missing or older than its .po: run the tests with `make test` (it compiles them)"
    )


@pytest.fixture(scope="module")
def fresh_catalogs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`makemessages` run on a copy of the sources (it writes into locale/, which must stay as committed)."""
    if shutil.which("xgettext") is None:
        pytest.fail("GNU gettext is missing: apt-get install -y gettext")
    copy = tmp_path_factory.mktemp("makemessages") / "src"
    shutil.copytree(
        settings.BASE_DIR,
        copy,
        ignore=shutil.ignore_patterns(
            ".*", "var", "staticfiles", "docs", "tests", "bench", "test-artifacts", "*.egg-info", "*.mo",
            "__pycache__", "*.sqlite3*",
        ),
    )  # fmt: skip
    for domain in ("django", "djangojs"):
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "pt_BR", "-d", domain, "-v", "0"],
            cwd=copy,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return copy / "locale"


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_makemessages_finds_no_message_missing_from_the_committed_catalog(
    fresh_catalogs: Path, domain: str
) -> None:
    committed = set(read_po(LOCALE / "pt_BR" / "LC_MESSAGES" / f"{domain}.po"))
    fresh = set(read_po(fresh_catalogs / "pt_BR" / "LC_MESSAGES" / f"{domain}.po"))
    assert sorted(fresh - committed, key=str) == [], "run `make messages` and translate the new messages"
    assert sorted(committed - fresh, key=str) == [], "run `make messages`: these messages are no longer used"
