"""Realtime events reach the groups after commit, never for a rolled-back write, and in order."""

import asyncio
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from conversations.events import _Publisher, application_group, conversation_group, publish_on_commit


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


@pytest.mark.django_db(transaction=True)
def test_event_reaches_application_and_conversation_groups_after_commit():
    app_listener = async_to_sync(_listen)(application_group(7))
    conv_listener = async_to_sync(_listen)(conversation_group(1))
    with transaction.atomic():
        publish_on_commit(_event())
    assert async_to_sync(_drain)(app_listener, 1) == [_event()]
    assert async_to_sync(_drain)(conv_listener, 1) == [_event()]


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
        assert publisher.submit([application_group(7)], _event(n))
    assert time.monotonic() - started < 0.5
    received = async_to_sync(_drain)(listener, 50)
    assert [e["conversation_id"] for e in received] == list(range(1, 51))
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
