"""Who may call the API: personal tokens (created, listed, revoked on the profile page; stored hashed,
shown once) and the browser's session. Anything else is a 401 in the one error shape."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from integrations.models import ApiToken
from tests.api.api_support import Api, error_of, token_for
from tests.conftest import login

pytestmark = pytest.mark.django_db

ME = "/api/v1/me/"


def test_a_token_acts_as_its_user(agent_a, app_a):
    response = Api(token_for(agent_a)).get(ME)

    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["authenticated_by"]) == ("alice", "token")
    assert body["applications"] == [{"id": app_a.pk, "name": app_a.name, "role": "agent"}]


def test_the_browser_session_works_too(agent_a):
    response = login(agent_a).get(ME)

    assert response.status_code == 200
    assert response.json()["authenticated_by"] == "session"


def test_no_credentials_is_a_401_that_asks_for_a_bearer_token(db):
    response = Api().get(ME)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert error_of(response)["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "header",
    ["Bearer hd_not-a-token", "Bearer", "Bearer a b", "Bearer hd_" + "x" * 300, "Bearer \u00e9t\u00e9"],
)
def test_an_unknown_or_malformed_token_is_a_401(db, header):
    response = Client().get(ME, headers={"Authorization": header})

    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_a_revoked_token_stops_working_at_once(agent_a):
    raw = token_for(agent_a)
    api = Api(raw)
    assert api.get(ME).status_code == 200  # the control
    page = login(agent_a)
    token = ApiToken.objects.get(user=agent_a)

    page.post(f"/profile/api-tokens/{token.pk}/revoke/")

    response = api.get(ME)
    assert response.status_code == 401
    assert error_of(response)["message"] == "Invalid, expired or revoked token."


def test_an_expired_token_is_refused(agent_a):
    raw = token_for(agent_a, expires_at=timezone.now() + timedelta(days=1))
    assert Api(raw).get(ME).status_code == 200
    ApiToken.objects.filter(user=agent_a).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert Api(raw).get(ME).status_code == 401


def test_a_deactivated_users_token_is_refused(agent_a):
    raw = token_for(agent_a)
    agent_a.is_active = False
    agent_a.save(update_fields=["is_active"])

    assert Api(raw).get(ME).status_code == 401


def test_the_profile_page_shows_a_new_token_once_and_stores_only_its_digest(agent_a):
    page = login(agent_a)

    created = page.post("/profile/api-tokens/", {"name": "CRM sync", "expires": "30"})

    assert created.status_code == 200
    raw = re.search(r'value="(hd_[A-Za-z0-9_-]+)"', created.content.decode()).group(1)
    token = ApiToken.objects.get(user=agent_a)
    assert token.name == "CRM sync" and token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiToken.objects.filter(pk=token.pk).values().first())
    assert 29 <= (token.expires_at - timezone.now()).days <= 30
    listed = page.get("/profile/api-tokens/").content.decode()
    assert "CRM sync" in listed and token.prefix in listed and raw not in listed  # never shown again
    assert Api(raw).get(ME).status_code == 200


def test_the_list_says_when_a_token_was_last_used(agent_a):
    raw = token_for(agent_a, name="Reporting")
    page = login(agent_a)
    assert "never" in page.get("/profile/api-tokens/").content.decode()

    Api(raw).get(ME)

    token = ApiToken.objects.get(user=agent_a)
    assert token.last_used_at is not None
    assert (
        timezone.localtime(token.last_used_at).strftime("%Y")
        in page.get("/profile/api-tokens/").content.decode()
    )


def test_a_token_needs_a_name(agent_a):
    response = login(agent_a).post("/profile/api-tokens/", {"name": "  ", "expires": "30"})

    assert response.status_code == 200
    assert not ApiToken.objects.exists()


def test_nobody_revokes_someone_elses_token(agent_a, agent_b):
    raw = token_for(agent_a)
    token = ApiToken.objects.get(user=agent_a)

    response = login(agent_b).post(f"/profile/api-tokens/{token.pk}/revoke/")

    assert response.status_code == 404
    assert Api(raw).get(ME).status_code == 200


def test_a_session_write_needs_the_csrf_token(agent_a, conversation_a):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(agent_a)

    response = browser.post(
        f"/api/v1/conversations/{conversation_a.pk}/status/",
        {"status": "resolved"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]
    conversation_a.refresh_from_db()
    assert conversation_a.status == "open"


def test_a_token_write_needs_no_csrf_token(agent_a, conversation_a):
    api = Api(token_for(agent_a), client=Client(enforce_csrf_checks=True))

    response = api.post(f"/api/v1/conversations/{conversation_a.pk}/status/", {"status": "resolved"})

    assert response.status_code == 200
