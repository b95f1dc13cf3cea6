"""Wrong JSON types in a `Message` event: a number is read as its decimal text, anything else is a 400.

A number where the Hub documents a string is what the customer typed (digits) or an id a provider keeps
numeric (Telegram), so it is stored as its text. null, true/false, an object, an array or a missing field
means nothing we could show an agent: the delivery is refused with 400 and kept whole as an `invalid` row
(the Hub's log shows the 400, recovery leaves it to us, an admin reprocesses it after a fix). Either way
nothing the customer sent is lost.
"""

from __future__ import annotations

from typing import Any

import pytest

from conversations.models import Contact, Message, WebhookEvent
from tests.ingest.ingest_support import encode, message_event, post_event

pytestmark = pytest.mark.django_db

MISSING = object()
REFUSED = [
    pytest.param(None, id="null"),
    pytest.param(True, id="true"),
    pytest.param({}, id="object"),
    pytest.param([], id="array"),
    pytest.param(MISSING, id="missing"),
]


def event_with(channel, field: str, value: Any) -> dict[str, Any]:
    event = message_event(channel)
    if field.startswith("content."):
        key = field.removeprefix("content.")
        event["content"] = {"type": "text"} if value is MISSING else {"type": "text", key: value}
    elif value is MISSING:
        del event[field]
    else:
        event[field] = value
    return event


def assert_refused_and_kept(response, body: bytes, field: str) -> None:
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"{field}: ")
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.INVALID
    assert stored.error.startswith(f"{field}: ")
    assert bytes(stored.body) == body


@pytest.mark.parametrize("value", REFUSED)
@pytest.mark.parametrize("field", ["content.text", "from", "messageId"])
def test_a_field_that_is_not_text_is_refused_with_400_and_kept(hub, app_a, whatsapp_a, field, value):
    body = encode(event_with(whatsapp_a, field, value))

    response = post_event(hub, app_a, body=body)

    assert_refused_and_kept(response, body, field)


def test_a_text_message_whose_text_is_a_number_is_stored_as_that_number(hub, app_a, whatsapp_a):
    event = event_with(whatsapp_a, "content.text", 123)

    response = post_event(hub, app_a, event)

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.content == {"type": "text", "text": "123"}
    assert message.preview == "123"
    assert bytes(WebhookEvent.objects.get().body) == encode(event)  # the number, as received


def test_a_sender_that_is_a_number_is_stored_as_its_text(hub, app_a, whatsapp_a):
    response = post_event(hub, app_a, event_with(whatsapp_a, "from", 5521987654321))

    assert response.status_code == 200
    assert Contact.objects.get().external_id == "5521987654321"


def test_a_message_id_that_is_a_number_is_stored_as_its_text(hub, app_a, whatsapp_a):
    response = post_event(hub, app_a, event_with(whatsapp_a, "messageId", 123))

    assert response.status_code == 200
    assert Message.objects.get().hub_message_id == "123"


def test_a_whatsapp_shaped_text_with_a_body_is_stored(hub, app_a, whatsapp_a):
    response = post_event(hub, app_a, event_with(whatsapp_a, "content.text", {"body": "Oi"}))

    assert response.status_code == 200
    assert Message.objects.get().preview == "Oi"


def test_a_whatsapp_shaped_text_whose_body_is_not_text_is_refused(hub, app_a, whatsapp_a):
    body = encode(event_with(whatsapp_a, "content.text", {"body": None}))

    response = post_event(hub, app_a, body=body)

    assert_refused_and_kept(response, body, "content.text.body")
