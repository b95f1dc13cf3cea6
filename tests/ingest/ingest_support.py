"""Building and posting Hub webhook deliveries the way the Hub does (compact JSON, signed raw bytes)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.db import transaction
from django.test import Client
from django.urls import reverse

from channels_app.hub.signatures import sign
from channels_app.models import Application, Channel
from conversations.actions.statuses import do_store_send_result
from conversations.models import Contact, Conversation, Message

CUSTOMER = "5521987654321"
# The signing secret tests/ingest/conftest.py stores for `app_a` and `app_b`, as "connect webhooks" would:
# every delivery is signed with it unless a test says otherwise.
HUB_SECRET = "whsec_ingest-tests-0123456789abcdef"


def encode(payload: Any) -> bytes:
    """docs/hub.md, Webhooks and signatures: JSON.stringify(payload): compact, keys in insertion order, raw UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def webhook_path(application: Application) -> str:
    return reverse("hub_webhook", args=[application.public_id])


def message_event(
    channel: Channel,
    *,
    message_id: str | None = None,
    sender: str = CUSTOMER,
    content: dict[str, Any] | None = None,
    timestamp: int | None = None,
) -> dict[str, Any]:
    return {
        "eventType": "Message",
        "channelId": str(channel.hub_channel_id),
        "messageId": message_id or str(uuid.uuid4()),
        "from": sender,
        "timestamp": int(time.time()) if timestamp is None else timestamp,
        "channel": "web-chatt2me" if channel.kind == "webchatt" else channel.kind,
        "content": content or {"type": "text", "text": "Quero saber o prazo de entrega"},
    }


def status_event(
    message_id: str, status: str, *, timestamp: int | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "eventType": "MessageStatus",
        "messageId": message_id,
        "status": status,
        "timestamp": int(time.time()) if timestamp is None else timestamp,
        "channel": "whatsapp",
        **extra,
    }


def signed(body: bytes, secret: str = HUB_SECRET) -> dict[str, str]:
    """The header the Hub signs `body` with."""
    return {"X-hub-Signature": sign(body, secret)}


def post_event(
    client: Client,
    application: Application,
    payload: Any = None,
    *,
    body: bytes | None = None,
    secret: str | None = HUB_SECRET,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
):
    """POST a delivery, signed with `secret` like the Hub (None: unsigned); `signature` sets the header
    verbatim."""
    raw = encode(payload) if body is None else body
    extra = dict(headers or {})
    if secret is not None:
        extra.update(signed(raw, secret))
    if signature is not None:
        extra["X-hub-Signature"] = signature
    return client.post(webhook_path(application), data=raw, content_type="application/json", headers=extra)


def make_reply(channel, *, status: str = Message.Status.PENDING, external_id: str = CUSTOMER) -> Message:
    """An agent's reply as the sending work stores it before calling the Hub."""
    contact = Contact.objects.create(channel=channel, external_id=external_id)
    conversation = Conversation.objects.create(
        application=channel.application,
        channel=channel,
        contact=contact,
        last_activity_at="2026-01-01T00:00Z",
    )
    return Message.objects.create(
        conversation=conversation,
        channel=channel,
        direction=Message.Direction.OUTBOUND,
        content={"text": "Seu pedido saiu para entrega"},
        status=status,
    )


def store_send_result(message: Message, hub_message_id: str, status: str = "sent") -> None:
    with transaction.atomic():
        locked = Message.objects.select_for_update().select_related("channel").get(pk=message.pk)
        do_store_send_result(message=locked, hub_message_id=hub_message_id, status=status)
