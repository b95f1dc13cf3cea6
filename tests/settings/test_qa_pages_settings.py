"""What the QA pass saw on the settings pages, in Portuguese: the webhooks' "verified" column, the audit
log worded for its reader (while the entries keep what they stored), and the error pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template import loader
from django.test import Client
from django.utils import translation

from channels_app import audit
from channels_app.actions.preferences import do_update_preferences
from channels_app.models import AuditEntry, HubWebhook
from tests.conftest import login


def _client(user, language: str = "pt-br") -> Client:
    do_update_preferences(actor=user, language=language, time_zone="America/Sao_Paulo")
    return login(user)


def _text(html: str) -> str:
    """What a reader sees: the page without its tags and attributes."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "word"), [("pt-br", "verificado"), ("en", "verified")])
def test_a_verified_webhook_says_so_in_words(admin, app_a, language, word) -> None:
    HubWebhook.objects.create(
        application=app_a,
        event_type="Message",
        hub_id="wh-1",
        endpoint="https://x.example/h",
        is_verified=True,
    )
    page = _client(admin, language).get(f"/settings/applications/{app_a.pk}/webhooks/").content.decode()
    assert f'<span class="pill ok">{word}</span>' in page
    assert "isVerified" not in page


@pytest.fixture
def entries(superuser, app_a):
    """A reader in Portuguese (an entry of its own: preferences.updated) and entries of several kinds."""
    client = _client(superuser)
    audit.record(
        actor=superuser,
        action="label.created",
        application=app_a,
        target_type="label",
        target_repr="billing",
        changes={"name": {"from": None, "to": "billing"}, "colour": {"from": None, "to": "#1c7ed6"}},
    )
    audit.record(
        actor=superuser,
        action="canned_reply.created",
        application=app_a,
        target_type="cannedreply",
        target_repr="/hello",
        changes={"code": {"from": None, "to": "hello"}, "title": {"from": None, "to": "Oi"}},
    )
    audit.record_for_webhooks(
        actor=superuser,
        action="webhooks.connected",
        application=app_a,
        changes={
            "Message hub_id": {"from": None, "to": "wh-1"},
            "Message is_verified": {"from": None, "to": True},
            "Message signing secret": {"from": None, "to": audit.CHANGED},
        },
    )
    return client


@pytest.mark.django_db
def test_the_audit_log_is_worded_in_the_readers_language(entries) -> None:
    text = _text(entries.get("/settings/audit/").content.decode())
    for shown in [
        "Preferências alteradas root",  # the action, then its target (the reader, "root")
        "Idioma : — → Português (Brasil)",
        "Fuso horário : — → America/Sao_Paulo",
        "Etiqueta criada billing",
        "Cor : — → Azul",
        "Resposta pronta criada /hello",
        "Código : — → hello",
        "Título : — → Oi",
        "Webhooks conectados",
        "Message · Id no Hub : — → wh-1",
        "Message · Verificado : — → sim",
        "Message · Segredo de assinatura : — → alterado",
    ]:
        assert shown in text
    for raw in ["preferences.updated", "label.created", "language :", "time_zone", "colour", "is_verified"]:
        assert raw not in text
    assert "changed" not in text


@pytest.mark.django_db
def test_the_application_filter_is_feminine_in_portuguese(entries) -> None:
    page = entries.get("/settings/audit/").content.decode()
    assert '<option value="">Todas</option>' in page


@pytest.mark.django_db
def test_the_entries_keep_what_they_stored(entries) -> None:
    entries.get("/settings/audit/")
    stored = AuditEntry.objects.get(action="webhooks.connected").changes
    assert stored["Message signing secret"] == {"from": None, "to": "changed"}
    assert set(AuditEntry.objects.get(action="preferences.updated").changes) == {"language", "time_zone"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/settings/", "/review/"])
def test_a_forbidden_page_is_a_page_of_the_app_in_the_readers_language(agent_a, path) -> None:
    response = _client(agent_a).get(path)
    page = response.content.decode()
    assert response.status_code == 403
    assert '<html lang="pt-br"' in page
    assert 'class="topnav"' in page  # the navigation is there
    assert "Você não pode abrir esta página" in page
    assert "Voltar para a caixa de entrada</a>" in page


@pytest.mark.django_db
def test_a_missing_page_is_a_page_of_the_app(agent_a, settings) -> None:
    settings.DEBUG = False
    response = _client(agent_a).get("/conversations/999999/")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="pt-br"' in page
    assert "Página não encontrada" in page
    assert 'class="topnav"' in page


def test_the_server_error_page_renders_with_nothing_but_the_language() -> None:
    # As django.views.defaults.server_error does: no request, no context processors, no database.
    with translation.override("pt-br"):
        page = loader.get_template("500.html").render()
    assert '<html lang="pt-br">' in page
    assert "Algo deu errado" in page
    assert 'href="/"' in page


def test_only_column_headers_are_upper_cased() -> None:
    css = (Path(settings.BASE_DIR) / "static/css/app.css").read_text()
    rules = re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    upper = [sel.strip() for sel, body in rules if "uppercase" in body and "th" in sel]
    assert upper  # control: the column headers still are
    for selectors in upper:
        for selector in selectors.split(","):
            # A bare `.table th` would also reach <th scope="row">: /hello would read /HELLO.
            assert "thead" in selector or "scope=col" in selector, selector


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "word"), [("pt-br", "Resposta"), ("en", "Reply")])
def test_a_canned_replys_text_is_named_as_a_noun(admin, app_a, language, word) -> None:
    """The composer's "Reply" is the verb (Responder); a canned reply's text, in the list's column and the
    form's field, is the noun (Resposta)."""
    html = _client(admin, language).get(f"/settings/applications/{app_a.pk}/canned-replies/").content.decode()

    headers = re.findall(r'<th scope="col">([^<]*)</th>', html)
    assert word in headers
    assert re.search(rf'<label for="id_body"[^>]*>\s*{word}\b', html)


@pytest.mark.django_db
@pytest.mark.parametrize("page", ["canned-replies", "labels"])
def test_the_settings_forms_labels_have_no_trailing_colon(admin, app_a, page) -> None:
    """Labels sit above their inputs and read as every other settings label does (SettingsForm)."""
    html = login(admin).get(f"/settings/applications/{app_a.pk}/{page}/").content.decode()

    labels = [text.strip() for text in re.findall(r"<label for=\"id_[^\"]+\"[^>]*>([^<]*)</label>", html)]
    assert labels  # control: the form's labels were found
    assert [text for text in labels if text.endswith(":")] == []
