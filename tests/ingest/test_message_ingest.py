"""Inbound `Message` events: contact, conversation and message, stored once, in one transaction."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels_app.models import Channel
from conversations.actions.inbound import do_reprocess_webhook_event
from conversations.models import Contact, Conversation, Message, WebhookEvent
from tests.ingest.ingest_support import CUSTOMER, encode, message_event, post_event

pytestmark = pytest.mark.django_db


def test_customer_message_creates_contact_conversation_and_message(hub, app_a, whatsapp_a):
    event = message_event(whatsapp_a, timestamp=1767225600)

    response = post_event(hub, app_a, event)

    assert response.status_code == 200
    assert response.json() == {"ok": True, "outcome": "processed"}
    contact = Contact.objects.get()
    assert (contact.channel, contact.external_id) == (whatsapp_a, CUSTOMER)
    conversation = Conversation.objects.get()
    assert (conversation.application, conversation.channel, conversation.contact) == (
        app_a,
        whatsapp_a,
        contact,
    )
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.unread_count == 1
    message = Message.objects.get()
    assert message.direction == Message.Direction.INBOUND
    assert message.status == Message.Status.RECEIVED
    assert message.hub_message_id == event["messageId"]
    assert message.content == event["content"]
    assert message.preview == "Quero saber o prazo de entrega"
    assert message.sent_at.timestamp() == 1767225600
    assert conversation.last_message == message
    assert conversation.last_inbound_at == message.sent_at
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.PROCESSED
    assert bytes(stored.body) == encode(event)
    assert stored.dedup_key == f"msg:{app_a.pk}:{whatsapp_a.hub_channel_id}:{event['messageId']}"


def test_same_message_posted_five_times_is_stored_once(hub, app_a, whatsapp_a):
    event = message_event(whatsapp_a)

    responses = [post_event(hub, app_a, event) for _ in range(5)]

    assert [r.status_code for r in responses] == [200] * 5
    assert [r.json()["outcome"] for r in responses] == ["processed"] + ["duplicate"] * 4
    assert Message.objects.count() == 1
    assert Contact.objects.count() == 1
    assert Conversation.objects.get().unread_count == 1
    # Every delivery is kept, the repeats as their own rows without the unique key.
    outcomes = sorted(WebhookEvent.objects.values_list("outcome", "dedup_key"), key=lambda o: o[0])
    assert [o for o, _ in outcomes] == ["duplicate"] * 4 + ["processed"]
    assert [k is None for _, k in outcomes] == [True] * 4 + [False]


def test_second_message_of_a_customer_joins_their_conversation(hub, app_a, whatsapp_a):
    post_event(hub, app_a, message_event(whatsapp_a, timestamp=1767225600))
    second = message_event(whatsapp_a, timestamp=1767225660, content={"type": "text", "text": "Alô?"})

    post_event(hub, app_a, second)

    conversation = Conversation.objects.get()
    assert conversation.unread_count == 2
    assert conversation.messages.count() == 2
    assert conversation.last_message.hub_message_id == second["messageId"]
    assert conversation.last_message.preview == "Alô?"


def test_same_sender_on_two_channels_is_two_contacts(hub, app_a, whatsapp_a):
    sms = app_a.channels.get(kind="sms")
    post_event(hub, app_a, message_event(whatsapp_a, sender="+5521987654321"))
    post_event(hub, app_a, message_event(sms, sender="+5521987654321"))

    assert Contact.objects.count() == 2
    assert Conversation.objects.count() == 2


def test_message_in_resolved_conversation_reopens_it(hub, app_a, whatsapp_a, agent_a):
    post_event(hub, app_a, message_event(whatsapp_a))
    resolved_at = timezone.now() - timedelta(hours=1)
    Conversation.objects.update(
        status=Conversation.Status.RESOLVED,
        unread_count=0,
        status_changed_by=agent_a,
        status_changed_at=resolved_at,
    )

    post_event(hub, app_a, message_event(whatsapp_a))

    conversation = Conversation.objects.get()
    assert conversation.status == Conversation.Status.OPEN
    assert conversation.unread_count == 1
    # Reopened by the customer: no agent did it, and it happened now.
    assert conversation.status_changed_by is None
    assert conversation.status_changed_at > resolved_at + timedelta(minutes=59)

    post_event(hub, app_a, message_event(whatsapp_a))  # an open thread's status history is left alone
    assert Conversation.objects.get().status_changed_at == conversation.status_changed_at


def test_a_customer_reopening_a_thread_leaves_one_activity_line_after_their_message(
    hub, app_a, whatsapp_a, agent_a
):
    post_event(hub, app_a, message_event(whatsapp_a))
    Conversation.objects.update(status=Conversation.Status.RESOLVED, unread_count=0)

    post_event(hub, app_a, message_event(whatsapp_a))
    post_event(hub, app_a, message_event(whatsapp_a))  # open already: no second line

    items = list(Message.objects.order_by("id").values_list("direction", "content"))
    assert [direction for direction, _ in items] == ["in", "in", "activity", "in"]
    assert items[2][1] == {"activity": {"verb": "reopened"}}
    assert Conversation.objects.get().unread_count == 2  # the line is never unread


def test_a_customer_message_wakes_a_snoozed_conversation_at_once(hub, app_a, whatsapp_a, agent_a):
    post_event(hub, app_a, message_event(whatsapp_a))
    snoozed_at = timezone.now() - timedelta(hours=1)
    Conversation.objects.update(
        status=Conversation.Status.SNOOZED,
        snoozed_until=timezone.now() + timedelta(days=2),
        status_changed_by=agent_a,
        status_changed_at=snoozed_at,
    )

    post_event(hub, app_a, message_event(whatsapp_a))

    conversation = Conversation.objects.get()
    assert (conversation.status, conversation.snoozed_until) == (Conversation.Status.OPEN, None)
    assert conversation.status_changed_by is None
    assert conversation.status_changed_at > snoozed_at + timedelta(minutes=59)


def test_a_customer_waking_a_snoozed_thread_leaves_one_woke_line_after_their_message(
    hub, app_a, whatsapp_a, agent_a
):
    # On PostgreSQL a thread with an open cycle takes the one-statement path; on SQLite the general one.
    post_event(hub, app_a, message_event(whatsapp_a))
    Conversation.objects.update(
        status=Conversation.Status.SNOOZED, snoozed_until=timezone.now() + timedelta(days=2), unread_count=0
    )

    post_event(hub, app_a, message_event(whatsapp_a))
    post_event(hub, app_a, message_event(whatsapp_a))  # open already: no second line

    items = list(Message.objects.order_by("id").values_list("direction", "content"))
    assert [direction for direction, _ in items] == ["in", "in", "activity", "in"]
    assert items[2][1] == {"activity": {"verb": "customer_woke"}}
    assert Conversation.objects.get().unread_count == 2


def test_a_customer_message_leaves_a_pending_conversation_pending(hub, app_a, whatsapp_a):
    post_event(hub, app_a, message_event(whatsapp_a))
    Conversation.objects.update(status=Conversation.Status.PENDING)

    post_event(hub, app_a, message_event(whatsapp_a))

    assert Conversation.objects.get().status == Conversation.Status.PENDING


def test_message_delivered_late_joins_the_thread_without_replacing_the_newer_preview(hub, app_a, whatsapp_a):
    newer = message_event(whatsapp_a, timestamp=1767225660, content={"type": "text", "text": "second"})
    older = message_event(whatsapp_a, timestamp=1767225600, content={"type": "text", "text": "first"})
    post_event(hub, app_a, newer)

    post_event(hub, app_a, older)

    conversation = Conversation.objects.get()
    assert conversation.last_message.preview == "second"
    assert conversation.unread_count == 2
    assert conversation.last_inbound_at.timestamp() == 1767225660


MEDIA = "https://hub.example.org/media"
CONTENTS = [
    ({"type": "text", "text": "Olá!"}, "Olá!"),
    (
        {"type": "image", "image": {"url": f"{MEDIA}/p.png", "mimeType": "image/png", "caption": "Veja"}},
        "Photo: Veja",
    ),
    ({"type": "video", "video": {"url": f"{MEDIA}/c.mp4", "mimeType": "video/mp4"}}, "Video"),
    (
        {"type": "audio", "audio": {"url": f"{MEDIA}/v.ogg", "mimeType": "audio/ogg", "voice": True}},
        "Voice message",
    ),
    ({"type": "audio", "audio": {"url": f"{MEDIA}/a.ogg", "mimeType": "audio/ogg"}}, "Audio"),
    ({"type": "document", "document": {"url": f"{MEDIA}/i.pdf", "filename": "invoice.pdf"}}, "Document"),
    ({"type": "sticker", "sticker": {"url": f"{MEDIA}/s.webp"}}, "Sticker"),
    (
        {"type": "location", "location": {"latitude": -22.9, "longitude": -43.1, "name": "Centro"}},
        "Location: Centro",
    ),
    ({"type": "location", "location": {"latitude": -22.9068, "longitude": -43.1729}}, "Location"),
    (
        {
            "type": "contacts",
            "contacts": [{"name": {"formatted_name": "Joana Silva"}, "phones": [{"phone": "+55"}]}],
        },
        "Contact: Joana Silva",
    ),
    (
        {
            "type": "interactive",
            "interactive": {"type": "button_reply", "button_reply": {"id": "B", "title": "Financeiro"}},
        },
        "Financeiro",
    ),
    (
        {
            "type": "interactive",
            "interactive": {"type": "list_reply", "list_reply": {"id": "P", "title": "Pizzas"}},
        },
        "Pizzas",
    ),
    ({"type": "reaction", "reaction": {"messageId": "wamid.1", "emoji": "👍"}}, "Reacted 👍"),
    ({"type": "reaction", "reaction": {"messageId": "wamid.1", "emoji": ""}}, "Removed a reaction"),
    ({"type": "button", "button": {"text": "Sim", "payload": "YES"}}, "Sim"),
    ({"type": "hologram", "hologram": {"depth": 3}}, "[hologram]"),
]


@pytest.mark.parametrize(("content", "preview"), CONTENTS, ids=[c["type"] for c, _ in CONTENTS])
def test_every_inbound_content_type_is_kept_whole_with_a_readable_preview(
    hub, app_a, whatsapp_a, content, preview
):
    response = post_event(hub, app_a, message_event(whatsapp_a, content=content))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.content == content
    assert message.preview == preview


def test_message_for_a_channel_not_registered_is_kept_and_processed_once_registered(hub, app_a):
    unknown = uuid.uuid4()
    event = message_event(app_a.channels.first(), message_id="wamid.unknown-channel")
    event["channelId"] = str(unknown)

    response = post_event(hub, app_a, event)

    assert response.status_code == 200
    assert response.json()["outcome"] == "ignored"
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.IGNORED
    assert str(unknown) in stored.error and "not registered" in stored.error
    assert not Message.objects.exists() and not Contact.objects.exists()

    Channel.objects.create(
        application=app_a, hub_channel_id=unknown, kind="whatsapp", display_name="New number"
    )
    assert do_reprocess_webhook_event(event=stored) == WebhookEvent.Outcome.PROCESSED

    stored.refresh_from_db()
    assert stored.outcome == WebhookEvent.Outcome.PROCESSED
    assert stored.reprocessed_count == 1
    assert stored.error == ""
    assert Message.objects.get().hub_message_id == "wamid.unknown-channel"
    # A second delivery of the same event after the reprocess is a duplicate.
    assert post_event(hub, app_a, event).json()["outcome"] == "duplicate"
    assert Message.objects.count() == 1


def test_message_for_a_channel_of_another_application_is_not_stored_there(hub, app_a, app_b):
    event = message_event(app_b.channels.get(kind="whatsapp"))

    response = post_event(hub, app_a, event)

    assert response.json()["outcome"] == "ignored"
    assert not Message.objects.exists()


def test_unknown_event_type_is_recorded_and_answered_200(hub, app_a):
    response = post_event(hub, app_a, {"eventType": "ContactUpdated", "contact": {"id": "1"}})

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert (stored.outcome, stored.event_type) == (WebhookEvent.Outcome.IGNORED, "ContactUpdated")
    assert "unknown event type" in stored.error


# --- legacy §4.4 shape ------------------------------------------------------------------------------


def _only_messenger(app):
    app.channels.exclude(kind="messenger").update(active=False)
    return app.channels.get(kind="messenger")


def legacy_message(message: dict, *, sender: str = "26203292189261166") -> dict:
    return {
        "eventType": "Message",
        "timestamp": "2025-12-18T20:08:40.195Z",
        "payload": {
            "sender": {"id": sender},
            "recipient": {"id": "847495124317323"},
            "timestamp": 1766088520195,
            "message": message,
        },
    }


def test_legacy_meta_message_goes_to_the_applications_only_messenger_channel(hub, app_a):
    messenger = _only_messenger(app_a)

    response = post_event(hub, app_a, legacy_message({"mid": "m_abc", "text": "hello"}))

    assert response.status_code == 200
    message = Message.objects.get()
    assert message.channel == messenger
    assert message.hub_message_id == "m_abc"
    assert message.content["type"] == "text" and message.content["text"] == "hello"
    assert message.content["meta"] == {"mid": "m_abc", "text": "hello"}  # the original, whole
    assert message.preview == "hello"
    assert message.conversation.contact.external_id == "26203292189261166"
    assert message.sent_at.timestamp() == pytest.approx(1766088520.195)


def test_legacy_meta_attachment_becomes_normalized_media(hub, app_a):
    _only_messenger(app_a)
    meta = {"mid": "m_img", "attachments": [{"type": "image", "payload": {"url": "https://cdn.fb/x.jpg"}}]}

    post_event(hub, app_a, legacy_message(meta))

    message = Message.objects.get()
    assert message.content["image"] == {"url": "https://cdn.fb/x.jpg"}
    assert message.preview == "Photo"


def test_legacy_message_without_mid_is_still_stored_once(hub, app_a):
    _only_messenger(app_a)
    event = legacy_message({"text": "hello"})

    post_event(hub, app_a, event)
    post_event(hub, app_a, event)

    assert Message.objects.count() == 1


def test_legacy_message_is_invalid_when_the_channel_is_ambiguous(hub, app_a):
    # app_a has an active Messenger and an active Instagram channel: the legacy body cannot say which.
    response = post_event(hub, app_a, legacy_message({"mid": "m_1", "text": "hello"}))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.IGNORED
    assert "cannot tell which channel" in stored.error
    assert not Message.objects.exists()


def test_legacy_message_echo_is_ignored(hub, app_a):
    _only_messenger(app_a)
    echo = {
        "eventType": "message_echoes",
        "timestamp": "2025-12-18T19:07:49.977Z",
        "payload": {
            "sender": {"id": "847495124317323", "pageId": "847495124317323"},
            "recipient": {"id": "26203292189261166"},
            "timestamp": int(time.time() * 1000),
            "message": {"mid": "m_echo", "is_echo": True, "text": "hello", "app_id": 854313003749170},
        },
    }

    response = post_event(hub, app_a, echo)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.IGNORED
    assert not Message.objects.exists()


def test_a_message_to_a_known_customer_costs_a_bounded_number_of_queries(
    hub, app_a, whatsapp_a, django_assert_max_num_queries
):
    # The hottest path: look up (application, secrets, channel), record, find contact and thread, insert,
    # update counters under the lock; savepoints included. Grows only if someone adds work per event.
    post_event(hub, app_a, message_event(whatsapp_a))

    with django_assert_max_num_queries(15):
        post_event(hub, app_a, message_event(whatsapp_a))


def test_a_message_stored_before_under_another_key_is_a_duplicate(hub, app_a, whatsapp_a):
    # As when the legacy and the normalized shape of one message name it differently: the message is
    # there, its delivery row no longer holds the key.
    event = message_event(whatsapp_a)
    post_event(hub, app_a, message_event(whatsapp_a))  # the customer is known: the hot path applies
    post_event(hub, app_a, event)
    WebhookEvent.objects.update(dedup_key=None)

    response = post_event(hub, app_a, event)

    assert response.status_code == 200
    assert response.json()["outcome"] == "duplicate"
    assert Message.objects.filter(hub_message_id=event["messageId"]).count() == 1
    assert Conversation.objects.get().unread_count == 2
    latest = WebhookEvent.objects.order_by("-id").first()
    assert latest.outcome == WebhookEvent.Outcome.DUPLICATE and latest.dedup_key is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="one statement on PostgreSQL only")
@pytest.mark.django_db(transaction=True)  # as in production: no test transaction around the request
def test_a_message_of_a_known_customer_is_one_statement_on_postgresql(
    hub, app_a, whatsapp_a, settings, django_assert_num_queries
):
    # As in production: the route and the Application's outgoing webhooks are cached (for longer than a
    # busy machine may take between these posts: 5 s and 2 s by default).
    settings.WEBHOOK_ROUTE_CACHE_SECONDS = 60
    settings.OUTGOING_WEBHOOK_CACHE_SECONDS = 60
    post_event(hub, app_a, message_event(whatsapp_a))
    repeated = message_event(whatsapp_a)
    post_event(hub, app_a, repeated)

    # One statement, and no BEGIN and COMMIT around it: a statement is a transaction of its own.
    with django_assert_num_queries(1):
        post_event(hub, app_a, message_event(whatsapp_a))
    with django_assert_num_queries(1):  # a repeated delivery: its `duplicate` row, in the same statement
        assert post_event(hub, app_a, repeated).json()["outcome"] == "duplicate"

    conversation = Conversation.objects.get()
    assert conversation.unread_count == 3
    assert conversation.last_message == Message.objects.latest("id")
