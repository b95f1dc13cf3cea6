"""Webhook management (hub-api.md §5) and the endpoint verification handshake (§4.5)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import HubClient, Receiver

WEBHOOK_FIELDS = {
    "id",
    "applicationId",
    "active",
    "label",
    "eventType",
    "endpoint",
    "numberOfErrors",
    "authenticationProtocol",
    "scope",
    "isVerified",
    "verifiedAt",
    "requiresSignature",
    "createdDate",
    "lastModifiedDate",
}


def test_create_answers_201_with_exactly_the_documented_fields(
    client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver()
    answer = client.create_webhook(
        receiver.url, "Message", headers=[{"key": "X-Dashboard-Token", "value": "s3cr3t"}]
    )
    assert answer.status == 201
    assert set(answer.body) == WEBHOOK_FIELDS  # no signingSecret without requiresSignature
    assert answer.body["applicationId"] == app["id"]
    assert answer.body["active"] is True
    assert answer.body["numberOfErrors"] == 0
    assert "s3cr3t" not in answer.raw.decode()  # custom header values are never echoed back


def test_create_with_requires_signature_returns_the_secret_once(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    answer = client.create_webhook(make_receiver().url, "Message", requiresSignature=True)
    assert answer.body["requiresSignature"] is True
    assert answer.body["signingSecret"].startswith("whsec_")
    fetched = client.call("GET", f"/v1/organization/webhook/{answer.body['id']}")
    assert "signingSecret" not in fetched.body


@pytest.mark.parametrize("missing", ["label", "endpoint", "eventType", "authenticationProtocol"])
def test_create_requires_the_documented_fields(client: HubClient, missing: str) -> None:
    body = {
        "label": "x",
        "endpoint": "https://dash.example.org/hub/webhook/",
        "eventType": "Message",
        "authenticationProtocol": "NoAuthentication",
    }
    del body[missing]
    answer = client.call("POST", "/v1/organization/webhook", body)
    assert answer.status == 400
    assert missing in answer.body["errorMessage"]


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": "ftp://dash.example.org/hook"},
        {"endpoint": "/hub/webhook/"},
        {"eventType": "Messages"},
        {"authenticationProtocol": "Basic"},
        {"headers": [{"key": "X-Token"}]},
        {"requiresSignature": "yes"},
        {"applicationId": "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f"},
    ],
)
def test_create_rejects_invalid_values(client: HubClient, change: dict[str, Any]) -> None:
    body = {
        "label": "x",
        "endpoint": "https://dash.example.org/hub/webhook/",
        "eventType": "Message",
        "authenticationProtocol": "NoAuthentication",
        **change,
    }
    assert client.call("POST", "/v1/organization/webhook", body).status == 400


def test_list_is_paginated_with_offset_and_limit(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver()
    ids = [client.create_webhook(receiver.url, "Message").body["id"] for _ in range(5)]
    page = client.call("GET", "/v1/organization/webhook?offset=2&limit=2")
    assert page.status == 200
    assert [w["id"] for w in page.body["data"]] == ids[2:4]
    assert page.body["pagination"] == {"offset": 2, "limit": 2, "total": 5, "totalPages": 3}
    default = client.call("GET", "/v1/organization/webhook")
    assert default.body["pagination"]["limit"] == 20


@pytest.mark.parametrize("query", ["limit=0", "limit=51", "offset=-1", "limit=abc"])
def test_list_rejects_out_of_range_pagination(client: HubClient, query: str) -> None:
    assert client.call("GET", f"/v1/organization/webhook?{query}").status == 400


def test_another_applications_webhook_is_404_everywhere(
    client: HubClient, other_client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    webhook_id = client.create_webhook(make_receiver().url).body["id"]
    base = f"/v1/organization/webhook/{webhook_id}"
    assert other_client.call("GET", base).status == 404
    assert other_client.call("PATCH", base, {"label": "mine now"}).status == 404
    assert other_client.call("DELETE", base).status == 404
    assert other_client.call("POST", base + "/redefine-signature").status == 404
    assert other_client.call("GET", base + "/webhook-log").status == 404
    assert other_client.call("GET", "/v1/organization/webhook").body["data"] == []
    assert client.call("GET", base).status == 200


def test_patch_is_partial_and_delete_answers_204(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    created = client.create_webhook(make_receiver().url).body
    base = f"/v1/organization/webhook/{created['id']}"
    patched = client.call("PATCH", base, {"label": "renamed", "active": False})
    assert patched.status == 200
    assert patched.body["label"] == "renamed"
    assert patched.body["active"] is False
    assert patched.body["endpoint"] == created["endpoint"]
    assert patched.body["isVerified"] is True  # endpoint untouched: no re-verification
    deleted = client.call("DELETE", base)
    assert deleted.status == 204
    assert deleted.raw == b""
    assert client.call("GET", base).status == 404


def test_patch_requires_signature_issues_a_new_secret(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    created = client.create_webhook(make_receiver().url, requiresSignature=True).body
    patched = client.call("PATCH", f"/v1/organization/webhook/{created['id']}", {"requiresSignature": True})
    assert patched.body["signingSecret"].startswith("whsec_")
    assert patched.body["signingSecret"] != created["signingSecret"]
    turned_off = client.call(
        "PATCH", f"/v1/organization/webhook/{created['id']}", {"requiresSignature": False}
    )
    assert "signingSecret" not in turned_off.body
    assert turned_off.body["requiresSignature"] is False


def test_redefine_signature_returns_a_fresh_secret(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    created = client.create_webhook(make_receiver().url, requiresSignature=True).body
    answer = client.call("POST", f"/v1/organization/webhook/{created['id']}/redefine-signature")
    assert answer.status == 200
    assert set(answer.body) == {"signingSecret"}
    assert answer.body["signingSecret"] != created["signingSecret"]


@pytest.mark.parametrize("mode", ["json", "raw"])
def test_the_handshake_accepts_the_token_as_raw_text_or_json_string(
    client: HubClient, make_receiver: Callable[..., Receiver], mode: str
) -> None:
    receiver = make_receiver(mode=mode)
    answer = client.create_webhook(receiver.url, headers=[{"key": "X-Dashboard-Token", "value": "s3cr3t"}])
    assert answer.body["isVerified"] is True
    assert answer.body["verifiedAt"]
    (handshake,) = receiver.handshakes
    assert handshake.body == b"{}"
    assert handshake.headers["x-dashboard-token"] == "s3cr3t"  # custom headers travel with the handshake
    assert len(handshake.headers["x-validation-token"]) >= 32


def test_a_wrong_handshake_answer_leaves_the_webhook_unverified_and_eventless(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver(mode="wrong")
    answer = client.create_webhook(receiver.url, "Message")
    assert answer.body["isVerified"] is False
    assert answer.body["verifiedAt"] is None
    result = hub.customer_message(channel_id=app["by_kind"]["whatsapp"]["id"])
    assert result["deliveries"] == []
    assert receiver.events == []


def test_an_unreachable_endpoint_is_not_verified(client: HubClient) -> None:
    answer = client.create_webhook("http://127.0.0.1:9/hub/webhook/")
    assert answer.status == 201
    assert answer.body["isVerified"] is False


def test_a_slow_endpoint_times_out_instead_of_blocking_the_create(
    hub: HubSandbox, client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    hub.configure(verificationTimeoutSeconds=0.2)
    receiver = make_receiver(delay=1.0)
    started = time.monotonic()
    answer = client.create_webhook(receiver.url)
    assert time.monotonic() - started < 0.9
    assert answer.body["isVerified"] is False


def test_changing_the_endpoint_re_runs_verification_with_a_new_token(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    first = make_receiver()
    created = client.create_webhook(first.url).body
    broken = make_receiver(mode="wrong")
    patched = client.call("PATCH", f"/v1/organization/webhook/{created['id']}", {"endpoint": broken.url})
    assert patched.body["isVerified"] is False
    fixed = make_receiver()
    repatched = client.call("PATCH", f"/v1/organization/webhook/{created['id']}", {"endpoint": fixed.url})
    assert repatched.body["isVerified"] is True
    tokens = {
        r.headers["x-validation-token"] for r in first.handshakes + broken.handshakes + fixed.handshakes
    }
    assert len(tokens) == 3


def test_an_inactive_webhook_receives_no_events(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    client.call("PATCH", f"/v1/organization/webhook/{message_hook.webhook['id']}", {"active": False})  # type: ignore[attr-defined]
    assert hub.customer_message(channel_id=app["by_kind"]["sms"]["id"])["deliveries"] == []


def test_the_sandbox_can_re_verify_a_webhook_on_request(
    hub: HubSandbox, client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    receiver = make_receiver(mode="wrong")
    created = client.create_webhook(receiver.url).body
    receiver.mode = "json"
    assert hub.verify_webhook(created["id"])["isVerified"] is True
    assert hub.verifications()[-1]["isVerified"] is True


def test_a_redirect_is_a_failed_delivery_not_followed(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    message_hook.status = 301
    (log,) = hub.customer_message(channel_id=app["by_kind"]["whatsapp"]["id"])["deliveries"]
    assert log["status"] == "Failed"
    assert log["statusCode"] == 301


def test_message_events_reach_only_the_owning_application(
    hub: HubSandbox,
    client: HubClient,
    other_client: HubClient,
    app: dict[str, Any],
    other_app: dict[str, Any],
    make_receiver: Callable[..., Receiver],
) -> None:
    mine, theirs = make_receiver(), make_receiver()
    client.create_webhook(mine.url)
    other_client.create_webhook(theirs.url)
    hub.customer_message(channel_id=app["by_kind"]["telegram"]["id"], content={"type": "text", "text": "oi"})
    assert len(mine.events) == 1
    assert theirs.events == []
    assert json.loads(mine.events[0].body)["channelId"] == app["by_kind"]["telegram"]["id"]
