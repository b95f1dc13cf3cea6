"""The inbox websocket: one per browser tab, joined to the groups of the Applications the user may see.

It speaks HTML to the browser: every event becomes a *live frame* of the same partials the pages render
(conversations/live.py), which the page applies as htmx out-of-band swaps. An event is read and drawn
once per server process, not once per socket (fanout.py); a socket checks access against the
Application ids it holds in memory, so an event costs no database work per socket.

From the browser, JSON:
- `{"type": "sync", "gen", "scope", "since", "conversation", "after", "rows", "filters"}` — what the
  tab shows (open conversation, filters as a query string, ids of the rows it has, newest message id)
  and the cursor of the last frame it applied. Sent on every (re)connect (scope "all"), whenever the
  tab swaps in another thread ("thread") or other filters ("list"), and when a frame says `data-gap`.
  The answer is a frame with everything changed since `since`; later frames carry `gen` so the tab
  knows which state they follow.
- `{"type": "ping"}` — heartbeat; the answer is a pong frame (with a cursor once the tab has synced).

Groups: one per visible Application, and the user's own (`user.<id>`), which says when their access,
their account or their session changed (channels_app/signals.py): the socket then checks the session
again (signed out, or ended by a password change: closed with 4401), joins or leaves Application groups
and, when what the user may see changed, sends the tab a fresh list. Each `sync` checks the session too.
The user's group is the socket's own membership in the channel layer; an Application's events come
through the process (`LocalGroups`, channels_app/realtime.py), which holds one membership for all its
sockets and hands each event to them in memory.

Sequence numbers: each event carries its publisher's `seq` for its group (channels_app/realtime.py).
A socket that receives a number past the next one it expected missed an event (the channel layer drops
what exceeds a channel's capacity, silently): its frame says `data-gap`, and the tab resyncs at once.
"""

from __future__ import annotations

import json
import logging
import time
from importlib import import_module
from typing import Any, cast

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.http import Http404
from django.utils.crypto import constant_time_compare

from channels_app.access import AuthUser, person_name, visible_application_ids
from channels_app.database import database_read
from channels_app.preferences import Locale, accept_language, activated, locale_of
from channels_app.realtime import application_group, local_groups, send_ephemeral, user_group
from conversations.fanout import Viewer, renders
from conversations.live import (
    TabState,
    names_applications,
    render_mentions_badge,
    render_pong,
    render_presence,
    render_sync,
    tab_counts_html,
)
from conversations.live_counts import board
from conversations.selectors.inbox import CountGroups, tab_counts
from conversations.selectors.thread import conversation_for

log = logging.getLogger(__name__)

# Events a publisher stamped up to this long before a tab's sync still count as after it (clock skew
# between hosts); a needless resync is cheap, a missed event is not.
PREV_MARGIN_SECONDS = 0.5

SessionStore = import_module(settings.SESSION_ENGINE).SessionStore

# Close codes: 4401 no session (the page shows "signed out"); the browser does not retry those.
CLOSE_UNAUTHENTICATED = 4401
# The socket's session key is gone but may have been replaced (Django cycles the key on a password
# change and at sign-in): the page reconnects with the cookie it holds now, and learns which it was.
CLOSE_SESSION_CHANGED = 4001
# The socket failed on an event and left its groups: the page reconnects and resyncs from its cursor.
# Not 1011 ("internal error"): daphne's websocket library lets an application close only with 1000 or
# 3000-4999, and raised on 1011, leaving the socket open with no group (deaf) until the page reloaded.
CLOSE_FAILED = 4500
PRESENCE_STATES = ("viewing", "typing", "left")


