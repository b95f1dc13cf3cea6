"""Rows for the inbox tests, made directly (ingest and sending have their own tests), and websocket helpers."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from django.utils import timezone

from channels_app.models import Application, Channel
from conversations.models import Contact, Conversation, Message

_numbers = itertools.count(1)


def channel_of(app: Application, kind: str = "whatsapp") -> Channel:
    return app.channels.get(kind=kind)


def make_conversation(
    app: Application,
    *,
    kind: str = "whatsapp",
    name: str = "",
    external_id: str = "",
    text: str | None = "Hello, I need help",
    at: datetime | None = None,
    unread: int = 0,
    status: str = Conversation.Status.OPEN,
    assignee: Any = None,
) -> Conversation:
    """A conversation with one inbound message (unless text is None), active at `at`."""
    channel = channel_of(app, kind)
    n = next(_numbers)
    external_id = external_id or {
        "whatsapp": f"55219{n:08d}",
        "sms": f"+1415{n:07d}",
        "telegram": f"{1000000 + n}",
        "instagram": f"2{n:016d}",
        "messenger": f"2{n:016d}",
    }.get(kind, f"v_{n:016x}")
    at = at or timezone.now()
    contact = Contact.objects.create(channel=channel, external_id=external_id, display_name=name)
    conversation = Conversation.objects.create(
        application=app,
        channel=channel,
        contact=contact,
        status=status,
        assignee=assignee,
        last_activity_at=at,
        last_inbound_at=at if text is not None else None,
        unread_count=unread,
    )
    if text is not None:
        message = add_message(conversation, content={"type": "text", "text": text}, at=at)
        conversation.last_message = message
        conversation.save(update_fields=["last_message"])
    return conversation


def add_message(
    conversation: Conversation,
    *,
    content: dict[str, Any],
    direction: str = Message.Direction.INBOUND,
    status: str | None = None,
    author: Any = None,
    at: datetime | None = None,
    error_message: str = "",
    error_code: str = "",
    **fields: Any,
) -> Message:
    from channels_app.hub.payloads import content_preview

    message = Message.objects.create(
        conversation=conversation,
        channel=conversation.channel,
        direction=direction,
        content=content,
        preview=content_preview(content)[:300],
        status=status or (Message.Status.RECEIVED if direction == Message.Direction.INBOUND else "pending"),
        author=author,
        sent_at=at or timezone.now(),
        error_message=error_message,
        error_code=error_code,
        **fields,
    )
    return message


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


# --- websocket ------------------------------------------------------------------------------------


def session_headers(user: Any) -> list[tuple[bytes, bytes]]:
    """What a signed-in browser sends when it opens the socket: its session cookie and our origin."""
    client = Client()
    client.force_login(user)
    return browser_headers(client)


def browser_headers(client: Client) -> list[tuple[bytes, bytes]]:
    """The socket headers of the browser `client` stands for, with the cookie it holds now."""
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return [
        (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode()),
        (b"origin", b"http://testserver"),
        (b"host", b"testserver"),
    ]


def sync_message(
    *,
    gen: int = 1,
    since: str | None = None,
    conversation: int | None = None,
    after: int = 0,
    rows: list[int] | None = None,
    filters: str = "",
    scope: str = "all",
) -> dict[str, Any]:
    return {
        "type": "sync",
        "gen": gen,
        "scope": scope,
        "since": since,
        "conversation": conversation,
        "after": after,
        "rows": rows or [],
        "filters": filters,
    }


async def connect(user: Any, application: Any) -> WebsocketCommunicator:
    headers = await database_sync_to_async(session_headers)(user)
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    return communicator


async def frames_until_quiet(
    communicator: WebsocketCommunicator, *, first: float = 3.0, quiet: float = 0.8
) -> list[str]:
    """Every frame until the socket has been quiet for `quiet` s (waiting up to `first` s for the first:
    rendering is slow on a busy machine, and a test that expects nothing must wait long enough too)."""
    frames: list[str] = []
    while not await communicator.receive_nothing(timeout=quiet if frames else first):
        frames.append((await communicator.receive_output(timeout=5))["text"])
    return frames


def row_of(html: str, conversation: Conversation) -> str:
    """A conversation's row in a page's list, as HTML."""
    start = html.index(f'<li id="conv-{conversation.pk}"')
    return html[start : html.index("</li>", start)]


def header_of(html: str, conversation: Conversation) -> str:
    """An open thread's header in a page, as HTML."""
    start = html.index(f'<header id="thread-header-{conversation.pk}"')
    return html[start : html.index("</header>", start)]
