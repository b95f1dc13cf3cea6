"""channels-redis with a connection pool that waits instead of failing, and a cheaper `group_send`.

redis-py's asyncio pool holds at most 100 connections per process and raises `MaxConnectionsError` past
that: hundreds of tabs closing at once (a deploy, a network blip) each leave their groups concurrently,
so most of those calls failed and left stale group memberships behind (measured: ~2,700 errors for
1,000 sockets). A blocking pool of the same size makes the surplus wait its turn for a connection,
within `REDIS_POOL_TIMEOUT`.

`group_send` is what every live event costs its publisher (the webhook's process): channels-redis makes
four round trips to Redis, each a few hundred microseconds of redis-py's Python; here it is two (one
when nobody listens), with the same commands and the same script.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from channels_redis.core import ChannelLock, RedisChannelLayer
from redis.asyncio import BlockingConnectionPool

log = logging.getLogger(__name__)


class _CancelSafeChannelLock(ChannelLock):
    """channels-redis's lock per channel key, except that a receive cancelled while it waits gives its
    place back. channels-redis counts the waiter and never uncounts it: the lock then outlives its event
    loop, and the next loop's first receive that has to wait for it fails ("bound to a different event
    loop"). The process's reader and its sockets' receives share one key, so they do wait for it."""

    async def acquire(self, channel: str) -> bool:
        try:
            return await super().acquire(channel)
        except BaseException:
            self.wait_counts[channel] -= 1
            if self.wait_counts[channel] < 1:
                del self.locks[channel]
                del self.wait_counts[channel]
            raise


# channels-redis's own script (channels_redis/core.py, group_send), so capacity and expiry behave alike.
_GROUP_SEND = """
    local over_capacity = 0
    local current_time = ARGV[#ARGV - 1]
    local expiry = ARGV[#ARGV]
    for i=1,#KEYS do
        if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
            redis.call('ZADD', KEYS[i], current_time, ARGV[i])
            redis.call('EXPIRE', KEYS[i], expiry)
        else
            over_capacity = over_capacity + 1
        end
    end
    return over_capacity
"""


class PooledRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, pool_size: int = 100, pool_timeout: float = 20.0, **kwargs: Any) -> None:
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        super().__init__(*args, **kwargs)
        self.receive_clean_locks = _CancelSafeChannelLock()

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return BlockingConnectionPool.from_url(
            address, max_connections=self.pool_size, timeout=self.pool_timeout, **host
        )

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        assert self.require_valid_group_name(group), "Group name not valid"
        key = self._group_key(group)
        connection = self.connection(self.consistent_hash(group))
        async with connection.pipeline(transaction=False) as pipe:
            pipe.zremrangebyscore(key, min=0, max=int(time.time()) - self.group_expiry)
            pipe.zrange(key, 0, -1)
            _, members = await pipe.execute()
        if not members:
            return
        names = [member.decode("utf8") for member in members]
        by_connection, messages, capacities = self._map_channel_keys_to_connection(names, message)
        for index, channel_keys in by_connection.items():
            now = time.time()
            async with self.connection(index).pipeline(transaction=False) as pipe:
                for channel_key in channel_keys:  # what expired in each channel first
                    pipe.zremrangebyscore(channel_key, min=0, max=int(now) - int(self.expiry))
                args = [messages[k] for k in channel_keys] + [capacities[k] for k in channel_keys]
                pipe.eval(_GROUP_SEND, len(channel_keys), *channel_keys, *args, now, self.expiry)
                over_capacity = (await pipe.execute())[-1]
            if over_capacity > 0:
                log.info("%s of %s channels over capacity in group %s", over_capacity, len(names), group)
