"""The view tabs' counts and the view's unread number, live without a count query per websocket event.

Each server process holds one `CountBoard`. An event that may move a conversation between tabs or
change whether it is unread (`message.created`: a new conversation, a reopened one, a customer's
message; `conversation.updated`: a status, an assignee, a thread read or marked unread) only marks the
board dirty. At most once per `DELAY` the board runs one grouped query (`count_groups`: per
Application, channel kind, status and assignee, with the unread ones among them; its size does not grow
with the conversations) for every Application its sockets watch, and each socket sums its own tabs and
unread number from that in memory and sends them only when they changed. A burst of 100 events costs
one query per process, not 100 per tab.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from channels_app.database import database_read
from conversations.selectors.inbox import CountGroups, count_groups

log = logging.getLogger(__name__)

Listener = Callable[[CountGroups], Awaitable[None]]


class CountBoard:
    DELAY = 1.0  # seconds: the longest a tab's counts lag behind the list

    def __init__(self) -> None:
        self._listeners: dict[Listener, frozenset[int]] = {}
        self._dirty = False
        self._task: asyncio.Task[None] | None = None
        self.recounts = 0  # how many grouped queries this process ran (the tests read it)

    def watch(self, listener: Listener, application_ids: frozenset[int]) -> None:
        self._listeners[listener] = application_ids

    def forget(self, listener: Listener) -> None:
        self._listeners.pop(listener, None)

    def touch(self) -> None:
        """An event that may have changed the counts: recount soon, once for every event until then."""
        self._dirty = True
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._task.get_loop() is not loop:
            self._task = loop.create_task(self._run())

    async def _run(self) -> None:
        while self._dirty:
            await asyncio.sleep(self.DELAY)
            self._dirty = False
            listeners = dict(self._listeners)
            watched = frozenset().union(*listeners.values()) if listeners else frozenset()
            if not watched:
                continue
            try:
                groups = await database_read(count_groups)(application_ids=watched)
            except Exception:  # the database briefly away: the next event tries again
                log.warning("could not recount the view tabs", exc_info=True)
                continue
            self.recounts += 1
            for listener in listeners:
                try:
                    await listener(groups)
                except Exception:  # one closed socket must not keep the others' counts stale
                    log.warning("could not send tab counts", exc_info=True)


board = CountBoard()
