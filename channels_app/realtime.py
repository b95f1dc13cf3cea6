"""Realtime plumbing both apps use: group names, the publisher, sequence numbers, access-change events.

It sits low (channels_app imports nothing above it), so an access change published by a channels_app
action and a new message published by a conversations action go through the same code. What an event
*means* for the inbox lives in conversations/events.py and conversations/live.py.

Every event is published after its transaction commits, so a browser never sees a row that was rolled
back, and a broken channel layer never fails or rolls back the write.

**Sequence numbers.** Each process that publishes numbers its events per group: `pub` (a random id of
the process) and `seq` (1, 2, 3, … per group). One publisher sends in order (one queue, one loop), so a
socket that receives `seq` 7 after 5 from the same `pub` knows it missed 6: dropped at the channel
layer's capacity, or lost while Redis restarted. The socket then tells its tab to resync (consumers.py).

**One channel per process in each group** (`LocalGroups`). An Application's group does not hold every
open tab: it holds one channel of each server process that has tabs of it, and that process hands each
event to its own tabs in memory. With the channel layer doing it per tab, each event cost a Redis
member per tab in `group_send` and a receive per tab (tasks, locks and queues of channels-redis): at
50 tabs and 20 events/s, most of a process's time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

# This process, for the sequence numbers of the events it publishes (see the module docstring).
PUBLISHER_ID = uuid.uuid4().hex[:12]


def application_group(application_id: int) -> str:
    """Every open inbox tab that may see this Application."""
    return f"app.{application_id}"


def user_group(user_id: int) -> str:
    """Every open tab of one user: told when their access (or their session) changes."""
    return f"user.{user_id}"


class AccessChanged(TypedDict, total=False):
    type: Literal["access.changed"]
    user_id: int
    # The session that just signed out, if that is what happened: its sockets close at once.
    ended_session: str


async def _fan_out(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        # Redis down must not hold the webhook or the worker: give up after a short, fixed time.
        await asyncio.wait_for(layer.group_send(group, event), timeout=settings.CHANNEL_LAYER_PUBLISH_TIMEOUT)
    except Exception:  # the write already committed; a lost live update is noticed by its seq gap
        log.warning("could not publish %s to %s", event.get("type"), group, exc_info=True)


class _Sequencer:
    """Per-group counters of this process; stamping and queueing happen under one lock so that the
    queue holds each group's events in `seq` order."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counters: dict[str, int] = {}
        self.stamped_at: dict[str, float] = {}

    def stamp(self, group: str, event: dict[str, Any]) -> dict[str, Any]:
        seq = self.counters.get(group, 0) + 1
        self.counters[group] = seq
        # `prev`: when this publisher stamped its previous event for the group (wall clock, seconds). A
        # socket hearing this publisher for the first time compares it with its own last sync: a
        # previous event stamped after that sync should have been heard, and was not.
        now = time.time()
        prev = self.stamped_at.get(group)
        self.stamped_at[group] = now
        return {**event, "group": group, "pub": PUBLISHER_ID, "seq": seq, "prev": prev}


_sequencer = _Sequencer()


def stamp(group: str, event: dict[str, Any]) -> dict[str, Any]:
    """`event` as this process publishes it to `group`: with its publisher id and next `seq`."""
    with _sequencer.lock:
        return _sequencer.stamp(group, event)


