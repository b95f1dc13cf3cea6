"""The inbox websocket: one per browser tab, joined to the groups of the Applications the user may see."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from channels_app.access import visible_application_ids
from conversations.events import application_group


class InboxConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        self.application_ids: set[int] = set(await database_sync_to_async(visible_application_ids)(user))
        self.groups_joined = [application_group(app_id) for app_id in self.application_ids]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _forward(self, event: dict[str, Any]) -> None:
        # Re-check per event: membership may have been revoked since connect.
        if event.get("application_id") not in self.application_ids:
            return
        await self.send_json(event)

    async def message_created(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def message_status(self, event: dict[str, Any]) -> None:
        await self._forward(event)

    async def conversation_updated(self, event: dict[str, Any]) -> None:
        await self._forward(event)
