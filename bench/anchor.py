"""The anchor of the live benchmark: the least a Channels app can do for the same job.

An HTTP POST's body goes to one group with `group_send`; every socket in that group sends it on as a
text frame. Same server, same channel layer (Redis, from the same settings), same machine: what it
achieves is what the machine and the stack allow, and Hubdash is measured against it in the same run.
"""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hubdash.settings")
django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402

GROUP = "anchor"


class Relay(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def relay(self, event: dict) -> None:
        await self.send(text_data=event["text"])


async def post(scope, receive, send) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await get_channel_layer().group_send(GROUP, {"type": "relay", "text": body.decode()})
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter({"http": post, "websocket": Relay.as_asgi()})