class _Publisher:
    """Publishes from sync code onto one long-lived event loop, in order, without waiting.

    Without it, each publish from a thread that has no event loop (the worker) would build a new loop
    and a new Redis connection. Bound to daphne's own loop (the embedded in-process worker, where the
    in-memory channel layer only works on that loop), or to a background loop of its own (`run_worker`).
    """

    # Beyond this many unsent events (channel layer down for long) new ones are dropped, not buffered:
    # memory stays bounded, and the sockets see the gap in `seq` and resync from the database.
    MAX_BACKLOG = 10_000

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.loop is loop:
            return
        self.loop = loop
        loop.call_soon_threadsafe(self._start)

    def start_background_loop(self) -> None:
        with self._starting:
            if self._thread is not None:
                return  # already running one
            loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=loop.run_forever, name="realtime-publisher", daemon=True)
            self._thread.start()
            self.bind(loop)

    def close(self, timeout: float = 5.0) -> None:
        """Send what is queued (up to `timeout`), then stop a background loop started here."""
        loop, thread = self.loop, self._thread
        if loop is None or thread is None:
            return

        async def drain_and_stop() -> None:
            if self.queue is not None:
                try:
                    await asyncio.wait_for(self.queue.join(), timeout)
                except TimeoutError:
                    log.warning("realtime publisher closed with %d events unsent", self.queue.qsize())
            if self._pump_task is not None:
                self._pump_task.cancel()
                # Wait for it to finish cancelling: a task left pending is destroyed with the loop
                # ("Task was destroyed but it is pending!").
                with contextlib.suppress(asyncio.CancelledError):
                    await self._pump_task
            loop.stop()

        loop.call_soon_threadsafe(lambda: loop.create_task(drain_and_stop()))
        thread.join(timeout + 1)
        loop.close()
        self.loop = self._thread = self._pump_task = None

    def _start(self) -> None:
        self.queue = asyncio.Queue(maxsize=self.MAX_BACKLOG)
        self._pump_task = asyncio.get_running_loop().create_task(self._pump(self.queue))

    async def _pump(self, queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        while True:
            group, event = await queue.get()
            try:
                await _fan_out(group, event)
            finally:
                queue.task_done()

    def _enqueue(self, item: tuple[str, dict[str, Any]]) -> None:
        try:
            self.queue.put_nowait(item)  # type: ignore[union-attr]
        except asyncio.QueueFull:
            log.warning("realtime backlog full: dropped %s", item[1].get("type"))

    def submit(self, group: str, event: dict[str, Any]) -> bool:
        """Stamp and queue `event` for `group`; False when no loop is bound (the caller sends it)."""
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return False
        with _sequencer.lock:
            loop.call_soon_threadsafe(self._enqueue, (group, _sequencer.stamp(group, event)))
        return True


publisher = _Publisher()


def send_now(group: str, event: dict[str, Any]) -> None:
    """Publish `event` to `group` from sync code, stamped with this process's next `seq`."""
    if publisher.submit(group, event):
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # No long-lived loop bound (requests under daphne, tests): publish now. From a request thread,
        # async_to_sync runs this on the server's own loop, where the channel layer lives.
        async_to_sync(_fan_out)(group, stamp(group, event))
        return
    # Sync code running on a thread whose event loop is busy running it (a script or test driving a
    # browser): async_to_sync cannot wait here, so this process gets a publishing loop of its own.
    publisher.start_background_loop()
    publisher.submit(group, event)


def send_on_commit(group: str, event: dict[str, Any]) -> None:
    """Publish once the current transaction commits (at once outside one); never for a rollback."""
    transaction.on_commit(lambda: send_now(group, event), robust=True)


# --- The sockets of this process -------------------------------------------------------------------

# What a socket gives `LocalGroups.join`: called with each event of the group, in the order received.
Deliver = Callable[[dict[str, Any]], Awaitable[None]]


_STOP_READING = "realtime.stop_reading"


class LocalGroups:
    """This process's sockets in each group, on one event loop and one channel layer.

    One channel of the process is in the channel layer's group while any of its sockets is (refreshed by
    every join: channels-redis forgets a member after a day); one task reads that channel and awaits each
    member's `deliver` in turn, in the order events arrive. An event names its group (`stamp`), which is
    how it finds its members. Events keep their `seq`, so a socket still notices one the channel layer
    dropped (the process's channel over its capacity) and its tab resyncs.

    When the last socket leaves, the reader is told to stop through its own channel rather than
    cancelled: on Python 3.11 a cancellation that lands while redis-py writes a command is lost (its
    `asyncio.wait_for`), and channels-redis would then wait for messages for ever, holding the loop open.
    """

    RETRY_AFTER = (0.5, 1.0, 2.0, 5.0)  # seconds between reads while the channel layer fails
    # Seconds between joins of every group again: a restarted Redis forgot them all, and a read may never
    # fail to say so (the connection is simply made again). An event lost meanwhile is a `seq` gap.
    REJOIN_EVERY = 5.0

    def __init__(self, layer: Any) -> None:
        self.layer = layer
        self.members: dict[str, dict[Deliver, None]] = {}  # ordered sets
        self.channel: str | None = None
        self._reader: asyncio.Task[None] | None = None
        self._rejoiner: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()
        self._starting = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}

    async def join(self, group: str, deliver: Deliver) -> None:
        self.members.setdefault(group, {})[deliver] = None
        channel = await self._channel()
        # Joins and leaves of one group reach the channel layer in the order they were decided.
        async with self._locks.setdefault(group, asyncio.Lock()):
            if self.members.get(group):
                await self.layer.group_add(group, channel)

    async def leave(self, group: str, deliver: Deliver) -> None:
        members = self.members.get(group)
        if members is None or deliver not in members:
            return
        del members[deliver]
        if members:
            return
        async with self._locks.setdefault(group, asyncio.Lock()):
            if not self.members.get(group) and self.channel is not None:  # nobody joined meanwhile
                self.members.pop(group, None)
                await self.layer.group_discard(group, self.channel)
        await self._stop_if_idle()

    def forget(self, deliver: Deliver) -> None:
        """Stop handing events to a socket that ended without leaving (its consumer crashed). The
        process's channel may stay in a group it no longer needs until the next join or leave there."""
        for members in self.members.values():
            members.pop(deliver, None)

    async def _channel(self) -> str:
        if self.channel is None:
            async with self._starting:
                if self.channel is None:
                    channel = await self.layer.new_channel()
                    loop = asyncio.get_running_loop()
                    self._reader = loop.create_task(self._read(channel))
                    self._stopped = asyncio.Event()
                    self._rejoiner = loop.create_task(self._rejoin_every(channel, self._stopped))
                    self.channel = channel
        return self.channel

    async def _stop_if_idle(self) -> None:
        async with self._starting:
            if self.channel is None or self._reader is None or any(self.members.values()):
                return
            channel, reader = self.channel, self._reader
            self.channel = self._reader = self._rejoiner = None  # the next join starts afresh
            self._stopped.set()
            with contextlib.suppress(Exception):
                await self.layer.send(channel, {"type": _STOP_READING})
            if asyncio.current_task() is reader:
                # The last socket left while the reader handed it an event (its consumer failed on it):
                # the reader reads the stop next. Waiting for itself here would time out and cancel the
                # reader, and with it the failed consumer's close, leaving its tab open and deaf.
                return
            if not (await asyncio.wait({reader}, timeout=5))[0]:
                reader.cancel()  # the channel layer is away: nothing is in flight to lose

    async def _rejoin_every(self, channel: str, stopped: asyncio.Event) -> None:
        """Join this channel's groups again every REJOIN_EVERY s, until the reader stops (never
        cancelled, for the reason given above)."""
        while True:
            try:
                await asyncio.wait_for(stopped.wait(), self.REJOIN_EVERY)
                return
            except TimeoutError:
                pass
            for group in list(self.members):
                try:
                    async with self._locks.setdefault(group, asyncio.Lock()):
                        if self.members.get(group) and self.channel == channel:
                            await self.layer.group_add(group, channel)
                except Exception:  # the channel layer is away: the next round tries again
                    log.warning("could not join %s again", group, exc_info=True)
                    break

    async def _read(self, channel: str) -> None:
        failures = 0
        while True:
            try:
                event = await self.layer.receive(channel)
            except Exception:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    # Cancelled while reading (the loop is closing): redis-py may raise its own error for
                    # the interrupted command, and a reader that went on would keep the loop from closing.
                    raise asyncio.CancelledError from None
                # Redis away: the sockets stay open and the next event's `seq` tells them what they
                # missed. Back, it may have lost the groups (a restart): join them again.
                log.warning("could not read this process's channel", exc_info=failures == 0)
                await asyncio.sleep(self.RETRY_AFTER[min(failures, len(self.RETRY_AFTER) - 1)])
                failures += 1
                with contextlib.suppress(Exception):
                    for group in list(self.members):
                        await self.layer.group_add(group, channel)
                continue
            failures = 0
            if event.get("type") == _STOP_READING:
                return
            for deliver in list(self.members.get(str(event.get("group")), ())):
                try:
                    await deliver(event)
                except Exception:  # one socket's failure is its own (it closes); the others go on
                    log.exception("delivering %s failed", event.get("type"))


