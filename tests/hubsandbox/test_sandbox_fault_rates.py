"""Per-delivery fault rates and the ledger of what the Hub owed each webhook (used by `make soak`)."""

from __future__ import annotations

import time
from typing import Any

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import RECIPIENTS, HubClient, Receiver, http
from tests.support import wait_for


def write(hub: HubSandbox, app: dict[str, Any], sender: str, text: str) -> dict[str, Any]:
    return hub.customer_message(
        channel_id=app["by_kind"]["sms"]["id"], sender=sender, content={"type": "text", "text": text}
    )


def texts(receiver: Receiver) -> list[str]:
    return [e.json["content"]["text"] for e in receiver.events]


def ledger(hub: HubSandbox, message_id: str) -> dict[str, Any]:
    (entry,) = [e for e in hub.events() if e["messageId"] == message_id]
    return entry


def test_a_reordered_message_arrives_after_the_same_customers_next_one(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver
) -> None:
    hub.configure(webhookReorderRate=1.0, webhookReorderHoldMs=30_000)
    first = write(hub, app, "+14155550101", "first")
    assert first["deliveries"] == []  # held back
    hub.configure(webhookReorderRate=0.0)
    write(hub, app, "+14155550102", "another customer")
    # Another customer's message does not release it (control: the next line shows what does)...
    assert texts(message_hook) == ["another customer"]
    assert ledger(hub, first["messageId"])["accepted"] == 0
    write(hub, app, "+14155550101", "second")
    # ...the same customer's next message does: it reaches the endpoint first, then the held one.
    message_hook.wait_for(lambda events: len(events) == 3)
    assert texts(message_hook) == ["another customer", "second", "first"]
    assert ledger(hub, first["messageId"]) | {"eventId": None, "createdDate": None} == {
        "eventId": None,
        "webhookId": message_hook.webhook["id"],  # type: ignore[attr-defined]
        "applicationId": app["id"],
        "eventType": "Message",
        "messageId": first["messageId"],
        "status": None,
        "timestamp": first["event"]["timestamp"],
        "channelId": app["by_kind"]["sms"]["id"],
        "from": "+14155550101",
        "copies": 1,
        "reordered": True,
        "deliveries": 1,
        "accepted": 1,
        "createdDate": None,
    }


def test_a_held_event_is_still_delivered_when_nothing_follows_it(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver
) -> None:
    hub.configure(webhookReorderRate=1.0, webhookReorderHoldMs=100)
    held = write(hub, app, "+14155550101", "alone")
    assert held["deliveries"] == []
    message_hook.wait_for(lambda events: texts(message_hook) == ["alone"])
    wait_for(lambda: ledger(hub, held["messageId"])["accepted"] == 1, timeout=5)


def test_a_reordered_status_arrives_after_the_next_status_of_its_message(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], status_hook: Receiver
) -> None:
    hub.configure(statusDelaysMs={"sent": 60_000, "delivered": 60_000, "read": 60_000})
    answer = client.send("whatsapp", app["by_kind"]["whatsapp"]["id"], RECIPIENTS["whatsapp"], {"text": "oi"})
    message_id = answer.body["messageId"]
    hub.configure(webhookReorderRate=1.0, webhookReorderHoldMs=30_000)
    assert hub.emit_status(message_id=message_id, status="sent") == []
    hub.configure(webhookReorderRate=0.0)
    hub.emit_status(message_id=message_id, status="delivered")
    status_hook.wait_for(lambda events: len(events) == 2)
    assert [e.json["status"] for e in status_hook.events] == ["delivered", "sent"]


def test_duplicated_events_are_in_the_ledger_once_with_two_copies(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver
) -> None:
    hub.configure(webhookDuplicateRate=1.0)
    result = write(hub, app, "+14155550101", "twice")
    assert len(message_hook.events) == 2
    entry = ledger(hub, result["messageId"])
    assert (entry["copies"], entry["deliveries"], entry["accepted"], entry["reordered"]) == (2, 2, 2, False)