class InboxConsumer(AsyncJsonWebsocketConsumer):
    # The signed-in user: the scope's at connect, then as the database has them at each check. A socket
    # without one is closed in `connect` and joins no group, so nothing reads it there.
    user: AuthUser

    groups_joined: list[str]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            board.forget(self.counts_changed)  # ended without `disconnect`: no more counts for it
            if getattr(self, "groups_joined", None) and self.channel_layer is not None:
                local_groups(self.channel_layer).forget(self.deliver)  # ended without `disconnect`

    async def connect(self) -> None:
        scope_user = self.scope.get("user")
        self.groups_joined = []
        self.application_ids: frozenset[int] = frozenset()
        self.multi_app = False
        # The last `seq` heard per (group, publisher): a jump means an event was lost on the way.
        self.heard: dict[tuple[str, str], int] = {}
        # Until the tab says what it shows, events are not rendered: its first `sync` covers them.
        self.state: TabState | None = None
        # When the tab's last `sync` was read (this server's clock): events stamped before it are covered.
        self.synced_at: float | None = None
        # The browser's language, for a user who has not chosen one (no middleware sees a websocket).
        self.browser_language = accept_language(self.scope.get("headers") or [])
        self.locale = Locale(settings.LANGUAGE_CODE, settings.TIME_ZONE)
        # Conversations this socket announced presence in, with their Application (checked once each).
        self.presence_applications: dict[int, int] = {}
        if scope_user is None or not scope_user.is_authenticated:
            # Accept, then close with our code: a refused handshake reaches the browser as a bare 1006,
            # which it would retry forever instead of showing "Signed out".
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # AuthMiddlewareStack's lazy stand-in for a signed-in user of Django's default model.
        self.user = cast(AuthUser, scope_user)
        # The user's own group first: an access change committed while the Applications are read is
        # then still heard (and applied by `access_changed`).
        own = user_group(self.user.pk)
        await self._join(own)
        self.groups_joined = [own]
        await self._apply_access(await database_read(_access_of)(self.user))
        await self.accept()

    async def _apply_access(self, access: tuple[frozenset[int], bool]) -> bool:
        """Hold these Application ids and be in exactly their groups; True when they changed."""
        application_ids, multi_app = access
        changed = (application_ids, multi_app) != (self.application_ids, self.multi_app)
        own = user_group(self.user.pk)
        groups = [own] + [application_group(i) for i in sorted(application_ids)]
        for group in groups:
            if group not in self.groups_joined:
                await self._join(group)
        for group in self.groups_joined:
            if group not in groups:
                await self._leave(group)
        self.groups_joined = groups
        self.application_ids, self.multi_app = application_ids, multi_app
        return changed

    async def _join(self, group: str) -> None:
        if group == user_group(self.user.pk):
            await self.channel_layer.group_add(group, self.channel_name)
        else:
            await local_groups(self.channel_layer).join(group, self.deliver)

    async def _rejoin(self) -> None:
        try:
            for group in list(self.groups_joined):
                await self._join(group)
        except Exception:  # the channel layer is away: the next heartbeat tries again
            log.warning("could not join this socket's groups again", exc_info=True)

    async def _leave(self, group: str) -> None:
        if group == user_group(self.user.pk):
            await self.channel_layer.group_discard(group, self.channel_name)
        else:
            await local_groups(self.channel_layer).leave(group, self.deliver)

    async def deliver(self, event: dict[str, Any]) -> None:
        """An event of one of this socket's Application groups, handed over by the process."""
        try:
            await self.dispatch(event)
        except Exception:
            # What a crash of a consumer did before the process delivered events: the socket closes and
            # the tab reconnects, and resyncs from its cursor.
            log.exception("inbox socket failed on %s", event.get("type"))
            try:
                await self._leave_all()
            finally:
                await self.close(code=CLOSE_FAILED)

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels (4.2+) hops to its one database thread before *every* message, to close stale
        # connections: with 50 tabs at 20 events/s that is 1,000 hops a second queued on the thread that
        # also draws the frames (measured under load: frame p50 ~400 ms with them, ~70 ms without). Every
        # database call here goes through `database_read` (`database_sync_to_async`), which closes stale
        # connections itself.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def disconnect(self, code: int) -> None:
        if self.state is not None and self.state.conversation_id is not None and self.groups_joined:
            await self._announce("left")
        await self._leave_all()

    async def _leave_all(self) -> None:
        board.forget(self.counts_changed)
        groups, self.groups_joined = self.groups_joined, []
        for group in groups:
            await self._leave(group)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # A malformed message is ignored rather than allowed to crash the consumer (and the socket).
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or not self.groups_joined:
            return
        kind = content.get("type")
        if kind == "ping":
            # Joined again at each heartbeat: a restarted Redis forgot every group membership (and
            # channels-redis drops one after a day), which would leave this tab open and deaf. Joining
            # is idempotent; an event lost meanwhile shows as a `seq` gap and the tab resyncs.
            await self._rejoin()
            await self.send(text_data=render_pong(self.state))
        elif kind == "presence":
            await self._announce(content.get("state"))
        elif kind == "sync":
            user = await self._current_user()
            if user is None:
                return
            self.user = user
            previous = self.state.conversation_id if self.state is not None else None
            counts = self.state.counts if self.state is not None else None
            self.state = TabState.from_message(content)
            self.state.counts = counts  # what the tab shows until this sync draws others
            if previous is not None and previous != self.state.conversation_id:
                await self._announce("left", conversation_id=previous)
            self.synced_at = time.time()
            board.watch(self.counts_changed, self.application_ids)
            scope = content.get("scope")
            self.locale, html = await database_read(_sync_in_locale)(
                self.browser_language,
                user=user,
                state=self.state,
                since=content.get("since"),
                after_id=content.get("after"),
                loaded_ids=content.get("rows"),
                scope=scope if scope in ("thread", "list") else "all",
            )
            await self.send(text_data=html)

    async def _current_user(self) -> AuthUser | None:
        """The user as the database has them now; None (and the socket closed) when the session no
        longer signs them in."""
        user = await database_read(_current_user)(self.scope.get("session"), self.user.pk)
        if isinstance(user, int):
            await self._sign_out(code=user)
            return None
        return user

    async def _sign_out(self, code: int = CLOSE_UNAUTHENTICATED) -> None:
        await self.disconnect(code)
        self.state = None
        await self.close(code=code)  # 4401: the page shows "Signed out"

    def _missed_before(self, event: dict[str, Any]) -> bool:
        """Note this event's `seq`; True when an earlier one of the same publisher never arrived."""
        seq, key = event.get("seq"), (str(event.get("group")), str(event.get("pub")))
        if not isinstance(seq, int):
            return False
        last = self.heard.get(key)
        self.heard[key] = seq if last is None else max(last, seq)
        if last is None:
            # The first event heard from a publisher sets the baseline: what came before it is the
            # business of the tab's own sync, unless that publisher's previous event came after the
            # sync (a process started since, or one whose events were lost on the way: a Redis
            # restart, a daphne killed before publishing). A little margin for clocks of other hosts.
            prev = event.get("prev")
            return (
                isinstance(prev, (int, float))
                and self.synced_at is not None
                and prev > self.synced_at - PREV_MARGIN_SECONDS
            )
        return seq > last + 1

    async def _forward(self, event: dict[str, Any]) -> None:
        gap = self._missed_before(event)
        if self.state is None or not self.groups_joined:
            return
        viewer = Viewer(
            user_id=self.user.pk,
            application_ids=self.application_ids,
            multi_app=self.multi_app,
            state=self.state,
            locale=self.locale,
        )
        shared = await renders.get(event)
        html = await shared.frame_for(viewer, gap=gap)
        if html is not None:
            await self.send(text_data=html)

    async def access_changed(self, event: dict[str, Any]) -> None:
        self._missed_before(event)
        session = self.scope.get("session")
        ended = event.get("ended_session")
        if ended and session is not None and ended == session.session_key:
            await self._sign_out()
            return
        user = await self._current_user()
        if user is None:
            return
        self.user = user
        changed = await self._apply_access(await database_read(_access_of)(user))
        if self.state is not None:
            board.watch(self.counts_changed, self.application_ids)
        if changed and self.state is not None:
            # The list is rebuilt whole: rows of a new Application appear, those of a revoked one go.
            self.locale, html = await database_read(_sync_in_locale)(
                self.browser_language,
                user=user,
                state=self.state,
                since=None,
                after_id=None,
                loaded_ids=None,
                scope="list",
            )
            await self.send(text_data=html)

    async def message_created(self, event: dict[str, Any]) -> None:
        # A new or reopened conversation moves the tab counts; a customer's message, the unread number.
        board.touch()
        await self._forward(event)

    async def message_status(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def message_reactions(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def conversation_updated(self, event: dict[str, Any]) -> None:
        board.touch()  # a status or an assignee moves the tab counts; a read or "mark unread", the unread one
        await self._forward(event)

    async def thread_item(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def contact_changed(self, event: dict[str, Any]) -> None:
        """A contact's name, notes or links: the contact panel, for the tabs with one of its threads open."""
        await self._forward(event)

    # --- who is here: "Alice is viewing", "Alice is replying…" -------------------------------------

    async def _announce(self, state: Any, *, conversation_id: int | None = None) -> None:
        """Tell the other tabs of the thread's Application that this user views it, types in it or
        left it. Only for the thread this tab synced (its access checked then), and after one check of
        the conversation's Application per socket and thread: never a database write, and no read per
        keystroke. The browser sends "viewing" every few seconds and "typing" at most every 2 s."""
        if state not in PRESENCE_STATES or self.state is None or not self.groups_joined:
            return
        conversation_id = conversation_id or self.state.conversation_id
        if conversation_id is None:
            return
        application_id = self.presence_applications.get(conversation_id)
        if application_id is None:
            application_id = await database_read(_application_of)(self.user, conversation_id)
            if application_id is None:
                return
            self.presence_applications[conversation_id] = application_id
        if application_id not in self.application_ids:  # access revoked since
            return
        event = {
            "type": "presence",
            "application_id": application_id,
            "conversation_id": conversation_id,
            "user_id": self.user.pk,
            "name": person_name(self.user),
            "state": state,
        }
        await send_ephemeral(application_group(application_id), event)

    async def presence(self, event: dict[str, Any]) -> None:
        """Another agent's presence: drawn for a tab showing that thread, from memory (no database)."""
        if (
            self.state is None
            or event.get("application_id") not in self.application_ids
            or event.get("conversation_id") != self.state.conversation_id
            or event.get("user_id") == self.user.pk  # one's own other tabs are not "someone else"
        ):
            return
        await self.send(text_data=render_presence(event))

    async def mentions_changed(self, event: dict[str, Any]) -> None:
        """The user's unread mentions changed (their own group): the nav's badge, redrawn; for a new note
        of an Application this socket sees, its notice too (drawn only if the user still sees it)."""
        self._missed_before(event)
        note_id = event.get("note_id")
        if not isinstance(note_id, int) or event.get("application_id") not in self.application_ids:
            note_id = None
        await self.send(text_data=await database_read(_badge_in_locale)(self.user, self.locale, note_id))

    async def counts_changed(self, groups: CountGroups) -> None:
        """The process recounted (live_counts.py): send this tab its view tabs' counts and its view's unread
        number if they moved."""
        if self.state is None or not self.groups_joined:
            return
        counts = tab_counts(
            groups, filters=self.state.filters, viewer_id=self.user.pk, application_ids=self.application_ids
        )
        if counts != self.state.counts:
            self.state.counts = counts
            await self.send(text_data=tab_counts_html(counts))


def _application_of(user: AuthUser, conversation_id: int) -> int | None:
    """The Application of a conversation the user may see, or None."""
    try:
        return conversation_for(user, conversation_id, bare=True).application_id
    except Http404:
        return None


def _sync_in_locale(browser_language: str, *, user: AuthUser, **sync: Any) -> tuple[Locale, str]:
    """`render_sync` in the user's language and time zone, read afresh (the profile may have changed
    them), with the locale the socket's next live frames are drawn in."""
    locale = locale_of(user, fallback_language=browser_language)
    with activated(locale):
        return locale, render_sync(user=user, **sync)


def _badge_in_locale(user: AuthUser, locale: Locale, note_id: int | None = None) -> str:
    with activated(locale):
        return render_mentions_badge(user, note_id=note_id)


def _access_of(user: AuthUser) -> tuple[frozenset[int], bool]:
    application_ids = frozenset(visible_application_ids(user))
    return application_ids, names_applications(user, application_ids)


def _current_user(session: SessionBase | None, user_id: int) -> AuthUser | int:
    """The socket's user as the database has them now, or the close code when the session no longer
    signs them in: signed out or replaced (the session is gone), a password changed since (the hash no
    longer matches, as Django's own auth middleware checks), the account deactivated or deleted."""
    if session is None or not session.session_key:
        return CLOSE_UNAUTHENTICATED
    # Read afresh: the scope's session was loaded when the socket connected.
    store = SessionStore(session_key=session.session_key)
    if not store.exists(session.session_key):
        return CLOSE_SESSION_CHANGED
    data = store.load()
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or str(data.get(SESSION_KEY)) != str(user_id):
        return CLOSE_UNAUTHENTICATED
    stored = data.get(HASH_SESSION_KEY) or ""
    return user if constant_time_compare(stored, user.get_session_auth_hash()) else CLOSE_UNAUTHENTICATED
