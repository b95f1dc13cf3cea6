"""Fixtures for the Hub sandbox tests. Nothing here needs Django (run with `-p no:django` too).

Webhook receivers are tiny stdlib HTTP servers, not Django views, so these tests exercise the sandbox alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from hubsandbox import HubSandbox
from tests.hubsandbox.sandbox_support import (
    API_KEY,
    FAST_DELAYS,
    KINDS,
    OTHER_API_KEY,
    HubClient,
    Receiver,
    start_receiver,
)


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    servers: list[ThreadingHTTPServer] = []

    def factory(**options: Any) -> Receiver:
        receiver, server = start_receiver(**options)
        servers.append(server)
        return receiver

    yield factory
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def running_hub() -> Iterator[HubSandbox]:
    # One server for the whole run, reset before each test: starting and stopping a server per test
    # would cost more than the tests themselves.
    sandbox = HubSandbox(port=0, seed=1234).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def hub(running_hub: HubSandbox) -> HubSandbox:
    running_hub.reset()
    running_hub.configure(statusDelaysMs=FAST_DELAYS, verificationTimeoutSeconds=1, webhookTimeoutSeconds=1)
    return running_hub


@pytest.fixture
def app(hub: HubSandbox) -> dict[str, Any]:
    """Application A with one channel of every kind; `app["by_kind"]["sms"]` is its SMS channel."""
    created = hub.add_application(name="App A", api_key=API_KEY, channels=[{"kind": kind} for kind in KINDS])
    created["by_kind"] = {channel["kind"]: channel for channel in created["channels"]}
    return created


@pytest.fixture
def other_app(hub: HubSandbox) -> dict[str, Any]:
    created = hub.add_application(name="App B", api_key=OTHER_API_KEY, channels=[{"kind": k} for k in KINDS])
    created["by_kind"] = {channel["kind"]: channel for channel in created["channels"]}
    return created


@pytest.fixture
def client(hub: HubSandbox, app: dict[str, Any]) -> HubClient:
    return HubClient(hub.url, API_KEY)


@pytest.fixture
def other_client(hub: HubSandbox, other_app: dict[str, Any]) -> HubClient:
    return HubClient(hub.url, OTHER_API_KEY)


@pytest.fixture
def message_hook(client: HubClient, make_receiver: Callable[..., Receiver]) -> Receiver:
    """A verified `Message` webhook of application A."""
    receiver = make_receiver()
    answer = client.create_webhook(receiver.url, "Message")
    assert answer.status == 201 and answer.body["isVerified"] is True
    receiver.webhook = answer.body  # type: ignore[attr-defined]
    return receiver


@pytest.fixture
def status_hook(client: HubClient, make_receiver: Callable[..., Receiver]) -> Receiver:
    """A verified `MessageStatus` webhook of application A."""
    receiver = make_receiver()
    answer = client.create_webhook(receiver.url, "MessageStatus")
    assert answer.status == 201 and answer.body["isVerified"] is True
    receiver.webhook = answer.body  # type: ignore[attr-defined]
    return receiver
