"""Reads that survive a cut database connection.

PostgreSQL ends connections when it restarts, fails over or an operator runs `pg_terminate_backend`; the
psycopg pool (hubdash/settings.py) does not test a connection before lending it, so every idle one is
dead then and fails once. A page request that fails that way is answered 500 and the browser asks again;
a live frame drawn for a socket cannot be asked for again: the tabs would stay silent until their next
resync. Read-only work is safe to run twice, so it runs once more on a fresh connection.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from channels.db import database_sync_to_async
from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def read_again_if_cut(fn: Callable[P, T]) -> Callable[P, T]:
    """`fn` (read-only, sync), run once more on a fresh connection when its connection was cut."""

    @functools.wraps(fn)
    def read(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        except (OperationalError, InterfaceError):
            if connection.in_atomic_block:
                raise  # a transaction's work cannot be repeated halfway: its caller decides
            log.warning("database connection lost while reading; reading again", exc_info=True)
            connection.close()  # the pool discards a broken connection given back to it
            pool = getattr(connection, "pool", None)
            if pool is not None:
                pool.check()  # the idle connections were cut with it: test each, replace the dead
            return fn(*args, **kwargs)

    return read


def database_read(fn: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`database_sync_to_async` for a read-only function, read again once if its connection was cut."""
    return database_sync_to_async(read_again_if_cut(fn))
