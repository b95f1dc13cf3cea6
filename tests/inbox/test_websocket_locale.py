"""Live frames in each viewer's language and time zone: one event, drawn once per locale, reaches a
Portuguese agent in São Paulo and an English one in UTC each in their own words and local time."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from channels_app.actions.preferences import do_update_preferences
from conversations.models import Message
from hubdash.asgi import application
from tests.inbox.inbox_support import (
    connect,
    frames_until_quiet,
    make_conversation,
    session_headers,
    sync_message,
)
from tests.inbox.test_websocket import customer_writes

pytestmark = pytest.mark.django_db(transaction=True)

SAO_PAULO = "America/Sao_Paulo"


def bubble_time(frames: list[str], message: Message) -> str:
    """The time shown on the message's bubble in these frames."""
    for frame in frames:
        match = re.search(rf'<li id="msg-{message.pk}".*?<time [^>]*>([^<]+)</time>', frame, re.S)
        if match:
            return match.group(1)
    raise AssertionError(f"no bubble of message {message.pk} in {len(frames)} frames")


def local_hhmm(message: Message, zone: str) -> str:
    return timezone.localtime(message.created_at, zoneinfo.ZoneInfo(zone)).strftime("%H:%M")


def test_one_event_reaches_each_agent_in_their_language_and_time_zone(agent_a, admin, app_a):
    do_update_preferences(actor=agent_a, language="pt-br", time_zone=SAO_PAULO)
    do_update_preferences(actor=admin, language="en", time_zone="UTC")
    conversation = make_conversation(app_a, name="Joana")

    async def scenario():
        portuguese = await connect(agent_a, application)
        english = await connect(admin, application)
        for socket in (portuguese, english):
            await socket.send_json_to(sync_message(conversation=conversation.pk))
        synced = [await frames_until_quiet(socket) for socket in (portuguese, english)]
        message = await database_sync_to_async(customer_writes)(conversation, "Oi, tudo bem?")
        live = [await frames_until_quiet(socket) for socket in (portuguese, english)]
        for socket in (portuguese, english):
            await socket.disconnect()
        return synced, message, live

    (pt_sync, en_sync), message, (pt_live, en_live) = async_to_sync(scenario)()

    # The resync answering each tab's `sync` is already in its user's language.
    assert "Caixa de entrada" not in "".join(en_sync) and "Aberta" in "".join(pt_sync)
    assert ">Open<" in "".join(en_sync) and ">Open<" not in "".join(pt_sync)

    pt, en = "".join(pt_live), "".join(en_live)
    assert "Oi, tudo bem?" in pt and "Oi, tudo bem?" in en  # the customer's words, as written
    # Words: the row's status pill and the bubble's hidden "Customer:" label.
    assert ">Aberta<" in pt and "Cliente:" in pt
    assert ">Open<" in en and "Customer:" in en
    assert "Cliente:" not in en and "Customer:" not in pt
    # Times: the bubble shows the hour of each agent's own zone (São Paulo is three hours behind UTC).
    assert bubble_time(pt_live, message) == local_hhmm(message, SAO_PAULO)
    assert bubble_time(en_live, message) == local_hhmm(message, "UTC")
    assert local_hhmm(message, SAO_PAULO) != local_hhmm(message, "UTC")


def test_a_user_without_a_language_gets_frames_in_the_browsers_language(agent_a, app_a):
    conversation = make_conversation(app_a, name="Joana")

    async def open_socket(language: str) -> list[str]:
        headers = await database_sync_to_async(session_headers)(agent_a)
        socket = WebsocketCommunicator(
            application, "/ws/inbox/", headers=[*headers, (b"accept-language", language.encode())]
        )
        connected, _ = await socket.connect(timeout=5)
        assert connected
        await socket.send_json_to(sync_message(conversation=conversation.pk))
        frames = await frames_until_quiet(socket)
        await socket.disconnect()
        return frames

    portuguese = "".join(async_to_sync(open_socket)("pt-BR,pt;q=0.9,en;q=0.5"))
    english = "".join(async_to_sync(open_socket)("en-US,en;q=0.9"))

    assert ">Aberta<" in portuguese and ">Open<" not in portuguese
    assert ">Open<" in english and ">Aberta<" not in english
