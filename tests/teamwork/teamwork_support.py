"""What the team tests share: two tabs on one thread (one of A, one of B), and what each heard."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from hubdash.asgi import application
from tests.inbox.inbox_support import connect, frames_until_quiet, sync_message


async def open_thread(user: Any, conversation: Any) -> WebsocketCommunicator:
    """A tab of `user` with `conversation` open, past its first sync."""
    tab = await connect(user, application)
    await tab.send_json_to(sync_message(conversation=conversation.pk, since=timezone.now().isoformat()))
    await frames_until_quiet(tab)
    return tab


def heard_by_two_tabs(
    own: Any, other: Any, conversation: Any, write: Callable[[], Any]
) -> tuple[list[str], list[str]]:
    """`own`'s and `other`'s tabs open `conversation`; `write` runs; the frames each then received."""

    async def scenario() -> tuple[list[str], list[str]]:
        tabs = [await open_thread(own, conversation), await open_thread(other, conversation)]
        await database_sync_to_async(write)()
        heard = [await frames_until_quiet(tab) for tab in tabs]
        for tab in tabs:
            await tab.disconnect()
        return heard[0], heard[1]

    return async_to_sync(scenario)()
