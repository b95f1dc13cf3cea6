"""Realtime events reach the groups after commit, never for a rolled-back write, and in order; a server
process's sockets hear them through one membership of the process."""

import asyncio
import threading
import time
import uuid

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

from channels_app.realtime import PUBLISHER_ID, _Publisher, application_group, local_groups, stamp
from conversations.events import publish_on_commit
from hubdash.channel_layer import PooledRedisChannelLayer


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
        prev = event.pop("prev")
        plain.append((event.pop("seq"), event))
        # When the publisher stamped its previous event of the group: none, or earlier than now.
        assert prev is None or prev <= time.time()
        if len(plain) > 1:
            assert prev is not None  # the event before it in this group was stamped by this process
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


# --- the sockets of one process share one membership per group -------------------------------------


def test_the_sockets_of_a_process_share_one_member_of_the_group_and_each_hears_every_event():
    async def scenario():
        layer = get_channel_layer()
        groups = local_groups(layer)
        group = application_group(7)
        heard: dict[str, list[int]] = {"first": [], "second": []}
        done = asyncio.Event()

        def socket(name: str):
            async def deliver(event: dict) -> None:
                heard[name].append(event["conversation_id"])
                if all(len(h) == 3 for h in heard.values()):
                    done.set()

            return deliver

        first, second = socket("first"), socket("second")
        await _members(layer, group, clear=True)
        await groups.join(group, first)
        await groups.join(group, second)
        members = await _members(layer, group)
        for n in (1, 2, 3):
            await layer.group_send(group, stamp(group, _event(n)))
        await asyncio.wait_for(done.wait(), 5)
        await groups.leave(group, first)
        still = await _members(layer, group)
        await groups.leave(group, second)
        return members, heard, still, await _members(layer, group)

    members, heard, still, after = async_to_sync(scenario)()

    assert len(members) == 1  # the process's channel, not one per socket
    assert heard == {"first": [1, 2, 3], "second": [1, 2, 3]}  # each, in order
    assert still == members  # a socket remains: the process stays in the group
    assert after == []  # the last one left: so did the process


def test_a_socket_that_fails_on_an_event_does_not_stop_the_others_hearing_it(caplog):
    async def scenario():
        groups = local_groups(get_channel_layer())
        group = application_group(7)
        heard: list[int] = []
        got = asyncio.Event()

        async def broken(event: dict) -> None:
            raise RuntimeError("this socket's bug")

        async def healthy(event: dict) -> None:
            heard.append(event["conversation_id"])
            got.set()

        await groups.join(group, broken)  # first in line
        await groups.join(group, healthy)
        for n in (1, 2):
            got.clear()
            await get_channel_layer().group_send(group, stamp(group, _event(n)))
            await asyncio.wait_for(got.wait(), 5)
        await groups.leave(group, broken)
        await groups.leave(group, healthy)
        return heard

    assert async_to_sync(scenario)() == [1, 2]
    assert "this socket's bug" in caplog.text


async def _members(layer, group: str, *, clear: bool = False) -> list[str]:
    """The channel layer's members of `group`, in memory or in Redis (where an earlier run on the same
    database may have left some: `clear` forgets them first)."""
    if hasattr(layer, "groups"):
        if clear:
            layer.groups.pop(group, None)
        return sorted(layer.groups.get(group, {}))
    connection = layer.connection(layer.consistent_hash(group))
    if clear:
        await connection.delete(layer._group_key(group))
    return sorted(m.decode() for m in await connection.zrange(layer._group_key(group), 0, -1))


@pytest.mark.skipif(not settings.REDIS_URL, reason="the Redis channel layer's group_send")
def test_group_send_on_redis_reaches_every_process_and_drops_at_a_full_one_only():
    config = settings.CHANNEL_LAYERS["default"]["CONFIG"]
    prefix = f"{config['prefix']}-capacity-{uuid.uuid4().hex[:8]}"
    # Two server processes' layers on one Redis: each holds its own channels under a key of its own.
    busy, idle = (PooledRedisChannelLayer(hosts=config["hosts"], prefix=prefix, capacity=1) for _ in range(2))

    async def scenario():
        full, free = await busy.new_channel(), await idle.new_channel()
        for channel in (full, free):
            await busy.group_add("g", channel)
        await busy.send(full, {"type": "first"})  # that process's key is at capacity from here
        await busy.group_send("g", {"type": "second"})
        heard = {"full": [(await busy.receive(full))["type"]], "free": [(await idle.receive(free))["type"]]}
        key = busy.prefix + busy.non_local_name(full)
        left = await busy.connection(busy.consistent_hash(key)).zcard(key)  # "second" was not kept
        await busy.flush()
        return heard, left

    assert async_to_sync(scenario)() == ({"full": ["first"], "free": ["second"]}, 0)
