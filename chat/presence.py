"""Who is online: distinct visitors with a live socket, across every daphne process.

Each process counts its own sockets per visitor in memory (two tabs = one visitor).
With Redis, the processes share one sorted set of visitor ids scored by when a process
last vouched for them: each process re-vouches for its visitors every few seconds, so a
member that a crashed process can no longer vouch for drops out after PRESENCE_TTL.
Without Redis there is one process and its own count is the answer.

One ticker task per process reads the count once a second and pushes it to that
process's presence sockets only when it changed: O(N) work a second at most, never
a message per pair of sockets.
"""

import asyncio
import logging
import time
import weakref
from collections import Counter
from typing import Protocol
from uuid import UUID

from django.conf import settings

from chat.redis_clients import async_redis, sync_redis

logger = logging.getLogger(__name__)

TICK_SECONDS = 1.0
PRESENCE_TTL = 15.0  # seconds a visitor stays counted without being vouched for
_REVOUCH_EVERY_TICKS = 5


class Watcher(Protocol):
    """A presence socket: told the count when it changes."""

    async def send_online(self, online: int) -> None: ...


# visitor -> live sockets of theirs in this process; members are always positive
_local: Counter[UUID] = Counter()
_arrived: set[UUID] = set()  # not yet written to Redis
_departed: set[UUID] = set()  # last local socket closed, not yet removed from Redis
_watchers: set[Watcher] = set()
_tickers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()


def visitor_connected(user_id: UUID) -> None:
    _local[user_id] += 1
    _departed.discard(user_id)
    if _local[user_id] == 1:
        _arrived.add(user_id)
    _ensure_ticker()


def visitor_disconnected(user_id: UUID) -> None:
    _local[user_id] -= 1
    if _local[user_id] <= 0:
        del _local[user_id]
        _arrived.discard(user_id)
        _departed.add(user_id)


def watch(watcher: Watcher) -> None:
    _watchers.add(watcher)
    _ensure_ticker()


def unwatch(watcher: Watcher) -> None:
    _watchers.discard(watcher)


async def online_count(*, revouch: bool = False) -> int:
    """The current count, after writing this process's pending arrivals and departures."""
    if not settings.REDIS_URL:
        return len(_local)
    arrived, departed = set(_arrived), set(_departed)
    _arrived.difference_update(arrived)
    _departed.difference_update(departed)
    now = time.time()
    vouched = {str(user_id): now for user_id in (_local if revouch else arrived)}
    key = settings.PRESENCE_REDIS_KEY
    try:
        async with async_redis().pipeline(transaction=False) as pipe:
            if vouched:
                pipe.zadd(key, vouched)
            if departed:
                pipe.zrem(key, *(str(user_id) for user_id in departed))
            pipe.zremrangebyscore(key, "-inf", now - PRESENCE_TTL)
            pipe.zcard(key)
            results = await pipe.execute()
    except Exception:  # redis-py raises several connection/timeout types
        # Keep the pending changes for the next tick, and show this process's own count.
        _arrived.update(arrived - set(departed))
        _departed.update(departed - set(_local))
        logger.warning("presence: Redis unreachable, showing this process's count", exc_info=True)
        return len(_local)
    return results[-1]


def online_count_sync() -> int:
    """The count for the HTTP API (which runs outside the event loop)."""
    if not settings.REDIS_URL:
        return len(_local)
    return sync_redis().zcount(settings.PRESENCE_REDIS_KEY, time.time() - PRESENCE_TTL, "+inf")


def _ensure_ticker() -> None:
    loop = asyncio.get_running_loop()
    task = _tickers.get(loop)
    if task is None or task.done():
        _tickers[loop] = loop.create_task(_tick_while_anyone_is_here())


async def _tick_while_anyone_is_here() -> None:
    tick = 0
    while _local or _watchers or _departed:
        await asyncio.sleep(TICK_SECONDS)
        tick += 1
        online = await online_count(revouch=tick % _REVOUCH_EVERY_TICKS == 0)
        for watcher in list(_watchers):
            try:
                await watcher.send_online(online)
            except Exception:  # one broken socket must not stop the others' updates
                logger.debug("presence: could not update a socket", exc_info=True)
