"""Hundreds of tabs closing at once (a deploy, a network blip) leave no errors and no stale group
memberships: the Redis connection pool waits for a free connection rather than failing."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer

from channels_app.realtime import user_group
from hubdash.asgi import application
from tests.inbox.inbox_support import session_headers

pytestmark = pytest.mark.django_db(transaction=True)

# Each leaves its user's group at once (its Application's is the process's: channels_app/realtime.py),
# one and a half times redis-py's default pool of 100.
SOCKETS = 150


async def _members(layer: RedisChannelLayer, group: str, *, clear: bool = False) -> int:
    connection = layer.connection(layer.consistent_hash(group))
    if clear:  # an earlier run on this Redis database may have left members of the same group name
        await connection.delete(layer._group_key(group))
    return await connection.zcard(layer._group_key(group))


@pytest.mark.skipif(
    not isinstance(get_channel_layer(), RedisChannelLayer), reason="the Redis channel layer's pool"
)
def test_sockets_closing_at_once_leave_no_error_and_no_member(app_a, agent_a, caplog):
    headers = session_headers(agent_a)
    group = user_group(agent_a.pk)

    async def scenario():
        layer = get_channel_layer()
        await _members(layer, group, clear=True)
        sockets = [WebsocketCommunicator(application, "/ws/inbox/", headers=headers) for _ in range(SOCKETS)]
        connected = await asyncio.gather(*(s.connect(timeout=60) for s in sockets))
        joined = await _members(layer, group)
        await asyncio.gather(*(s.disconnect(timeout=60) for s in sockets))
        return [ok for ok, _ in connected], joined, await _members(layer, group)

    connected, joined, left = async_to_sync(scenario)()

    assert all(connected)
    assert joined == SOCKETS  # the control: every socket was in the group
    assert left == 0
    errors = [
        r
        for r in caplog.records
        if r.levelname in ("ERROR", "CRITICAL") or "MaxConnections" in r.getMessage()
    ]
    assert errors == []
