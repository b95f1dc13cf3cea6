"""Secrets (Hub API keys, signing secrets) are never rendered back once saved."""

import pytest

from channels_app.actions.webhooks import do_store_signing_secret

API_KEY = "hubkey-acme-0000-1111-2222-aaaa"


@pytest.mark.django_db
def test_api_key_is_not_in_the_applications_page(agent_a_client, app_a):
    response = agent_a_client.get("/applications/")
    assert response.status_code == 200
    body = response.content.decode()
    assert app_a.name in body
    assert API_KEY not in body
    assert "••••aaaa" in body


@pytest.mark.django_db
def test_django_admin_never_renders_the_api_key_or_signing_secret(superuser, app_a, client):
    do_store_signing_secret(application=app_a, hub_webhook_id="wh-1", secret="whsec_supersecretvalue123")
    client.force_login(superuser)
    secret_id = app_a.signing_secrets.get().pk
    pages = [
        "/admin/channels_app/application/",
        f"/admin/channels_app/application/{app_a.pk}/change/",
        "/admin/channels_app/signingsecret/",
        f"/admin/channels_app/signingsecret/{secret_id}/change/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert API_KEY not in body, url
        assert "whsec_supersecretvalue123" not in body, url
