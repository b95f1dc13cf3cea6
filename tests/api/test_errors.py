"""Every error of the API has one shape, {"error": {"code", "message", "fields"}}, and nothing is
half-stored: validation, unknown fields, wrong types, oversize bodies, 404s, 405, throttling, 500."""

from __future__ import annotations

import pytest

from conversations.models import Message
from tests.api.api_support import Api, error_of, token_for

pytestmark = pytest.mark.django_db


def test_unknown_fields_are_refused_by_name(api_agent_a, conversation_a):
    response = api_agent_a.post(
        f"/api/v1/conversations/{conversation_a.pk}/status/", {"status": "resolved", "colour": "red"}
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["fields"] == {"colour": ["Unknown field."]}
    conversation_a.refresh_from_db()
    assert conversation_a.status == "open"  # nothing half-done


@pytest.mark.parametrize("value", [None, 3, True, ["resolved"], {"a": 1}, "no-such-status"])
def test_a_wrong_type_or_value_names_the_field(api_agent_a, conversation_a, value):
    response = api_agent_a.post(f"/api/v1/conversations/{conversation_a.pk}/status/", {"status": value})

    assert response.status_code == 400
    assert list(error_of(response)["fields"]) == ["status"]


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "12", "null"])
def test_a_body_that_is_not_an_object_is_refused(api_agent_a, conversation_a, body):
    response = api_agent_a.post(f"/api/v1/conversations/{conversation_a.pk}/status/", body)

    assert response.status_code == 400
    assert error_of(response)["code"] in ("invalid", "parse_error")


def test_malformed_json_is_a_parse_error(api_agent_a, conversation_a):
    response = api_agent_a.post(f"/api/v1/conversations/{conversation_a.pk}/status/", '{"status": ')

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_a_body_that_is_not_json_is_a_415(api_agent_a, conversation_a):
    response = api_agent_a.client.post(
        f"/api/v1/conversations/{conversation_a.pk}/status/",
        {"status": "resolved"},
        headers=api_agent_a.headers,
    )

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_an_oversize_body_is_refused_before_anything_is_stored(api_agent_a, conversation_a, settings):
    settings.API_MAX_BODY_BYTES = 1000
    path = f"/api/v1/conversations/{conversation_a.pk}/messages/"

    response = api_agent_a.post(path, {"text": "x" * 2000}, **{"Idempotency-Key": "big"})

    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert not Message.objects.filter(direction="out").exists()
    assert (
        api_agent_a.post(path, {"text": "small"}, **{"Idempotency-Key": "ok"}).status_code == 201
    )  # control


def test_an_unknown_object_and_an_unknown_url_are_the_same_404(api_agent_a):
    unknown_object = api_agent_a.get("/api/v1/conversations/999999/")
    unknown_url = api_agent_a.get("/api/v1/no/such/thing/")

    assert unknown_object.status_code == unknown_url.status_code == 404
    assert error_of(unknown_object)["code"] == error_of(unknown_url)["code"] == "not_found"


def test_a_wrong_method_is_a_405(api_agent_a):
    response = api_agent_a.delete("/api/v1/conversations/")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_each_token_is_throttled_on_its_own_with_retry_after(agent_a, settings):
    settings.API_THROTTLE_RATE = "3/min"
    first, second = Api(token_for(agent_a)), Api(token_for(agent_a, name="second"))

    answers = [first.get("/api/v1/me/").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    refused = first.get("/api/v1/me/")
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert error_of(refused)["code"] == "throttled"
    assert second.get("/api/v1/me/").status_code == 200  # another token has its own budget


def test_a_server_error_has_the_shape_and_hides_the_internals(api_agent_a, monkeypatch):
    def broken(user):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("integrations.api.endpoints.account.roles_of", broken)

    response = api_agent_a.get("/api/v1/me/")

    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "server_error"
    assert "secret internals" not in response.content.decode()
