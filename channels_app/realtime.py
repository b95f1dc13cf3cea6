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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import uuid
from collections.abc import Iterable
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

    def stamp(self, group: str, event: dict[str, Any]) -> dict[str, Any]:
        seq = self.counters.get(group, 0) + 1
        self.counters[group] = seq
        return {**event, "group": group, "pub": PUBLISHER_ID, "seq": seq}


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