_local_groups: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, LocalGroups]] = (
    weakref.WeakKeyDictionary()
)


def local_groups(layer: Any) -> LocalGroups:
    """The sockets of this process in each group, for the running loop and this channel layer (a test's
    loop, or a layer its settings swapped in, gets its own)."""
    per_layer = _local_groups.setdefault(asyncio.get_running_loop(), {})
    groups = per_layer.get(id(layer))
    if groups is None or groups.layer is not layer:
        groups = per_layer[id(layer)] = LocalGroups(layer)
    return groups


# --- Access changes --------------------------------------------------------------------------------


class _AccessBatch:
    """The users whose access changed in one transaction: each open tab hears of it once, at commit,
    however many rows (memberships, flags) the transaction touched."""

    def __init__(self) -> None:
        self.user_ids: dict[int, None] = {}  # ordered set
        self.ended_sessions: dict[int, str] = {}

    def flush(self) -> None:
        for user_id in self.user_ids:
            event: AccessChanged = {"type": "access.changed", "user_id": user_id}
            if user_id in self.ended_sessions:
                event["ended_session"] = self.ended_sessions[user_id]
            send_now(user_group(user_id), dict(event))


def publish_access_changed(*, user_ids: Iterable[int], ended_session: str = "") -> None:
    """These users' Applications, flags or sessions changed: their open tabs re-check who they are,
    join or leave Application groups and, when what they may see changed, reload the list."""
    connection = transaction.get_connection()
    batch: _AccessBatch | None = getattr(connection, "hubdash_access_batch", None)
    # A batch belongs to the transaction whose on-commit list still holds its flush: a rolled-back one
    # (its callbacks discarded) must not swallow the next transaction's users.
    pending = [callback for _, callback, _ in connection.run_on_commit]
    fresh = batch is None or not connection.in_atomic_block or batch.flush not in pending
    if fresh:
        batch = _AccessBatch()
        connection.hubdash_access_batch = batch
    assert batch is not None
    for user_id in user_ids:
        batch.user_ids[user_id] = None
        if ended_session:
            batch.ended_sessions[user_id] = ended_session
    if fresh:  # outside a transaction this sends at once, so only once the batch is filled
        transaction.on_commit(batch.flush, robust=True)
