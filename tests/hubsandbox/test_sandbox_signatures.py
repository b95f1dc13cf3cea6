"""Signed deliveries, checked by a verifier written here from hub-api.md §4.6 alone."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import HubClient, Receiver


def independent_verify(raw_body: bytes, header: str, secret: str, max_skew: int = 300) -> bool:
    """§4.6: `t=<unix>,v1=<hex>`; v1 = HMAC-SHA256(secret, "<t>.<raw body>"); reject |now - t| > 300 s."""
    fields: dict[str, list[str]] = {}
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if sep:
            fields.setdefault(name, []).append(value)
    if len(fields.get("t", [])) != 1 or not fields.get("v1"):
        return False
    timestamp = fields["t"][0]
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_skew:
        return False
    message = timestamp.encode() + b"." + raw_body
    expected = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, candidate.lower()) for candidate in fields["v1"])


def signed_hook(client: HubClient, make_receiver: Callable[..., Receiver]) -> tuple[Receiver, dict[str, Any]]:
    receiver = make_receiver()
    created = client.create_webhook(receiver.url, "Message", requiresSignature=True).body
    assert created["isVerified"] is True
    return receiver, created


def test_a_signed_delivery_verifies_with_the_independent_verifier(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver, created = signed_hook(client, make_receiver)
    hub.customer_message(
        channel_id=app["by_kind"]["whatsapp"]["id"], content={"type": "text", "text": "Olá, ção"}
    )
    (event,) = receiver.events
    assert independent_verify(event.body, event.headers["x-hub-signature"], created["signingSecret"])


def test_a_tampered_body_fails_verification(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver, created = signed_hook(client, make_receiver)
    hub.customer_message(channel_id=app["by_kind"]["sms"]["id"], content={"type": "text", "text": "pay 10"})
    (event,) = receiver.events
    tampered = event.body.replace(b"pay 10", b"pay 99")
    assert not independent_verify(tampered, event.headers["x-hub-signature"], created["signingSecret"])
    assert not independent_verify(event.body, event.headers["x-hub-signature"], "whsec_wrong")


def test_the_body_is_compact_utf8_json(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver, _ = signed_hook(client, make_receiver)
    hub.customer_message(
        channel_id=app["by_kind"]["telegram"]["id"], content={"type": "text", "text": "ação ✓"}
    )
    (event,) = receiver.events
    payload = json.loads(event.body)
    assert event.body == json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    assert "ação ✓".encode() in event.body
    assert event.headers["content-type"] == "application/json"
    assert list(payload) == ["eventType", "channelId", "messageId", "from", "timestamp", "channel", "content"]


def test_the_handshake_is_signed_when_signatures_are_on(
    client: HubClient, make_receiver: Callable[..., Receiver]
) -> None:
    receiver, created = signed_hook(client, make_receiver)
    # The secret is only known after the create answers, so the check happens afterwards.
    (handshake,) = receiver.handshakes
    assert independent_verify(handshake.body, handshake.headers["x-hub-signature"], created["signingSecret"])


def test_unsigned_webhooks_get_no_signature_header(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    hub.customer_message(channel_id=app["by_kind"]["whatsapp"]["id"])
    assert "x-hub-signature" not in message_hook.events[0].headers


def test_after_redefine_signature_only_the_new_secret_verifies(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver, created = signed_hook(client, make_receiver)
    new_secret = client.call("POST", f"/v1/organization/webhook/{created['id']}/redefine-signature").body[
        "signingSecret"
    ]
    hub.customer_message(channel_id=app["by_kind"]["whatsapp"]["id"])
    (event,) = receiver.events
    assert independent_verify(event.body, event.headers["x-hub-signature"], new_secret)
    assert not independent_verify(event.body, event.headers["x-hub-signature"], created["signingSecret"])


def test_a_retry_resends_the_same_bytes_signed_with_a_fresh_timestamp(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Callable[..., Receiver]
) -> None:
    receiver, created = signed_hook(client, make_receiver)
    receiver.status = 500
    (log,) = hub.customer_message(channel_id=app["by_kind"]["whatsapp"]["id"])["deliveries"]
    time.sleep(1.05)  # `t` has one-second resolution
    receiver.status = 200
    retried = client.call("POST", f"/v1/organization/webhook/{created['id']}/webhook-log/{log['id']}/retry")
    assert retried.body["success"] is True
    first, second = receiver.events
    assert first.body == second.body
    t_first = first.headers["x-hub-signature"].split(",")[0]
    t_second = second.headers["x-hub-signature"].split(",")[0]
    assert t_first != t_second
    assert independent_verify(second.body, second.headers["x-hub-signature"], created["signingSecret"])
