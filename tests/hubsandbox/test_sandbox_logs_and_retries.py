"""Delivery logs and manual retries (hub-api.md §5.3)."""

from __future__ import annotations

from typing import Any

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import HubClient, Receiver

LOG_FIELDS = {
    "id",
    "webhookId",
    "statusCode",
    "responseBody",
    "status",
    "sendAt",
    "createdDate",
    "messageId",
    "isDeleted",
    "webhook",
}


def logs_path(receiver: Receiver, query: str = "") -> str:
    return f"/v1/organization/webhook/{receiver.webhook['id']}/webhook-log{query}"  # type: ignore[attr-defined]


def deliver(hub: HubSandbox, app: dict[str, Any], n: int = 1) -> list[dict[str, Any]]:
    logs = []
    for _ in range(n):
        logs.extend(hub.customer_message(channel_id=app["by_kind"]["whatsapp"]["id"])["deliveries"])
    return logs


def test_each_delivery_attempt_is_logged_with_the_documented_fields(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    (returned,) = deliver(hub, app)
    answer = client.call("GET", logs_path(message_hook))
    (log,) = answer.body["data"]
    assert set(log) == LOG_FIELDS
    assert log == returned
    assert (log["status"], log["statusCode"], log["responseBody"]) == ("Success", 200, "OK")
    assert log["messageId"] == message_hook.events[0].json["messageId"]
    assert log["webhook"] == {
        "id": message_hook.webhook["id"],  # type: ignore[attr-defined]
        "endpoint": message_hook.url,
        "eventType": "Message",
    }
    assert answer.body["pagination"] == {"offset": 0, "limit": 20, "total": 1, "totalPages": 1}


def test_failures_are_logged_counted_and_filterable(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    deliver(hub, app)
    message_hook.status = 503
    deliver(hub, app, 2)
    failed = client.call("GET", logs_path(message_hook, "?status=Failed")).body
    assert failed["pagination"]["total"] == 2
    assert {(log["statusCode"], log["responseBody"]) for log in failed["data"]} == {(503, "receiver says no")}
    # The OpenAPI spells the failure `Error`: accepted as an alias in the filter.
    assert client.call("GET", logs_path(message_hook, "?status=Error")).body["pagination"]["total"] == 2
    assert client.call("GET", logs_path(message_hook, "?status=Success")).body["pagination"]["total"] == 1
    assert client.call("GET", logs_path(message_hook, "?status=Nope")).status == 400
    webhook = client.call("GET", f"/v1/organization/webhook/{message_hook.webhook['id']}").body  # type: ignore[attr-defined]
    assert webhook["numberOfErrors"] == 2


def test_logs_are_paginated(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    deliver(hub, app, 3)
    page = client.call("GET", logs_path(message_hook, "?offset=1&limit=2")).body
    assert len(page["data"]) == 2
    assert page["pagination"] == {"offset": 1, "limit": 2, "total": 3, "totalPages": 2}


def test_a_delivery_timeout_logs_status_code_zero(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    hub.configure(webhookTimeoutSeconds=0.2)
    message_hook.delay = 0.6
    (log,) = deliver(hub, app)
    assert (log["statusCode"], log["status"], log["responseBody"]) == (0, "Failed", None)


def test_retry_one_re_sends_and_creates_a_new_log(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    message_hook.status = 500
    (failed,) = deliver(hub, app)
    message_hook.status = 200
    answer = client.call("POST", logs_path(message_hook, f"/{failed['id']}/retry"))
    assert answer.status == 200
    assert answer.body["success"] is True
    new_log_id = answer.body["newLogId"]
    logs = client.call("GET", logs_path(message_hook)).body["data"]
    assert [log["id"] for log in logs] == [new_log_id, failed["id"]]  # newest first
    assert logs[0]["status"] == "Success"
    assert logs[0]["messageId"] == failed["messageId"]
    assert len(message_hook.events) == 2


def test_a_retried_log_stays_failed_and_every_retry_of_it_re_sends_again(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    """§5.3: the outcome of a retry is a new log; the old one keeps `Failed` and may be retried again,
    and each retry delivers again. Only the caller can remember what it already asked for."""
    message_hook.status = 500
    (failed,) = deliver(hub, app)
    message_hook.status = 200
    for _ in range(2):
        assert client.call("POST", logs_path(message_hook, f"/{failed['id']}/retry")).body["success"] is True
    old = next(
        log for log in client.call("GET", logs_path(message_hook)).body["data"] if log["id"] == failed["id"]
    )
    assert old["status"] == "Failed"
    assert [d["retryOf"] for d in hub.webhook_deliveries()] == [None, failed["id"], failed["id"]]
    assert len(message_hook.events) == 3


def test_a_successful_log_cannot_be_retried(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    (log,) = deliver(hub, app)
    answer = client.call("POST", logs_path(message_hook, f"/{log['id']}/retry"))
    assert answer.status == 400
    assert "cannot be retried" in answer.body["errorMessage"]


def test_retrying_an_unknown_log_is_404(client: HubClient, message_hook: Receiver) -> None:
    answer = client.call("POST", logs_path(message_hook, "/11111111-2222-4333-8444-555555555555/retry"))
    assert answer.status == 404


def test_retry_many_reports_each_log(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    message_hook.status = 500
    first, second = deliver(hub, app, 2)
    message_hook.status = 200
    unknown = "11111111-2222-4333-8444-555555555555"
    answer = client.call(
        "POST", logs_path(message_hook, "/retry"), {"webhookLogIds": [first["id"], second["id"], unknown]}
    )
    assert answer.status == 200
    results = answer.body["results"]
    assert [(r["webhookLogId"], r["success"]) for r in results] == [
        (first["id"], True),
        (second["id"], True),
        (unknown, False),
    ]
    assert results[2]["newLogId"] is None
    new_ids = {r["newLogId"] for r in results[:2]}
    succeeded = client.call("GET", logs_path(message_hook, "?status=Success")).body["data"]
    assert {log["id"] for log in succeeded} == new_ids


def test_retry_many_needs_at_least_one_id(client: HubClient, message_hook: Receiver) -> None:
    assert client.call("POST", logs_path(message_hook, "/retry"), {"webhookLogIds": []}).status == 400


def test_another_application_cannot_retry_my_logs(
    hub: HubSandbox, client: HubClient, other_client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    message_hook.status = 500
    (log,) = deliver(hub, app)
    assert other_client.call("POST", logs_path(message_hook, f"/{log['id']}/retry")).status == 404


def test_webhook_deliveries_lists_every_attempt_with_its_payload(
    hub: HubSandbox, client: HubClient, app: dict[str, Any], message_hook: Receiver
) -> None:
    deliver(hub, app, 2)
    deliveries = hub.webhook_deliveries()
    assert len(deliveries) == 2
    assert all(d["payload"]["eventType"] == "Message" for d in deliveries)
