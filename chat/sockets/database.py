"""Sockets' database work, on a bounded pool of threads of its own.

Channels' `database_sync_to_async` runs every call on the one thread-sensitive thread of
the process, so every socket's connect, heartbeat, settle step, leave and lost member
waited for every other: a process connected under a hundred sockets a second. The calls
of a socket need no thread of their own (each is a service call, one transaction, with
nothing kept in thread-locals between calls), so they run on a pool of
`SOCKET_DB_THREADS` threads, each holding at most one pooled connection while it works.
The pool is sized below `DB_POOL_MAX_SIZE` so that requests and the message writer
(chat.message_writer, a thread of its own) always find a connection.

`database_sync_to_async` still closes stale connections around each call, in the thread
that owns them: with the connection pool (CONN_MAX_AGE 0) that hands the connection back
after every call, so an idle pool thread holds no database session.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

_pool: ThreadPoolExecutor | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None:  # made on first use: settings are read once they are configured
        _pool = ThreadPoolExecutor(max_workers=settings.SOCKET_DB_THREADS, thread_name_prefix="socket-db")
    return _pool


async def run_in_database(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Call `func(*args, **kwargs)` (a service or selector) on the sockets' database pool."""
    return await database_sync_to_async(func, thread_sensitive=False, executor=_executor())(*args, **kwargs)
