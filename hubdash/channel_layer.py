"""channels-redis with a connection pool that waits instead of failing.

redis-py's asyncio pool holds at most 100 connections per process and raises `MaxConnectionsError` past
that: hundreds of tabs closing at once (a deploy, a network blip) each leave their groups concurrently,
so most of those calls failed and left stale group memberships behind (measured: ~2,700 errors for
1,000 sockets). A blocking pool of the same size makes the surplus wait its turn for a connection,
within `REDIS_POOL_TIMEOUT`. And a lock of channels-redis that a cancelled receive left behind.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import ChannelLock, RedisChannelLayer
from redis.asyncio import BlockingConnectionPool


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
