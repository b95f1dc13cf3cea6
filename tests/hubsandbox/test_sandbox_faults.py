"""Fault mode (settings) and the send accounting the product's tests rely on."""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import RECIPIENTS, HubClient, http

TEXT = {"text": "oi"}


def send_whatsapp(client: HubClient, app: dict[str, Any]) -> Any:
    return client.send("whatsapp", app["by_kind"]["whatsapp"]["id"], RECIPIENTS["whatsapp"], TEXT)


def test_send_error_rate_one_answers_500_and_accepts_nothing(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.configure(sendErrorRate=1.0)
    answer = send_whatsapp(client, app)
    assert answer.status == 500
    assert answer.body["errorCode"] == "internal_error"
    assert hub.accepted_sends() == []


def test_rate_limit_rate_one_answers_429(hub: HubSandbox, client: HubClient, app: dict[str, Any]) -> None:
    hub.configure(sendRateLimitRate=1.0)
    answer = send_whatsapp(client, app)
    assert answer.status == 429
    assert answer.body["errorCode"] == "rate_limited"
    assert answer.headers["x-request-id"]


def test_faults_still_require_a_valid_key(hub: HubSandbox, app: dict[str, Any]) -> None:
    hub.configure(sendErrorRate=1.0)
    assert send_whatsapp(HubClient(hub.url, "wrong"), app).status == 401


def test_a_timeout_before_accepting_answers_late_and_records_nothing(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.configure(sendTimeoutRate=1.0, timeoutSeconds=0.3)
    started = time.monotonic()
    answer = send_whatsapp(client, app)
    assert time.monotonic() - started >= 0.3
    assert answer.status == 504
    assert hub.accepted_sends() == []


def test_a_timeout_after_accepting_records_the_send_then_sleeps(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    hub.configure(sendTimeoutAfterAcceptRate=1.0, timeoutSeconds=2)
    host, port = hub.url.removeprefix("http://").split(":")
    body = json.dumps(
        {"from": app["by_kind"]["whatsapp"]["id"], "to": RECIPIENTS["whatsapp"], "content": TEXT}
    ).encode()
    # A client with a short read timeout, like the product's Hub client.
    with socket.create_connection((host, int(port)), timeout=0.3) as conn:
        conn.sendall(
            b"POST /v1/communication/whatsapp/message HTTP/1.1\r\nHost: x\r\nx-api-key: key-app-a\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        with pytest.raises(TimeoutError):
            conn.recv(100)
    assert len(hub.accepted_sends()) == 1  # the at-least-once window: the Hub has it, the client doesn't know


def test_latency_is_added_to_hub_calls(hub: HubSandbox, client: HubClient, app: dict[str, Any]) -> None:
    hub.configure(latencyMs=150)
    started = time.monotonic()
    client.call("GET", "/v1/organization/webhook")
    assert time.monotonic() - started >= 0.15


def test_a_seed_makes_partial_fault_rates_reproducible(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    def run() -> list[int]:
        hub.reset()
        hub.add_application(name="App A", api_key="key-app-a", channels=[app["by_kind"]["whatsapp"]])
        hub.configure(sendErrorRate=0.5)
        return [send_whatsapp(client, app).status for _ in range(12)]

    first, second = run(), run()
    assert first == second
    assert set(first) == {200, 500}


def test_requests_count_includes_faulted_and_rejected_attempts(
    hub: HubSandbox, client: HubClient, app: dict[str, Any]
) -> None:
    send_whatsapp(client, app)
    client.send("whatsapp", app["by_kind"]["whatsapp"]["id"], "+1", TEXT)
    hub.configure(sendRateLimitRate=1.0)
    send_whatsapp(client, app)
    counts = http("GET", hub.url + "/_sandbox/requests/count").body
    assert counts == {"count": 3, "accepted": 1, "byStatus": {"200": 1, "400": 1, "429": 1}}
    sends = http("GET", hub.url + "/_sandbox/sends").body
    assert sends["count"] == 1


def test_settings_round_trip_and_reject_unknown_keys(hub: HubSandbox) -> None:
    answer = http("PUT", hub.url + "/_sandbox/settings", body={"sendErrorRate": 0.25, "webhookDelayMs": 50})
    assert answer.status == 200
    assert answer.body["sendErrorRate"] == 0.25
    assert answer.body["webhookDelayMs"] == [50, 50]
    assert http("GET", hub.url + "/_sandbox/settings").body == answer.body
    assert http("PUT", hub.url + "/_sandbox/settings", body={"sendErrorRat": 1}).status == 400
    assert http("PUT", hub.url + "/_sandbox/settings", body={"sendErrorRate": 2}).status == 400
    with pytest.raises(ValueError):
        hub.configure(statusDelaysMs={"queued": 5})


def test_reset_clears_everything(hub: HubSandbox, client: HubClient, app: dict[str, Any]) -> None:
    send_whatsapp(client, app)
    hub.configure(sendErrorRate=1.0)
    assert http("POST", hub.url + "/_sandbox/reset").status == 200
    assert hub.accepted_sends() == []
    assert hub.applications() == []
    assert hub.settings()["sendErrorRate"] == 0.0
    assert send_whatsapp(client, app).status == 401
