"""Realtime events: their names, their payloads and the groups they go to.

Every event is published from an action after its transaction commits, so a browser never sees a row
that was rolled back, and a broken channel layer never fails or rolls back the write.
"""

from __future__ import annotations

import asyncio
import logging
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


Event = MessageCreated | MessageStatusChanged | ConversationUpdated


def _send(groups: list[str], event: Event) -> None:
    layer = get_channel_layer()
    if layer is None:
        return

    async def fan_out() -> None:
        for group in groups:
            await layer.group_send(group, dict(event))

    async def bounded() -> None:
        # Redis down must not hold the webhook or the worker: give up after a short, fixed time.
        await asyncio.wait_for(fan_out(), timeout=settings.CHANNEL_LAYER_PUBLISH_TIMEOUT)

    try:
        async_to_sync(bounded)()
    except Exception:  # the write already committed; a lost live update is recovered on resync
        log.warning("could not publish %s to %s", event["type"], groups, exc_info=True)


def publish_on_commit(event: Event) -> None:
    """Send `event` to its Application's group and its conversation's group once the transaction commits."""
    groups = [application_group(event["application_id"]), conversation_group(event["conversation_id"])]
    transaction.on_commit(lambda: _send(groups, event), robust=True)
