"""`MessageStatus` events after a send (hub-api.md §4.3) and the delivery-shape fault options."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import RECIPIENTS, HubClient, Receiver, http
from tests.support import wait_for

TEXT = {"text": "Seu pedido saiu para entrega"}


def send(hub: HubSandbox, client: HubClient, app: dict[str, Any], kind: str, to: str | None = None) -> str:
    to = to or RECIPIENTS[kind]
    if kind == "webchatt":
        hub.open_webchatt_session(channel_id=app["by_kind"][kind]["id"], visitor_id=to)
    answer = client.send(kind, app["by_kind"][kind]["id"], to, TEXT)
    assert answer.status == 200 and answer.body["messageId"], answer.body
    return answer.body["messageId"]


LIFECYCLE = ["sent", "delivered", "read", "failed"]


def statuses_for(receiver: Receiver, message_id: str) -> list[str]:
    return [e.json["status"] for e in receiver.events if e.json["messageId"] == message_id]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("whatsapp", ["sent", "delivered", "read"]),
        ("messenger", ["delivered", "read"]),
        ("instagram", ["delivered", "read"]),
        ("sms", ["sent", "delivered"]),
        ("telegram", ["sent"]),
        ("webchatt", ["sent"]),
    ],
)
def test_each_channel_reports_its_own_set_of_statuses(
    hub: HubSandbox,
    client: HubClient,
    app: dict[str, Any],
    status_hook: Receiver,
    kind: str,
    expected: list[str],
) -> None:
    message_id = send(hub, client, app, kind)
    # Every status the send scheduled has been delivered (to this receiver, which answers at once).
    wait_for(lambda: hub.pending_deliveries() == 0, timeout=10, what="the statuses' deliveries")
    # In the lifecycle's order: each status is delivered on its own, as the Hub's are, so on a busy
    # machine two due 50 ms apart may arrive either way round (the product orders them itself).
    assert sorted(statuses_for(status_hook, message_id), key=LIFECYCLE.index) == expected
    event = status_hook.events[0].json
    assert set(event) == {"eventType", "messageId", "status", "timestamp", "channel"}
    assert event["eventType"] == "MessageStatus"
    assert event["channel"] == ("web-chatt2me" if kind == "webchatt" else kind)
    assert isinstance(event["timestamp"], int)


def test_the_send_answer_does_not_wait_for_the_deliveries(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Any
) -> None:
    slow = make_receiver()
    client.create_webhook(slow.url, "MessageStatus")
    slow.delay = 0.8
    hub.configure(statusDelaysMs={"sent": 0, "delivered": 0, "read": 0})
    started = time.monotonic()
    send(hub, client, app, "whatsapp")
    assert time.monotonic() - started < 0.5


def test_an_undeliverable_sms_reports_failed_with_an_error(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(undeliverableRecipients=["+14155550999"])
    message_id = send(hub, client, app, "sms", "+14155550999")
    events = status_hook.wait_for(lambda events: len(events) >= 2)
    assert statuses_for(status_hook, message_id) == ["sent", "failed"]
    failed = events[1].json
    assert set(failed) == {
        "eventType",
        "messageId",
        "status",
        "timestamp",
        "channel",
        "errorCode",
        "errorMessage",
    }
    assert failed["errorCode"] == "30003"


def test_status_events_skip_unverified_webhooks(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], make_receiver: Any
) -> None:
    receiver = make_receiver(mode="wrong")
    client.create_webhook(receiver.url, "MessageStatus")
    send(hub, client, app, "telegram")
    wait_for(lambda: hub.pending_deliveries() == 0, timeout=10, what="the status to fall due")
    assert receiver.events == []


def test_emit_status_delivers_immediately_and_returns_the_logs(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(statusDelaysMs={"sent": 60_000, "delivered": 60_000, "read": 60_000})
    message_id = send(hub, client, app, "whatsapp")
    logs = hub.emit_status(
        message_id=message_id, status="failed", error_code="131047", error_message="Re-engage"
    )
    assert [log["status"] for log in logs] == ["Success"]
    event = status_hook.events[0].json
    assert (event["status"], event["errorCode"], event["errorMessage"]) == ("failed", "131047", "Re-engage")
    assert hub.accepted_sends()[0]["lastStatus"] == "failed"


def test_the_statuses_control_endpoint_emits_a_status(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(statusDelaysMs={"sent": 60_000, "delivered": 60_000, "read": 60_000})
    message_id = send(hub, client, app, "sms")
    answer = http(
        "POST", hub.url + "/_sandbox/statuses", body={"messageId": message_id, "status": "delivered"}
    )
    assert answer.status == 200
    assert len(answer.body["deliveries"]) == 1
    assert (
        http("POST", hub.url + "/_sandbox/statuses", body={"messageId": "nope", "status": "read"}).status
        == 404
    )


def test_reorder_delivers_the_statuses_of_a_message_newest_first(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(webhookReorder=True)
    message_id = send(hub, client, app, "whatsapp")
    status_hook.wait_for(lambda events: len(events) >= 3)
    assert statuses_for(status_hook, message_id) == ["read", "delivered", "sent"]
    timestamps = [e.json["timestamp"] for e in status_hook.events]
    assert timestamps == sorted(timestamps, reverse=True)  # each keeps the time its status happened


def test_duplicate_rate_delivers_each_event_twice(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(webhookDuplicateRate=1.0)
    message_id = send(hub, client, app, "telegram")
    status_hook.wait_for(lambda events: len(events) >= 2)
    first, second = status_hook.events
    assert first.body == second.body
    assert statuses_for(status_hook, message_id) == ["sent", "sent"]


def test_webhook_delay_postpones_deliveries(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(statusDelaysMs={"sent": 0}, webhookDelayMs=[300, 300])
    send(hub, client, app, "telegram")
    time.sleep(0.15)
    assert status_hook.events == []
    status_hook.wait_for(lambda events: len(events) == 1)


def test_mark_as_seen_is_accepted_without_status_events(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    answer = client.send(
        "instagram", app["by_kind"]["instagram"]["id"], RECIPIENTS["instagram"], {"markAsSeen": True}
    )
    assert answer.body["type"] == "Read"
    wait_for(lambda: hub.pending_deliveries() == 0, timeout=10, what="anything scheduled to fall due")
    assert status_hook.events == []
