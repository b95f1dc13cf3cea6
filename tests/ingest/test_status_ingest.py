"""`MessageStatus` events: a reply's status only moves forward and every report is kept in its history."""

from __future__ import annotations

import pytest

from conversations.models import Message, MessageStatusChange, WebhookEvent
from tests.ingest.ingest_support import make_reply, post_event, status_event, store_send_result

pytestmark = pytest.mark.django_db


@pytest.fixture
def reply(whatsapp_a) -> Message:
    message = make_reply(whatsapp_a)
    store_send_result(message, "wamid.reply-1", "enqueued")
    return message


def history(message: Message) -> list[tuple[str, bool, str]]:
    return list(message.status_changes.order_by("id").values_list("status", "applied", "source"))


def test_read_then_delivered_then_sent_leaves_read_with_all_three_in_history(hub, app_a, reply):
    for status, at in (("read", 1767225663), ("delivered", 1767225662), ("sent", 1767225661)):
        response = post_event(hub, app_a, status_event("wamid.reply-1", status, timestamp=at))
        assert response.status_code == 200
        assert response.json()["outcome"] == "processed"

    reply.refresh_from_db()
    assert reply.status == Message.Status.READ
    assert history(reply) == [
        ("enqueued", True, "send"),
        ("read", True, "webhook"),
        ("delivered", False, "webhook"),
        ("sent", False, "webhook"),
    ]


def test_statuses_in_order_move_the_reply_forward(hub, app_a, reply):
    for status in ("sent", "delivered", "read"):
        post_event(hub, app_a, status_event("wamid.reply-1", status))

    reply.refresh_from_db()
    assert reply.status == Message.Status.READ
    assert [applied for _, applied, _ in history(reply)] == [True, True, True, True]


def test_status_before_its_message_is_known_is_applied_when_the_message_is_stored(hub, app_a, whatsapp_a):
    message = make_reply(whatsapp_a)
    # The Hub posts `delivered` before our send call has returned the messageId.
    response = post_event(hub, app_a, status_event("wamid.early", "delivered"))
    assert response.status_code == 200
    parked = MessageStatusChange.objects.get()
    assert parked.message is None and parked.hub_message_id == "wamid.early"

    store_send_result(message, "wamid.early", "sent")

    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert sorted(s for s, _, _ in history(message)) == ["delivered", "sent"]


def test_failed_status_records_its_code_and_reason(hub, app_a, reply):
    event = status_event(
        "wamid.reply-1", "failed", errorCode="131026", errorMessage="Recipient is not a WhatsApp user"
    )

    post_event(hub, app_a, event)

    reply.refresh_from_db()
    assert reply.status == Message.Status.FAILED
    assert (reply.error_code, reply.error_message) == ("131026", "Recipient is not a WhatsApp user")
    change = reply.status_changes.get(status="failed")
    assert change.raw == event


def test_repeated_delivery_of_a_status_is_one_history_entry(hub, app_a, reply):
    event = status_event("wamid.reply-1", "delivered", timestamp=1767225660)

    outcomes = [post_event(hub, app_a, event).json()["outcome"] for _ in range(3)]

    assert outcomes == ["processed", "duplicate", "duplicate"]
    assert reply.status_changes.filter(status="delivered").count() == 1


def test_unknown_status_value_is_kept_and_answered_200(hub, app_a, reply):
    response = post_event(hub, app_a, status_event("wamid.reply-1", "played"))

    assert response.status_code == 200
    stored = WebhookEvent.objects.get()
    assert stored.outcome == WebhookEvent.Outcome.IGNORED
    assert "played" in stored.error
    reply.refresh_from_db()
    assert reply.status == Message.Status.ENQUEUED


def test_status_of_another_applications_reply_does_not_touch_it(hub, app_a, app_b):
    foreign = make_reply(app_b.channels.get(kind="whatsapp"))
    store_send_result(foreign, "wamid.of-b")

    post_event(hub, app_a, status_event("wamid.of-b", "read"))

    foreign.refresh_from_db()
    assert foreign.status == Message.Status.SENT
