"""English and Brazilian Portuguese: the language comes from the user's profile, else the browser's
Accept-Language; what the Hub or a customer wrote is shown as written."""

from __future__ import annotations

import pytest
from django.test import Client

from channels_app.actions.preferences import do_update_preferences
from tests.conftest import login


def _portuguese(user, zone: str = "America/Sao_Paulo") -> Client:
    do_update_preferences(actor=user, language="pt-br", time_zone=zone)
    return login(user)


@pytest.mark.django_db
def test_a_portuguese_browser_gets_a_portuguese_sign_in_page() -> None:
    page = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="pt-BR,pt;q=0.9,en;q=0.5")
    body = page.content.decode()
    assert '<html lang="pt-br" ' in body
    assert "<title>Entrar · Hubdash</title>" in body
    assert "Nome de usuário" in body and "Senha" in body
    assert page["Content-Language"] == "pt-br"
    # Control: the same page for an English browser, and for one that asks for neither language.
    for header in ("en-US,en;q=0.9", "de-DE"):
        english = Client().get("/accounts/login/", HTTP_ACCEPT_LANGUAGE=header).content.decode()
        assert "<title>Sign in · Hubdash</title>" in english and "Nome de usuário" not in english


@pytest.mark.django_db
def test_a_failed_sign_in_is_explained_in_portuguese() -> None:
    response = Client().post(
        "/accounts/login/", {"username": "nobody", "password": "x"}, HTTP_ACCEPT_LANGUAGE="pt-BR"
    )
    assert "O nome de usuário e a senha não conferem." in response.content.decode()


@pytest.mark.django_db
def test_the_settings_speak_portuguese_to_a_portuguese_admin(admin, app_a) -> None:
    client = _portuguese(admin)
    pages = {
        "/settings/": ["Aplicações", "Chave de API do Hub", "Canais ativos", "Chave e canais"],
        f"/settings/applications/{app_a.pk}/": ["Testar conexão", "Cadastrar um canal", "Situação"],
        f"/settings/applications/{app_a.pk}/webhooks/": ["Conectar webhooks", "Eventos sem assinatura"],
        f"/settings/applications/{app_a.pk}/channels/new/": ["UUID do canal no Hub", "Nome de exibição"],
        f"/settings/channels/{app_a.channels.get(kind='sms').pk}/": ["Enviar uma mensagem de teste"],
        "/settings/team/": ["Adicionar alguém à equipe", "Equipe", "administrador"],
        "/settings/team/new/": ["Sobrenome", "Acesso às Aplicações", "Sem acesso"],
        "/settings/audit/": ["Registro de auditoria", "Quando"],
        "/settings/health/": ["Fila de envio", "Última mensagem recebida por canal"],
        "/applications/": ["Formato do destinatário (to)"],
        "/profile/": ["Idioma e fuso horário"],
    }
    for url, texts in pages.items():
        body = client.get(url).content.decode()
        assert '<html lang="pt-br" ' in body, url
        for text in texts:
            assert text in body, (url, text)
        # The settings area's own English words are gone (the top navigation is translated in phase 2).
        for english in (">Team</a>", "Audit log<", "Save name", "Register a channel<", "Send queue"):
            assert english not in body, (url, english)


@pytest.mark.django_db
def test_the_delivery_review_speaks_portuguese(admin, app_a) -> None:
    body = _portuguese(admin).get("/review/").content.decode()
    for text in ("Revisão de entregas", "Exportar CSV", "Só as travadas", "Mediana", "entregue", "lida"):
        assert text in body, text
    assert "Delivery review" not in body and "Export CSV" not in body


@pytest.mark.django_db
def test_flash_messages_are_in_the_users_language(admin, app_a) -> None:
    client = _portuguese(admin)
    channel = app_a.channels.get(kind="sms")
    response = client.post(f"/settings/channels/{channel.pk}/", {"display_name": "SMS Brasil"}, follow=True)
    assert "Canal salvo." in response.content.decode()


@pytest.mark.django_db
def test_agents_are_refused_the_settings_in_their_language(agent_a) -> None:
    client = _portuguese(agent_a)
    response = client.get("/settings/")
    assert response.status_code == 403


@pytest.mark.django_db
def test_the_javascript_catalog_translates_the_page_scripts() -> None:
    portuguese = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert response_is_javascript(Client().get("/jsi18n/"))
    assert '"Copied."' in portuguese and '"Copiado."' in portuguese
    english = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '"Copiado."' not in english


def response_is_javascript(response) -> bool:
    return response.status_code == 200 and response["Content-Type"].startswith("text/javascript")


@pytest.mark.django_db
def test_every_page_loads_the_catalog_before_its_scripts(admin) -> None:
    body = login(admin).get("/settings/health/").content.decode()
    catalog, script = body.index('src="/jsi18n/"'), body.index("js/settings.js")
    assert catalog < script


@pytest.mark.django_db
def test_the_inbox_and_the_thread_speak_portuguese(agent_a, app_a) -> None:
    from conversations.models import Message
    from tests.inbox.inbox_support import add_message, make_conversation

    conversation = make_conversation(app_a, name="Joana", text="Oi, preciso de ajuda")
    add_message(
        conversation,
        content={"type": "text", "text": "Claro!"},
        direction=Message.Direction.OUTBOUND,
        status="delivered",
        author=agent_a,
    )
    client = _portuguese(agent_a)
    body = client.get(f"/conversations/{conversation.pk}/").content.decode()
    for text in (
        "Caixa de entrada",  # the navigation and the heading
        "Sair",
        'aria-label="Entregue"',  # the ticks of the reply
        "Aberta",  # the conversation's status
        "Responder… (Enter envia",
        "Atalhos de teclado",
        "Mensagens com Joana",
        "Oi, preciso de ajuda",  # what the customer wrote, as written
    ):
        assert text in body, text
    for english in (">Inbox<", ">Sign out<", 'aria-label="Delivered"', ">Resolve<", "Keyboard shortcuts"):
        assert english not in body, english
    # Control: the same thread for an English agent.
    do_update_preferences(actor=agent_a, language="en", time_zone="UTC")
    english_body = login(agent_a).get(f"/conversations/{conversation.pk}/").content.decode()
    assert 'aria-label="Delivered"' in english_body and "Caixa de entrada" not in english_body


@pytest.mark.django_db
def test_the_inbox_scripts_texts_are_in_the_catalog() -> None:
    portuguese = Client().get("/jsi18n/", HTTP_ACCEPT_LANGUAGE="pt-BR").content.decode()
    assert '"Reconectando\\u2026"' in portuguese or '"Reconectando…"' in portuguese
    assert "Esta resposta tem %(length)s caracteres" in portuguese
