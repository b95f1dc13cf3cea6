"""The inbox websocket: one per browser tab, joined to the groups of the Applications the user may see.

It speaks HTML to the browser: every event becomes a *live frame* of the same partials the pages render
(conversations/live.py), which the page applies as htmx out-of-band swaps.

From the browser, JSON:
- `{"type": "sync", "gen", "scope", "since", "conversation", "after", "rows", "filters"}` — what the
  tab shows (open conversation, filters as a query string, ids of the rows it has, newest message id)
  and the cursor of the last frame it applied. Sent on every (re)connect (scope "all") and whenever the
  tab swaps in another thread ("thread") or other filters ("list"). The answer is a frame with
  everything changed since `since`; later frames carry `gen` so the tab knows which state they follow.
- `{"type": "ping"}` — heartbeat; the answer is a pong frame (with a cursor once the tab has synced).

Groups: one per visible Application, and the user's own (`user.<id>`), which says when their access
changed: the socket then joins or leaves Application groups and sends the tab a fresh list, so a
colleague given an Application sees it at once, without a reload.

Only the Application groups are joined, not `conv.<id>`: every event goes to both, and the Application
group already brings the open thread's events (joining both would render each event twice).
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from channels_app.access import visible_application_ids
from conversations.events import application_group, user_group
from conversations.live import TabState, render_event, render_pong, render_sync

# Close codes: 4401 no session (the page shows "signed out"); the browser does not retry those.
CLOSE_UNAUTHENTICATED = 4401


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        self.user = self.scope.get("user")
        self.groups_joined: list[str] = []
        # Until the tab says what it shows, events are not rendered: its first `sync` covers them.
        self.state: TabState | None = None
        if self.user is None or not self.user.is_authenticated:
            # Accept, then close with our code: a refused handshake reaches the browser as a bare 1006,
            # which it would retry forever instead of showing "Signed out".
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        # The user's own group first: an access change committed while the Applications are read is
        # then still heard (and applied by `access_changed`).
        own = user_group(self.user.pk)
        await self.channel_layer.group_add(own, self.channel_name)
        self.groups_joined = [own]
        await self._join(await database_sync_to_async(_groups_of)(self.user))
        await self.accept()

    async def _join(self, groups: list[str]) -> None:
        """Be in exactly `groups`: join the new ones, leave those no longer visible."""
        for group in groups:
            if group not in self.groups_joined:
                await self.channel_layer.group_add(group, self.channel_name)
        for group in self.groups_joined:
            if group not in groups:
                await self.channel_layer.group_discard(group, self.channel_name)
        self.groups_joined = groups

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            await self.channel_layer.group_discard(group, self.channel_name)

    @classmethod
    async def decode_json(cls, text_data: str) -> Any:
        # A malformed message is ignored rather than allowed to crash the consumer (and the socket).
        try:
            return json.loads(text_data)
        except ValueError:
            return None

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "ping":
            await self.send(text_data=render_pong(self.state))
        elif kind == "sync":
            self.state = TabState.from_message(content)
            html = await database_sync_to_async(render_sync)(
                user=self.user,
                state=self.state,
                since=content.get("since"),
                after_id=content.get("after"),
                loaded_ids=content.get("rows"),
                scope=content.get("scope") if content.get("scope") in ("thread", "list") else "all",
            )
            await self.send(text_data=html)

    async def _forward(self, event: dict[str, Any]) -> None:
        if self.state is None:
            return
        # render_event re-checks membership in the database, per event: it may have been revoked.
        html = await database_sync_to_async(render_event)(user=self.user, state=self.state, event=event)
        if html is not None:
            await self.send(text_data=html)

    async def access_changed(self, event: dict[str, Any]) -> None:
        user = await database_sync_to_async(_reload_user)(self.user.pk)
        if user is None or not user.is_active:
            await self.close(code=CLOSE_UNAUTHENTICATED)  # deactivated: the page shows "Signed out"
            return
        self.user = user
        await self._join(await database_sync_to_async(_groups_of)(user))
        if self.state is not None:
            # The list is rebuilt whole: rows of a new Application appear, those of a revoked one go.
            html = await database_sync_to_async(render_sync)(
                user=user, state=self.state, since=None, after_id=None, loaded_ids=None, scope="list"
            )
            await self.send(text_data=html)

    async def message_created(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def message_status(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def conversation_updated(self, event: dict[str, Any]) -> None:
        await self._forward(event)


def _groups_of(user: AbstractBaseUser) -> list[str]:
    return [user_group(user.pk)] + [application_group(app_id) for app_id in visible_application_ids(user)]


def _reload_user(user_id: int) -> AbstractBaseUser | None:
    return get_user_model().objects.filter(pk=user_id).first()
