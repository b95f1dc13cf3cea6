"""Realtime events: their names, their payloads and the groups they go to.

Every event is published from an action after its transaction commits, so a browser never sees a row
that was rolled back, and a broken channel layer never fails or rolls back the write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Literal, TypedDict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)


def application_group(application_id: int) -> str:
    """Everyone who may see this Application's inbox."""
    return f"app.{application_id}"


def conversation_group(conversation_id: int) -> str:
    """Everyone with this thread open."""
    return f"conv.{conversation_id}"


def user_group(user_id: int) -> str:
    """Every open tab of one user: told when their access changes."""
    return f"user.{user_id}"


class MessageCreated(TypedDict):
    type: Literal["message.created"]
    application_id: int
    conversation_id: int
    message_id: int


class MessageStatusChanged(TypedDict):
    type: Literal["message.status"]
    application_id: int
    conversation_id: int
    message_id: int
    status: str


class ConversationUpdated(TypedDict):
    type: Literal["conversation.updated"]
    application_id: int
    conversation_id: int


class AccessChanged(TypedDict):
    type: Literal["access.changed"]
    user_id: int


Event = MessageCreated | MessageStatusChanged | ConversationUpdated | AccessChanged


async def _fan_out(groups: list[str], event: Event) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def fan_out() -> None:
        for group in groups:
            await layer.group_send(group, dict(event))

    try:
        # Redis down must not hold the webhook or the worker: give up after a short, fixed time.
        await asyncio.wait_for(fan_out(), timeout=settings.CHANNEL_LAYER_PUBLISH_TIMEOUT)
    except Exception:  # the write already committed; a lost live update is recovered on resync
        log.warning("could not publish %s to %s", event["type"], groups, exc_info=True)


class _Publisher:
    """Publishes from sync code onto one long-lived event loop, in order, without waiting.

    Without it, each publish from a thread that has no event loop (the worker) would build a new loop
    and a new Redis connection. Bound to daphne's own loop (the embedded in-process worker, where the
    in-memory channel layer only works on that loop), or to a background loop of its own (`run_worker`).
    """

    # Beyond this many unsent events (channel layer down for long) new ones are dropped, not buffered:
    # memory stays bounded and browsers resync from the database when they reconnect.
    MAX_BACKLOG = 10_000

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[tuple[list[str], Event]] | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        if self.loop is loop:
            return
        self.loop = loop
        loop.call_soon_threadsafe(self._start)

    def start_background_loop(self) -> None:
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

    async def _pump(self, queue: asyncio.Queue[tuple[list[str], Event]]) -> None:
        while True:
            groups, event = await queue.get()
            try:
                await _fan_out(groups, event)
            finally:
                queue.task_done()

    def _enqueue(self, item: tuple[list[str], Event]) -> None:
        try:
            self.queue.put_nowait(item)  # type: ignore[union-attr]
        except asyncio.QueueFull:
            log.warning("realtime backlog full: dropped %s", item[1]["type"])

    def submit(self, groups: list[str], event: Event) -> bool:
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return False
        loop.call_soon_threadsafe(self._enqueue, (groups, event))
        return True


publisher = _Publisher()


def _send(groups: list[str], event: Event) -> None:
    if not publisher.submit(groups, event):
        # No long-lived loop bound (requests under daphne, tests): publish now. From a request thread,
        # async_to_sync runs this on the server's own loop, where the channel layer lives.
        async_to_sync(_fan_out)(groups, event)


def publish_on_commit(event: Event) -> None:
    """Send `event` to its Application's group and its conversation's group once the transaction commits."""
    groups = [application_group(event["application_id"]), conversation_group(event["conversation_id"])]
    transaction.on_commit(lambda: _send(groups, event), robust=True)


def publish_conversation_updated(*, application_id: int, conversation_id: int) -> None:
    publish_on_commit(
        {"type": "conversation.updated", "application_id": application_id, "conversation_id": conversation_id}
    )


def publish_message_created(*, application_id: int, conversation_id: int, message_id: int) -> None:
    """A new message in a thread: the message itself, and its conversation's row (which moved up)."""
    publish_on_commit(
        {
            "type": "message.created",
            "application_id": application_id,
            "conversation_id": conversation_id,
            "message_id": message_id,
        }
    )
    publish_conversation_updated(application_id=application_id, conversation_id=conversation_id)


def publish_access_changed(*, user_ids: list[int]) -> None:
    """These users' Applications changed: their open tabs join or leave groups and reload the list."""
    for user_id in user_ids:
        event: AccessChanged = {"type": "access.changed", "user_id": user_id}
        transaction.on_commit(lambda e=event: _send([user_group(e["user_id"])], e), robust=True)
