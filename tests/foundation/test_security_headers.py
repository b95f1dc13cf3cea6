"""What every response tells the browser: a Content-Security-Policy that lets no injected script run, no
caching of a signed-in user's pages, no referrer to other sites, no MIME sniffing; HTTPS rules in
production; and no password-reset pages while no email can be sent."""

import re

import pytest
from django.core import mail
from django.test import Client

from tests.conftest import login
from tests.inbox.inbox_support import make_conversation

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
RESET_PAGES = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


@pytest.fixture
def signed_in_pages(admin, app_a) -> list[tuple[Client, str]]:
    conversation = make_conversation(app_a, name="Maria")
    client = login(admin)
    return [
        (client, "/"),
        (client, f"/conversations/{conversation.pk}/"),
        (client, "/applications/"),
        (client, "/review/"),
        (client, "/settings/"),
        (client, f"/settings/applications/{app_a.pk}/"),
    ]


@pytest.mark.django_db
def test_pages_carry_a_policy_that_allows_scripts_only_from_our_own_files(signed_in_pages):
    for client, url in [*signed_in_pages, (Client(), "/accounts/login/")]:
        response = client.get(url)
        assert response.status_code == 200, url
        policy = directives(response)
        assert policy["script-src"] == ["'self'"], url
        assert policy["default-src"] == ["'self'"]
        assert policy["object-src"] == ["'none'"]
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["base-uri"] == ["'self'"]
        # The live inbox's websocket is same-origin: CSP's 'self' covers ws:/wss: of this host.
        assert policy["connect-src"] == ["'self'"]
        assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


@pytest.mark.django_db
def test_pages_have_no_inline_script_the_policy_would_block(signed_in_pages):
    for client, url in [*signed_in_pages, (Client(), "/accounts/login/")]:
        page = client.get(url).content.decode()
        assert INLINE_SCRIPT.findall(page) == [], url
        assert EVENT_HANDLER_ATTRIBUTE.findall(page) == [], url
        # htmx would inject an inline <style> for its indicators and evaluate hx-on attributes as code.
        assert (
            """<meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false}'>"""
            in page
        )


@pytest.mark.django_db
def test_a_signed_in_users_pages_are_never_stored(signed_in_pages):
    for client, url in signed_in_pages:
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control, url
        assert "private" in cache_control


@pytest.mark.django_db
def test_static_files_stay_cacheable(admin):
    # The control: the same signed-in client gets a static file without no-store.
    response = login(admin).get("/static/css/app.css")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
    assert b".htmx-indicator" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_pages_send_no_referrer_to_other_sites_and_forbid_mime_sniffing(agent_a_client):
    for response in (agent_a_client.get("/"), Client().get("/accounts/login/")):
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_production_redirects_to_https_and_sends_hsts(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    client = Client()

    plain = client.get("/accounts/login/")
    secure = client.get("/accounts/login/", secure=True)

    assert plain.status_code == 301 and plain["Location"] == "https://testserver/accounts/login/"
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db
@pytest.mark.parametrize("url", RESET_PAGES)
def test_password_reset_pages_do_not_exist_without_email(settings, url):
    settings.EMAIL_URL = ""

    assert Client().get(url).status_code == 404


@pytest.mark.django_db
def test_with_email_configured_a_password_reset_is_sent(settings, agent_a):
    # The control: the same pages work once email can leave.
    settings.EMAIL_URL = "smtp://mail.example.org:25"
    client = Client()

    assert client.get("/accounts/password_reset/").status_code == 200
    response = client.post("/accounts/password_reset/", {"email": agent_a.email})

    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    assert client.get("/accounts/password_reset/done/").status_code == 200
    assert [message.to for message in mail.outbox] == [[agent_a.email]]
