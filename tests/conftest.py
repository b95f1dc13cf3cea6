"""Shared fixtures: named personas, so every view gets an access test, and the Hub sandbox.

Personas: `admin` administers Application A; `agent_a` answers A; `agent_b` answers B only; `superuser`
sees everything. `app_a` and `app_b` each have one channel of every kind, registered in the sandbox.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from channels_app.hub.capabilities import ChannelKind
from channels_app.models import Application, Channel, Membership
from hubsandbox import HubSandbox

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="session", autouse=True)
def _channel_layer_per_test_process() -> None:
    """With pytest-xdist, each worker has its own test database (ids start at 1 in each), so on a shared
    Redis one worker's `app.1` events would reach another worker's listeners: give each its own prefix."""
    from channels.layers import channel_layers
    from django.conf import settings

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    config = settings.CHANNEL_LAYERS["default"].get("CONFIG")
    if worker and config and "prefix" in config:
        config["prefix"] = f"{config['prefix']}-{worker}"
        channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def _api_throttle_counters_per_test(settings) -> None:
    """The API's throttle counts in the cache, which is Redis (shared by the xdist workers, whose ids
    repeat) in `make test-postgres`: each test counts under a key prefix of its own."""
    caches = settings.CACHES
    default = caches.get("default", {})
    settings.CACHES = {**caches, "default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture(autouse=True)
def _no_webhook_route_cache(settings) -> None:
    """Tests change secrets and channels between deliveries; the per-process cache has its own tests."""
    from conversations.actions import inbound

    settings.WEBHOOK_ROUTE_CACHE_SECONDS = 0
    inbound._routes.clear()


@pytest.fixture(autouse=True)
def _no_recent_tab_counts(settings) -> Iterator[None]:
    """Tests write between two pages within a second; the per-process reuse has its own tests
    (tests/inbox/test_tab_counts_recent.py)."""
    from conversations.selectors import inbox

    settings.TAB_COUNTS_CACHE_SECONDS = 0
    inbox._recent_counts.clear()
    yield
    inbox._recent_counts.clear()


@pytest.fixture(autouse=True)
def _no_roster_of_another_test() -> Iterator[None]:
    """A test's rolled-back Applications may share an id and a roster version with the next test's
    (SQLite gives ids out again): what a process keeps under them must not outlive the test."""
    from channels_app import roster

    roster.kept.clear()
    yield
    roster.kept.clear()


@pytest.fixture(autouse=True)
def _default_language_and_zone_after_each_test() -> Iterator[None]:
    """A request activates its user's language and time zone in the thread that serves it, and the test
    client serves in the test's own thread: put the defaults back so no test inherits another's."""
    from django.utils import timezone, translation

    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[HubSandbox]:
    server = HubSandbox(port=0, seed=1234).start()
    yield server
    server.stop()


@pytest.fixture
def hub_sandbox(sandbox_server: HubSandbox, settings) -> Iterator[HubSandbox]:
    """The sandbox, reset for this test, with HUB_BASE_URL pointing at it and fast status webhooks."""
    sandbox_server.reset()
    sandbox_server.configure(statusDelaysMs={"sent": 20, "delivered": 40, "read": 60})
    settings.HUB_BASE_URL = sandbox_server.url
    yield sandbox_server
    sandbox_server.reset()


def _application(name: str, key: str) -> Application:
    app = Application(name=name)
    app.set_api_key(key)
    app.save()
    for kind in ChannelKind:
        Channel.objects.create(
            application=app, hub_channel_id=uuid.uuid4(), kind=kind.value, display_name=f"{name} {kind.label}"
        )
    return app


def register_in_sandbox(sandbox: HubSandbox, app: Application) -> None:
    sandbox.add_application(
        name=app.name,
        api_key=app.hub_api_key,
        channels=[
            {"id": str(c.hub_channel_id), "kind": c.kind, "name": c.display_name} for c in app.channels.all()
        ],
    )


@pytest.fixture
def app_a(db) -> Application:
    return _application("Acme Support", "hubkey-acme-0000-1111-2222-aaaa")


@pytest.fixture
def app_b(db) -> Application:
    return _application("Bravo Shop", "hubkey-bravo-3333-4444-5555-bbbb")


def _user(username: str, **extra) -> object:
    return get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", **extra
    )


@pytest.fixture
def superuser(db):
    return _user("root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin(app_a):
    user = _user("ada", first_name="Ada", last_name="Admin")
    Membership.objects.create(user=user, application=app_a, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def agent_a(app_a):
    user = _user("alice", first_name="Alice", last_name="Agent")
    Membership.objects.create(user=user, application=app_a, role=Membership.Role.AGENT)
    return user


@pytest.fixture
def agent_b(app_b):
    user = _user("bob", first_name="Bob", last_name="Agent")
    Membership.objects.create(user=user, application=app_b, role=Membership.Role.AGENT)
    return user


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sign_in(client: Client, username: str, password: str) -> bool:
    """Sign in through the login form, as a person does; True when it let them in. (Client.login() cannot:
    django-axes, which counts failed sign-ins per address, refuses an authentication without a request.)"""
    response = client.post("/accounts/login/", {"username": username, "password": password})
    return response.status_code == 302


@pytest.fixture
def admin_client_a(admin) -> Client:
    return login(admin)


@pytest.fixture
def agent_a_client(agent_a) -> Client:
    return login(agent_a)


@pytest.fixture
def agent_b_client(agent_b) -> Client:
    return login(agent_b)
