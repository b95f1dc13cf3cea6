"""Our stylesheets parse: every block is closed. A rule block left open (a merge dropped the `}` of the
dark-mode `@media`) silently turns every later rule into part of it, and the inbox lost its tabs'
and labels' styles in light mode with no error anywhere."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

STYLESHEETS = sorted((Path(settings.BASE_DIR) / "static" / "css").glob("*.css"))


def unclosed_blocks(css: str) -> list[int]:
    """Line numbers of blocks opened and never closed (and of stray closings, negated)."""
    css = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group().count("\n"), css, flags=re.S)
    css = re.sub(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'', '""', css)
    open_at: list[int] = []
    problems: list[int] = []
    for number, line in enumerate(css.split("\n"), 1):
        for char in line:
            if char == "{":
                open_at.append(number)
            elif char == "}":
                if open_at:
                    open_at.pop()
                else:
                    problems.append(-number)
    return problems + open_at


def test_the_checker_finds_an_unclosed_block() -> None:
    assert unclosed_blocks("@media (x) {\n  a { b: c; }\nd { e: f; }\n") == [1]
    assert unclosed_blocks("a { content: '}'; }\n/* { */\n") == []
    assert unclosed_blocks("a { b: c; }\n}\n") == [-2]


@pytest.mark.parametrize("path", STYLESHEETS, ids=lambda p: p.name)
def test_every_block_of_the_stylesheet_is_closed(path: Path) -> None:
    assert unclosed_blocks(path.read_text()) == [], f"{path.name}: blocks opened at these lines never close"
