"""channels-redis with a connection pool that waits instead of failing.

redis-py's asyncio pool holds at most 100 connections per process and raises `MaxConnectionsError` past
that: hundreds of tabs closing at once (a deploy, a network blip) each leave their groups concurrently,
so most of those calls failed and left stale group memberships behind (measured: ~2,700 errors for
1,000 sockets). A blocking pool of the same size makes the surplus wait its turn for a connection,
within `REDIS_POOL_TIMEOUT`.
"""

from __future__ import annotations

from typing import Any

from channels_redis.core import RedisChannelLayer
from redis.asyncio import BlockingConnectionPool


class PooledRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args: Any, pool_size: int = 100, pool_timeout: float = 20.0, **kwargs: Any) -> None:
        self.pool_size = pool_size
        self.pool_timeout = pool_timeout
        super().__init__(*args, **kwargs)

    def create_pool(self, index: int) -> BlockingConnectionPool:
        host = dict(self.hosts[index])
        address = host.pop("address")
        return BlockingConnectionPool.from_url(
            address, max_connections=self.pool_size, timeout=self.pool_timeout, **host
        )
