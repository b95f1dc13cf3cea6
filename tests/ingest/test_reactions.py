"""A customer's reaction goes onto the message it reacts to: no bubble, no unread, no bump."""

from __future__ import annotations

import pytest

from conversations.models import Conversation, Message, WebhookEvent
from tests.ingest.ingest_support import message_event, post_event
from tests.ingest.test_message_ingest import _only_messenger

pytestmark = pytest.mark.django_db


def _reaction(channel, target: str, emoji: str, *, message_id: str, timestamp: int | None = None) -> dict:
    return message_event(
        channel,
        message_id=message_id,
        content={"type": "reaction", "reaction": {"messageId": target, "emoji": emoji}},
        timestamp=timestamp,
    )


def _customer_message(hub, app, channel, hub_id: str, **kwargs) -> Message:
    post_event(hub, app, message_event(channel, message_id=hub_id, **kwargs))
    return Message.objects.get(hub_message_id=hub_id)


def test_a_reaction_attaches_to_its_target_without_a_bubble_or_unread(hub, app_a, whatsapp_a):
    target = _customer_message(hub, app_a, whatsapp_a, "wamid.target", timestamp=1_700_000_000)
    thread = Conversation.objects.get()
    before = (thread.unread_count, thread.last_activity_at, thread.last_message_id)

    response = post_event(hub, app_a, _reaction(whatsapp_a, "wamid.target", "❤️", message_id="wamid.r1"))

    assert response.status_code == 200 and response.json()["outcome"] == "processed"
    assert Message.objects.count() == 1  # no bubble of its own
    target.refresh_from_db()
    assert target.reactions["customer"]["emoji"] == "❤️"
    thread.refresh_from_db()
    assert (thread.unread_count, thread.last_activity_at, thread.last_message_id) == before


def test_a_later_reaction_replaces_the_earlier_and_an_unreact_removes_it(hub, app_a, whatsapp_a):
    target = _customer_message(hub, app_a, whatsapp_a, "wamid.t")
    post_event(hub, app_a, _reaction(whatsapp_a, "wamid.t", "👍", message_id="r1", timestamp=1_800_000_000))
    post_event(hub, app_a, _reaction(whatsapp_a, "wamid.t", "😂", message_id="r2", timestamp=1_800_000_010))
    # Delivered late, sent earlier: it does not win over the newer one.
    post_event(hub, app_a, _reaction(whatsapp_a, "wamid.t", "😮", message_id="r0", timestamp=1_800_000_005))
    target.refresh_from_db()
    assert target.reactions["customer"]["emoji"] == "😂"

    post_event(hub, app_a, _reaction(whatsapp_a, "wamid.t", "", message_id="r3", timestamp=1_800_000_020))

    target.refresh_from_db()
    assert "customer" not in target.reactions
    assert Message.objects.count() == 1


def test_a_reaction_to_an_unknown_message_is_kept_and_shown_as_before(hub, app_a, whatsapp_a):
    post_event(hub, app_a, _reaction(whatsapp_a, "wamid.never-seen", "👍", message_id="r1"))

    message = Message.objects.get()
    assert message.preview == "Reacted 👍"
    assert Conversation.objects.get().unread_count == 1


def test_a_reaction_to_another_applications_message_stays_inert(hub, app_a, app_b, whatsapp_a):
    whatsapp_b = app_b.channels.get(kind="whatsapp")
    foreign = Message.objects.create(
        conversation=Conversation.objects.create(
            application=app_b,
            channel=whatsapp_b,
            contact=whatsapp_b.contacts.create(external_id="5500"),
            last_activity_at="2026-01-01T00:00Z",
        ),
        channel=whatsapp_b,
        direction="in",
        content={"type": "text", "text": "b"},
        hub_message_id="wamid.of-b",
        status="received",
    )

    post_event(hub, app_a, _reaction(whatsapp_a, "wamid.of-b", "👍", message_id="r1"))

    foreign.refresh_from_db()
    assert foreign.reactions == {}
    assert Message.objects.filter(channel=whatsapp_a).get().preview == "Reacted 👍"  # kept, as today


@pytest.mark.parametrize("nested", [True, False], ids=["meta-send-api", "flat"])
def test_the_legacy_sender_action_shape_is_accepted(hub, app_a, nested):
    messenger = _only_messenger(app_a)
    target = _customer_message(hub, app_a, messenger, "m_target", sender="26203292189261166")
    fields = {"message_id": "m_target", "reaction": "love"}

    def body(action: str) -> dict:
        payload: dict = {
            "sender": {"id": "26203292189261166"},
            "recipient": {"id": "847495124317323"},
            "timestamp": 1766088520195 if action == "react" else 1766088530195,
            "sender_action": action,
        }
        payload.update({"payload": fields} if nested else fields)
        return {"eventType": "Message", "timestamp": "2025-12-18T20:08:40.195Z", "payload": payload}

    response = post_event(hub, app_a, body("react"))

    assert response.status_code == 200, response.content  # was 400 "payload.message: missing"
    target.refresh_from_db()
    assert target.reactions["customer"]["emoji"] == "❤️"
    assert Message.objects.count() == 1

    post_event(hub, app_a, body("unreact"))
    target.refresh_from_db()
    assert target.reactions == {}


def test_a_legacy_reaction_without_its_target_is_refused_with_the_field(hub, app_a):
    _only_messenger(app_a)
    body = {
        "eventType": "Message",
        "payload": {"sender": {"id": "1"}, "sender_action": "react", "payload": {"reaction": "👍"}},
    }

    response = post_event(hub, app_a, body)

    assert response.status_code == 400
    assert response.json() == {"error": "payload.payload.message_id: missing"}
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.INVALID
