"""Realtime events reach the groups after commit, never for a rolled-back write, and in order."""

import asyncio
import threading
import time

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import transaction

from channels_app.realtime import PUBLISHER_ID, _Publisher, application_group
from conversations.events import publish_on_commit


def _event(n: int = 1) -> dict:
    return {"type": "conversation.updated", "application_id": 7, "conversation_id": n}


async def _listen(*groups: str) -> str:
    layer = get_channel_layer()
    name = await layer.new_channel()
    for group in groups:
        await layer.group_add(group, name)
    return name


async def _drain(name: str, count: int, timeout: float = 3.0) -> list[dict]:
    layer = get_channel_layer()
    return [await asyncio.wait_for(layer.receive(name), timeout) for _ in range(count)]


def _stamped(events: list[dict]) -> list[dict]:
    """The events without their stamp, after checking it: this process, the group, numbers in order."""
    plain = []
    for event in events:
        event = dict(event)
        assert event.pop("pub") == PUBLISHER_ID
        assert event.pop("group") == application_group(event["application_id"])
        plain.append((event.pop("seq"), event))
    seqs = [seq for seq, _ in plain]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True
    return [event for _, event in plain]


@pytest.mark.django_db(transaction=True)
def test_event_reaches_the_application_group_after_commit_with_its_sequence_number():
    async def scenario():  # one loop: the Redis layer binds a channel's receive buffer to its loop
        listener = await _listen(application_group(7))
        held = threading.Event()
        release = threading.Event()

        def write() -> None:
            with transaction.atomic():
                publish_on_commit(_event(1))
                publish_on_commit(_event(2))
                held.set()
                release.wait(5)

        # From a thread of this loop's, as a request's: the publish then runs on this loop.
        writer = asyncio.ensure_future(sync_to_async(write, thread_sensitive=False)())
        assert await asyncio.to_thread(held.wait, 10), "the write never reached its commit"
        # Still inside the transaction: nothing may be heard yet.
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(get_channel_layer().receive(listener), 0.3)
        release.set()
        await writer
        return await _drain(listener, 2)

    assert _stamped(async_to_sync(scenario)()) == [_event(1), _event(2)]


@pytest.mark.django_db(transaction=True)
def test_rolled_back_write_publishes_nothing():
    listener = async_to_sync(_listen)(application_group(7))
    with pytest.raises(RuntimeError), transaction.atomic():
        publish_on_commit(_event())
        raise RuntimeError("roll back")
    with pytest.raises(asyncio.TimeoutError):
        async_to_sync(_drain)(listener, 1, 0.3)


@pytest.mark.django_db(transaction=True)
def test_background_publisher_delivers_in_order_without_blocking_the_caller():
    listener = async_to_sync(_listen)(application_group(7))
    publisher = _Publisher()
    publisher.start_background_loop()
    started = time.monotonic()
    for n in range(1, 51):
        assert publisher.submit(application_group(7), _event(n))
    assert time.monotonic() - started < 0.5
    received = async_to_sync(_drain)(listener, 50)
    assert [e["conversation_id"] for e in _stamped(received)] == list(range(1, 51))
    publisher.close()


@pytest.mark.django_db(transaction=True)
def test_unreachable_channel_layer_neither_raises_nor_holds_the_write(settings):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }
    settings.CHANNEL_LAYER_PUBLISH_TIMEOUT = 0.5
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    try:
        started = time.monotonic()
        with transaction.atomic():
            publish_on_commit(_event())
        assert time.monotonic() - started < 2.0
    finally:
        channel_layers.backends.pop("default", None)