def test_the_ledger_counts_a_failed_delivery_and_its_retry(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    message_hook.status = 503
    result = write(hub, app, "+14155550101", "while down")
    (log,) = result["deliveries"]
    entry = ledger(hub, result["messageId"])
    assert (entry["deliveries"], entry["accepted"]) == (1, 0)

    message_hook.status = 200
    webhook_id = message_hook.webhook["id"]  # type: ignore[attr-defined]
    answer = client.call("POST", f"/v1/organization/webhook/{webhook_id}/webhook-log/{log['id']}/retry")
    assert answer.status == 200 and answer.body["success"] is True
    entry = ledger(hub, result["messageId"])
    assert (entry["deliveries"], entry["accepted"]) == (2, 1)
    (retried,) = [d for d in hub.webhook_deliveries() if d["retryOf"] == log["id"]]
    assert retried["eventId"] == entry["eventId"]


def test_the_events_endpoint_filters_by_type_and_says_what_is_still_to_deliver(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver, status_hook: Receiver
) -> None:
    hub.configure(statusDelaysMs={"sent": 200})
    write(hub, app, "+14155550101", "hello")
    client.send("telegram", app["by_kind"]["telegram"]["id"], RECIPIENTS["telegram"], {"text": "oi"})
    answer = http("GET", hub.url + "/_sandbox/events?eventType=Message")
    assert answer.status == 200
    assert [e["eventType"] for e in answer.body["data"]] == ["Message"]
    # The status is timed 200 ms after the send: pending until it has been delivered.
    assert http("GET", hub.url + "/_sandbox/events").body["pending"] >= 1
    status_hook.wait_for(lambda events: len(events) == 1)
    wait_for(lambda: http("GET", hub.url + "/_sandbox/events").body["pending"] == 0, timeout=5)
    statuses = http("GET", hub.url + "/_sandbox/events?eventType=MessageStatus").body["data"]
    assert [(e["status"], e["accepted"]) for e in statuses] == [("sent", 1)]


def test_send_refusal_rate_one_answers_a_provider_error_and_accepts_nothing(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.configure(sendRefusalRate=1.0)
    answer = client.send("whatsapp", app["by_kind"]["whatsapp"]["id"], RECIPIENTS["whatsapp"], {"text": "oi"})
    assert answer.status == 200
    assert answer.body["status"] == "error"
    assert answer.body["errorCode"] == "sandbox_refused"
    assert answer.body["messageId"] is None
    assert hub.accepted_sends() == []
    # Control: the same send goes through without the fault.
    hub.configure(sendRefusalRate=0.0)
    again = client.send("whatsapp", app["by_kind"]["whatsapp"]["id"], RECIPIENTS["whatsapp"], {"text": "oi"})
    assert again.body["status"] == "enqueued"


def test_a_refused_send_is_still_validated_first(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.configure(sendRefusalRate=1.0)
    answer = client.send("whatsapp", app["by_kind"]["whatsapp"]["id"], "+1", {"text": "oi"})
    assert answer.status == 400


def test_the_simulator_keeps_its_rate_when_the_receiver_is_slow(
    hub: HubSandbox, app: dict[str, Any], message_hook: Receiver
) -> None:
    # Each delivery takes 0.3 s: a simulator that waited for them would write about 3 a second, and
    # need 13 s for these 40 (the bound below leaves room for a busy machine).
    message_hook.delay = 0.3
    started = time.monotonic()
    hub.configure(customersRate=40)
    wait_for(lambda: len(hub.events(event_type="Message")) >= 40, timeout=20)
    elapsed = time.monotonic() - started
    hub.configure(customersRate=0)
    assert elapsed < 8, f"40 messages took {elapsed:.1f} s at 40 per second"
    wait_for(lambda: hub.pending_deliveries() == 0, timeout=10)
    written = hub.events(event_type="Message")
    assert all(e["accepted"] == 1 for e in written)
    assert {e["channelId"] for e in written} <= {c["id"] for c in app["channels"]}


def test_fault_rates_are_validated(hub: HubSandbox) -> None:
    for bad in ({"webhookReorderRate": 1.5}, {"sendRefusalRate": -0.1}, {"webhookReorderHoldMs": "x"}):
        assert http("PUT", hub.url + "/_sandbox/settings", body=bad).status == 400
    answer = http("PUT", hub.url + "/_sandbox/settings", body={"webhookReorderRate": 0.1})
    assert answer.body["webhookReorderRate"] == 0.1
    assert answer.body["webhookReorderHoldMs"] == 2000
