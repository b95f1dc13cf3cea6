"""Characters PostgreSQL cannot store (NUL, unpaired surrogates) never cost a customer's message.

The Hub does not retry a 400 and recovery skips our own 400s, so refusing such a body would lose the
message for good: it is stored with U+FFFD in place of each such character, and the delivery's exact
bytes stay on its WebhookEvent row. These tests matter most on PostgreSQL, where NUL really fails.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from conversations.models import Contact, Conversation, Message, MessageStatusChange, WebhookEvent
from tests.conftest import login
from tests.ingest.ingest_support import encode, message_event, post_event, status_event

pytestmark = pytest.mark.django_db

REPLACED = "\ufffd"


def test_a_message_with_nul_is_stored_with_a_replacement_character_and_its_raw_body_kept(
    hub, app_a, whatsapp_a, agent_a
):
    event = message_event(
        whatsapp_a, sender="5521\x0098765", content={"type": "text", "text": "Olá\x00 preciso de ajuda"}
    )
    body = encode(event)
    assert b"\\u0000" in body  # JSON escapes NUL: this is what the Hub sends

    response = post_event(hub, app_a, body=body)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "outcome": "processed"}
    message = Message.objects.get()
    assert message.content == {"type": "text", "text": f"Olá{REPLACED} preciso de ajuda"}
    assert message.preview == f"Olá{REPLACED} preciso de ajuda"
    assert Contact.objects.get().external_id == f"5521{REPLACED}98765"
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.PROCESSED
    assert bytes(stored.body) == body  # exactly as received, NUL escape and all
    # The agent reads it in the inbox and in the thread.
    agent = login(agent_a)
    assert f"Olá{REPLACED} preciso de ajuda" in agent.get(reverse("home")).content.decode()
    thread = agent.get(reverse("conversation", args=[Conversation.objects.get().pk]))
    assert f"Olá{REPLACED} preciso de ajuda" in thread.content.decode()


def test_the_same_message_delivered_again_is_a_duplicate(hub, app_a, whatsapp_a):
    event = message_event(whatsapp_a, message_id="wamid.nul\x00id", content={"type": "text", "text": "a\x00"})

    first = post_event(hub, app_a, event)
    again = post_event(hub, app_a, event)

    assert [first.json()["outcome"], again.json()["outcome"]] == ["processed", "duplicate"]
    assert Message.objects.get().hub_message_id == f"wamid.nul{REPLACED}id"


def test_nul_in_a_key_and_deep_in_the_content_is_replaced_too(hub, app_a, whatsapp_a):
    content = {
        "type": "location",
        "location": {"latitude": 1.5, "longitude": 2.5, "name": "Loja\x00 Centro", "x\x00": ["\x00"]},
    }

    response = post_event(hub, app_a, message_event(whatsapp_a, content=content))

    assert response.status_code == 200
    location = Message.objects.get().content["location"]
    assert location["name"] == f"Loja{REPLACED} Centro"
    assert location[f"x{REPLACED}"] == [REPLACED]


def test_an_unpaired_surrogate_is_replaced_like_a_nul(hub, app_a, whatsapp_a):
    event = message_event(whatsapp_a, content={"type": "text", "text": "oi \ud800 tudo bem"})
    body = json.dumps(event).encode()  # ASCII-escaped: "\ud800" is valid JSON, not valid Unicode

    response = post_event(hub, app_a, body=body)

    assert response.status_code == 200
    assert Message.objects.get().preview == f"oi {REPLACED} tudo bem"
    assert bytes(WebhookEvent.objects.get().body) == body


def test_a_status_with_nul_in_its_error_is_kept(hub, app_a):
    event = status_event("wamid.unknown", "failed", errorCode="131\x00", errorMessage="bad\x00 number")

    response = post_event(hub, app_a, event)

    assert response.status_code == 200
    change = MessageStatusChange.objects.get()  # parked: no reply has this id yet
    assert (change.error_code, change.error_message) == (f"131{REPLACED}", f"bad{REPLACED} number")
    assert change.raw["errorMessage"] == f"bad{REPLACED} number"
    assert bytes(WebhookEvent.objects.get().body) == encode(event)
