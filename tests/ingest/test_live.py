"""Live: after commit the inbox websocket hears of the new message; a broken channel layer changes nothing."""

from __future__ import annotations

import json
import socket
import time

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator, WebsocketCommunicator

from conversations.models import Message, WebhookEvent
from hubdash.asgi import application
from tests.inbox.inbox_support import session_headers, sync_message
from tests.ingest.ingest_support import encode, message_event, post_event, signed, webhook_path

pytestmark = pytest.mark.django_db(transaction=True)


async def open_inbox(headers: list[tuple[bytes, bytes]]) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, "/ws/inbox/", headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    await communicator.send_json_to(sync_message())  # what a tab sends after connecting
    # Drain what the tab gets before any event (the sync answer, if the consumer sends one).
    while not await communicator.receive_nothing(timeout=0.3):
        await communicator.receive_output(timeout=1)
    return communicator


async def deliver(app, body: bytes) -> dict:
    headers = [(b"content-type", b"application/json"), (b"host", b"testserver")]
    headers += [(name.lower().encode(), value.encode()) for name, value in signed(body).items()]
    return await HttpCommunicator(
        application, "POST", webhook_path(app), body=body, headers=headers
    ).get_response(timeout=10)


def frame_mentions(frame: str, message: Message) -> bool:
    """Whether a websocket frame is about `message`: a JSON event naming it, or HTML showing it."""
    try:
        data = json.loads(frame)
    except ValueError:
        data = None
    if isinstance(data, dict):
        return data.get("message_id") == message.pk or (
            data.get("type") == "conversation.updated"
            and data.get("conversation_id") == message.conversation_id
        )
    # An HTML live frame (consumers.py renders partials): the conversation's row showing the new message.
    return f'data-conversation-id="{message.conversation_id}"' in frame and message.preview in frame


def test_inbox_websocket_receives_the_new_message_after_commit(app_a, agent_a, whatsapp_a):
    event = message_event(whatsapp_a, content={"type": "text", "text": "Meu pedido não chegou"})
    headers = session_headers(agent_a)

    async def scenario() -> tuple[dict, list[str]]:
        inbox = await open_inbox(headers)
        response = await deliver(app_a, encode(event))
        frames = []
        while not await inbox.receive_nothing(timeout=1.0):
            frames.append((await inbox.receive_output(timeout=2))["text"])
        await inbox.disconnect()
        return response, frames

    response, frames = async_to_sync(scenario)()

    assert response["status"] == 200
    message = Message.objects.get(hub_message_id=event["messageId"])
    assert frames, "no frame reached the inbox websocket"
    assert any(frame_mentions(frame, message) for frame in frames), frames


def test_inbox_websocket_of_another_application_hears_nothing(app_a, agent_a, agent_b, whatsapp_a):
    event = message_event(whatsapp_a)
    headers_b, headers_a = session_headers(agent_b), session_headers(agent_a)

    async def scenario() -> tuple[dict, bool, list[str]]:
        other = await open_inbox(headers_b)
        own = await open_inbox(headers_a)  # the control: A's own agent does hear it
        response = await deliver(app_a, encode(event))
        quiet = await other.receive_nothing(timeout=1.0)
        heard = []
        while not await own.receive_nothing(timeout=1.0):
            heard.append((await own.receive_output(timeout=2))["text"])
        await other.disconnect()
        await own.disconnect()
        return response, quiet, heard

    response, quiet, heard = async_to_sync(scenario)()

    assert response["status"] == 200
    assert quiet
    message = Message.objects.get(hub_message_id=event["messageId"])
    assert any(frame_mentions(frame, message) for frame in heard)


# --- a broken channel layer -----------------------------------------------------------------------


def redis_layer(url: str) -> dict:
    return {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}}


def test_webhook_is_stored_and_answered_200_when_redis_is_down(hub, app_a, whatsapp_a, settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.CHANNEL_LAYERS = redis_layer(f"redis://127.0.0.1:{closed_port}/0")

    response = post_event(hub, app_a, message_event(whatsapp_a))

    assert response.status_code == 200
    assert Message.objects.count() == 1
    assert WebhookEvent.objects.get().outcome == WebhookEvent.Outcome.PROCESSED


def test_webhook_answers_within_the_publish_timeout_when_redis_hangs(hub, app_a, whatsapp_a, settings):
    # A listener that accepts connections and never answers: the worst kind of broken Redis.
    blackhole = socket.socket()
    blackhole.bind(("127.0.0.1", 0))
    blackhole.listen(16)
    settings.CHANNEL_LAYERS = redis_layer(f"redis://127.0.0.1:{blackhole.getsockname()[1]}/0")
    settings.CHANNEL_LAYER_PUBLISH_TIMEOUT = 0.3
    try:
        started = time.monotonic()
        response = post_event(hub, app_a, message_event(whatsapp_a))
        elapsed = time.monotonic() - started
    finally:
        blackhole.close()

    assert response.status_code == 200
    assert Message.objects.count() == 1
    # Two events (message.created, conversation.updated), each given up after the timeout.
    assert elapsed < 2 * 0.3 + 1.0


def test_the_write_stands_when_publishing_fails_on_the_lean_path(app_a, whatsapp_a, settings):
    settings.CHANNEL_LAYERS = redis_layer("redis://127.0.0.1:1/0")

    body = encode(message_event(whatsapp_a))

    response = async_to_sync(deliver)(app_a, body)

    assert response["status"] == 200
    assert Message.objects.count() == 1
