"""Fixtures for the send path: conversations to reply to, fast retry settings, and in-process workers.

Workers here are the worker loop `run_worker` runs (conversations/worker.py) on threads of the test
process, so they share its test database; `test_worker_process.py` runs the real command in a subprocess.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from channels_app.models import Application, Channel
from conversations.models import Contact, Conversation, Message
from conversations.worker import ReplyWorker
from tests.conftest import register_in_sandbox

RECIPIENTS = {
    "whatsapp": "5521987654321",
    "sms": "+14155550123",
    "telegram": "987654321",
    "instagram": "26203292189261166",
    "messenger": "7310246842317",
    "webchatt": "visitor-42",
}


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # The personas are created with passwords; the production hasher costs ~0.5 s per user here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def make_conversation(
    app: Application, kind: str, *, external_id: str | None = None, wrote_minutes_ago: float | None = 5
) -> Conversation:
    """A thread on `app`'s channel of `kind` with a customer who wrote `wrote_minutes_ago` (None: never)."""
    channel = Channel.objects.get(application=app, kind=kind)
    contact = Contact.objects.create(
        channel=channel, external_id=external_id or RECIPIENTS[kind], display_name=f"Customer {kind}"
    )
    now = timezone.now()
    last_inbound = now - timedelta(minutes=wrote_minutes_ago) if wrote_minutes_ago is not None else None
    return Conversation.objects.create(
        application=app, channel=channel, contact=contact, last_activity_at=now, last_inbound_at=last_inbound
    )


@pytest.fixture
def fast_sending(settings):
    """Retries in milliseconds, and a read timeout short enough for the sandbox's timeout faults."""
    settings.HUB_CONNECT_TIMEOUT = 1.0
    settings.HUB_READ_TIMEOUT = 0.4
    settings.HUB_SEND_BACKOFF_BASE = 0.02
    settings.HUB_SEND_BACKOFF_MAX = 0.2
    settings.HUB_SEND_MAX_ATTEMPTS = 40
    settings.HUB_SEND_LEASE_SECONDS = 5
    return settings


@pytest.fixture
def sandbox_a(hub_sandbox, app_a):
    register_in_sandbox(hub_sandbox, app_a)
    hub_sandbox.open_webchatt_session(
        channel_id=str(Channel.objects.get(application=app_a, kind="webchatt").hub_channel_id),
        visitor_id=RECIPIENTS["webchatt"],
    )
    return hub_sandbox


def key() -> str:
    return uuid.uuid4().hex


def _work(worker: ReplyWorker, errors: list[BaseException]) -> None:
    try:
        worker.run()
    except BaseException as exc:  # surfaced by the context manager
        errors.append(exc)
    finally:
        close_old_connections()
        connection.close()


@contextmanager
def workers(count: int = 1, *, threads: int = 2) -> Iterator[None]:
    """Run `count` workers on threads while the block runs (polling every 20 ms when nothing is due), each
    with `threads` Hub calls in flight at once. Two, not the command's default: the sandbox answers in this
    process too, and its listening socket queues only a few connections."""
    errors: list[BaseException] = []
    loops = [ReplyWorker(interval=0.02, worker_id=f"test-{n}", threads=threads) for n in range(count)]
    threads = [threading.Thread(target=_work, args=(loop, errors), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        for loop in loops:
            loop.stop()
        for thread in threads:
            thread.join(timeout=30)
    if errors:
        raise errors[0]


def settled(*message_ids: int) -> Callable[[], bool]:
    """Every one of these replies left `pending` (sent, enqueued, failed...)."""

    def check() -> bool:
        return not Message.objects.filter(pk__in=message_ids, status=Message.Status.PENDING).exists()

    return check
