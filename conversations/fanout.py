"""A live event, read from the database once per server process and framed for each tab from memory.

Every open inbox tab of an Application receives each of its events (its socket is in the group). Drawn
per socket, 50 agents cost 50 row queries and 50 renders per event, all on the one thread that Channels
gives database work: one process then fell seconds behind at 2 events/s. Here the first socket of a
process to receive an event loads it (`SharedRender.load`, one query); every part a tab needs is drawn
once per *variant* and shared: the row differs only by the tab's filter query string, whether it is the
open thread, whether the viewer is its author or assignee ("You:", "Mine") and whether the list names
Applications, and the viewer's language and time zone (`Locale`: a handful per process, not one per
agent). A socket checks access from the Application ids it holds in memory (refreshed by
`access.changed`, consumers.py), so an event costs no database work per socket.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from channels_app.database import database_read
from channels_app.preferences import Locale, activated
from conversations.live import (
    TabState,
    frame,
    messages_html,
    new_cursor,
    notice,
    removal,
    render_partial,
    thread_state_html,
)
from conversations.models import Conversation, Label
from conversations.selectors.inbox import conversation_matches_search, live_row, page_labels
from conversations.selectors.thread import (
    ContactPanel,
    assignable_agents,
    live_contact_panel,
    message_with_context,
)
from conversations.templatetags.fragments import NO_VIEWER
from conversations.templatetags.inbox import preview_of


@dataclass(frozen=True)
class Viewer:
    """What a socket knows of its tab and its user without asking the database."""

    user_id: int
    application_ids: frozenset[int]
    multi_app: bool
    state: TabState
    locale: Locale  # the user's language and time zone, as of the tab's last sync


class SharedRender:
    """One event and the parts drawn from it so far, keyed by variant (see the module docstring)."""

    def __init__(self, event: dict[str, Any], *, cursor: str, conversation: Conversation | None) -> None:
        self.event = event
        self.cursor = cursor
        self.conversation = conversation
        self._parts: dict[Hashable, asyncio.Future[Any]] = {}
        self._agents: list[Any] | None = None
        self._labels: list[Label] | None = None
        # Whole frames by (parts, gen, gap): tabs that show the same thing get the very same text.
        self._frames: dict[tuple[tuple[str, ...], int, bool], str] = {}
        self._removal: str | None = None
        # Contact panels by conversation (`contact.changed`), read once however many locales draw them.
        self._panels: dict[int, tuple[Conversation, ContactPanel] | None] = {}

    @classmethod
    def load(cls, event: dict[str, Any]) -> SharedRender:
        """Read what every tab needs (sync: runs on the database thread)."""
        cursor = new_cursor()  # before the read: anything committed later is newer than this frame
        conversation_id = event.get("conversation_id")
        conversation = live_row(conversation_id=conversation_id) if isinstance(conversation_id, int) else None
        return cls(event, cursor=cursor, conversation=conversation)

    # --- parts, drawn once each (sync: the database thread) -------------------------------------------

    def _draw(self, key: tuple[Any, ...]) -> Any:
        if key[0] == "search":
            assert self.conversation is not None
            return conversation_matches_search(conversation_id=self.conversation.pk, term=key[1])
        # Every drawn part ends its key with the locale it is drawn in: texts and times are the viewer's.
        with activated(key[-1]):
            return self._draw_in_locale(key[:-1])

    def _draw_in_locale(self, key: tuple[Any, ...]) -> str:
        kind = key[0]
        if kind == "panel":
            return self._panel(key[1])
        c = self.conversation
        assert c is not None
        if kind == "row":
            _, filters_query, viewer_id, active, multi_app = key
            context = {
                "conversation": c,
                "viewer_id": viewer_id,
                "filters_query": filters_query,
                "active_id": c.pk if active else None,
                "multi_app": multi_app,
                "in_frame": True,
            }
            return render_partial("inbox_row", context)
        if kind == "bubble":
            messages = message_with_context(message_id=self.event["message_id"], conversation_id=c.pk)
            return messages_html(messages, {"in_frame": True})
        if kind == "thread":
            _, filters_query, viewer_id = key
            if self._agents is None:
                self._agents = assignable_agents(application=c.application)
                self._labels = page_labels([c.application])
            base = {"viewer_id": viewer_id, "filters_query": filters_query, "in_frame": True}
            return thread_state_html(c, base, agents=self._agents, labels=self._labels)
        raise ValueError(key)

    def _panel(self, conversation_id: int) -> str:
        """A thread's contact panel, or "" when the conversation is gone (the tab's next sync says so)."""
        if conversation_id not in self._panels:
            self._panels[conversation_id] = live_contact_panel(conversation_id=conversation_id)
        loaded = self._panels[conversation_id]
        if loaded is None:
            return ""
        conversation, panel = loaded
        if conversation.application_id != self.event.get("application_id"):
            return ""  # the tab's access was checked against the event's Application: show only its own
        # The same partial as the page and the panel's own actions; no per-viewer word in it.
        return render_partial(
            "contact_panel", {"conversation": conversation, "panel": panel, "in_frame": True}
        )

    async def part(self, key: tuple[Any, ...]) -> Any:
        future = self._parts.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._parts[key] = future
            try:
                future.set_result(await database_read(self._draw)(key))
            except Exception as exc:
                del self._parts[key]  # the next tab tries again
                future.set_exception(exc)
                future.exception()  # retrieved: only this caller reports it
                raise
        return await future

    # --- one tab's frame ------------------------------------------------------------------------------

    async def parts_for(self, viewer: Viewer) -> list[str] | None:
        """The parts this event means for the tab, or None when it shows nothing of it."""
        event = self.event
        if event.get("type") == "contact.changed":
            return await self._panel_parts(viewer)
        conversation_id = event.get("conversation_id")
        if event.get("application_id") not in viewer.application_ids or not isinstance(conversation_id, int):
            return None
        c = self.conversation
        if c is None:  # deleted since: the tab drops the row
            return [removal(conversation_id)]
        state = viewer.state
        open_thread = conversation_id == state.conversation_id
        kind = event.get("type")
        parts: list[str] = []
        if open_thread and kind in ("message.created", "message.status", "message.reactions", "thread.item"):
            parts.append(await self.part(("bubble", viewer.locale)))
        if kind in ("thread.item", "message.reactions"):
            # A note, an activity line or a reaction changes no row (its change, if any, has its own event).
            return parts or None
        parts.append(await self._row(viewer))
        if kind == "message.created" and event.get("inbound"):
            notice = self._notice(viewer)
            if notice:
                parts.append(notice)
        if open_thread and kind in ("message.created", "conversation.updated"):
            # "(me)" in the assignee list names the viewer: the header is drawn per viewer of the thread
            # (a handful of tabs at most), the row per variant.
            parts.append(await self.part(("thread", state.filters.as_query(), viewer.user_id, viewer.locale)))
        return parts

    async def _panel_parts(self, viewer: Viewer) -> list[str] | None:
        """`contact.changed`: the panel, for a tab whose open thread is one of the event's conversations
        (all of one Application, which the tab must see). Drawn once per conversation and locale."""
        open_id = viewer.state.conversation_id
        if (
            self.event.get("application_id") not in viewer.application_ids
            or open_id is None
            or open_id not in self.event.get("conversation_ids", ())
        ):
            return None
        panel = await self.part(("panel", open_id, viewer.locale))
        return [panel] if panel else None

    def _notice(self, viewer: Viewer) -> str:
        """What the tab may notify of (static/js/triage.js decides by the user's settings): a new
        conversation, or a customer's message in one assigned to this viewer."""
        c = self.conversation
        assert c is not None
        if self.event.get("new_conversation"):
            reason = "new"
        elif c.assignee_id == viewer.user_id:
            reason = "assigned"
        else:
            return ""
        return notice(
            reason=reason,
            conversation_id=c.pk,
            message_id=self.event.get("message_id", ""),
            title=c.contact.label,
            body=preview_of(c.last_message),
        )

    async def _row(self, viewer: Viewer) -> str:
        c = self.conversation
        assert c is not None
        filters = viewer.state.filters
        if not filters.matches(c, viewer_id=viewer.user_id, keep_id=viewer.state.conversation_id) or (
            filters.q and not await self.part(("search", filters.q))
        ):
            if self._removal is None:
                self._removal = removal(c.pk)
            return self._removal
        author_id = c.last_message.author_id if c.last_message is not None else None
        # Anyone else is drawn as nobody (never None: a message without an author would then be "You:").
        self_id = viewer.user_id if viewer.user_id in (author_id, c.assignee_id) else NO_VIEWER
        active = c.pk == viewer.state.conversation_id
        return await self.part(("row", filters.as_query(), self_id, active, viewer.multi_app, viewer.locale))

    async def frame_for(self, viewer: Viewer, *, gap: bool = False) -> str | None:
        parts = await self.parts_for(viewer)
        if parts is None and not gap:
            return None
        key = (tuple(parts or ()), viewer.state.gen, gap)
        text = self._frames.get(key)
        if text is None:
            event = self.event
            seq = f"{event.get('group', '')}:{event.get('pub', '')}:{event.get('seq', '')}"
            text = frame(*key[0], cursor=self.cursor, gen=viewer.state.gen, seq=seq, gap=gap)
            self._frames[key] = text
        return text


class RenderCache:
    """The events this process drew lately, by (group, publisher, seq): every socket of the process
    that receives the same event shares one `SharedRender`. Bounded; entries of another event loop (a
    test's earlier loop) are never reused."""

    SIZE = 512

    def __init__(self) -> None:
        self._entries: OrderedDict[Hashable, asyncio.Future[SharedRender]] = OrderedDict()

    async def get(self, event: dict[str, Any]) -> SharedRender:
        loop = asyncio.get_running_loop()
        key = (event.get("group"), event.get("pub"), event.get("seq"), event.get("type"))
        if event.get("seq") is None:  # not stamped by a publisher: nothing to share it with
            return await database_read(SharedRender.load)(event)
        future = self._entries.get(key)
        if future is not None and future.get_loop() is loop:
            return await future
        future = loop.create_future()
        self._entries[key] = future
        while len(self._entries) > self.SIZE:
            self._entries.popitem(last=False)
        try:
            future.set_result(await database_read(SharedRender.load)(event))
        except Exception as exc:
            self._entries.pop(key, None)
            future.set_exception(exc)
            future.exception()
            raise
        return future.result()


renders = RenderCache()
