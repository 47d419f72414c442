"""Which server processes are alive, so that a crashed one's members are noticed.

Every process has an id, carried in its sockets' directory events (socket.hello/here),
so each socket knows which process serves each channel of its group. A process that
stops cleanly closes its sockets and they say socket.bye; one killed (kill -9, out of
memory, a lost machine) says nothing. So, with Redis, each process with group sockets
vouches for itself every second (`whimsy:alive:<id>`, expiring after TTL_SECONDS), and
every CHECK_SECONDS reads the keys of the processes its sockets' groups use: a process
whose key is missing at two checks in a row is dead, and its channels are handled as
closed without leave (the grace period then runs as for a blip). Two misses, because a
restarted Redis forgets every key until each process has vouched again (within a second).
A crash is noticed within TTL_SECONDS + 2 * CHECK_SECONDS (9 s). Without Redis there is
one process, and a crash takes every socket with it: nothing to notice.
"""

import asyncio
import logging
import uuid
import weakref

from django.conf import settings

from chat.redis_clients import async_redis
from chat.sockets import directory

logger = logging.getLogger(__name__)

PROCESS_ID = uuid.uuid4().hex
KEY_PREFIX = "whimsy:alive:"
VOUCH_SECONDS = 1.0
TTL_SECONDS = 5
CHECK_SECONDS = 2.0
MISSES_TO_DIE = 2

_watchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()
_misses: dict[str, int] = {}  # process -> checks in a row that found its key missing


def watch() -> None:
    """Called when a group socket opens: vouch for this process and watch the others."""
    if not settings.REDIS_URL:
        return
    loop = asyncio.get_running_loop()
    task = _watchers.get(loop)
    if task is None or task.done():
        _watchers[loop] = loop.create_task(_vouch_and_watch(), name="liveness")


async def _vouch_and_watch() -> None:
    loop = asyncio.get_running_loop()
    check_due = loop.time() + CHECK_SECONDS
    while directory.sockets_here():
        try:
            client = async_redis()
            await client.set(KEY_PREFIX + PROCESS_ID, "1", ex=TTL_SECONDS)
            if loop.time() >= check_due:
                check_due = loop.time() + CHECK_SECONDS
                await _bury_the_dead(await _dead_processes(client))
        except Exception:  # Redis down: nobody can vouch, so nobody is declared dead either
            logger.warning("liveness: Redis unreachable", exc_info=True)
            _misses.clear()
        await asyncio.sleep(VOUCH_SECONDS)


async def _dead_processes(client) -> set[str]:
    watched = set().union(*(socket.directory.processes() for socket in directory.sockets_here())) - {PROCESS_ID}
    for process in set(_misses) - watched:
        del _misses[process]
    if not watched:
        return set()
    ordered = sorted(watched)
    values = await client.mget([KEY_PREFIX + process for process in ordered])
    dead = set()
    for process, value in zip(ordered, values):
        if value is not None:
            _misses.pop(process, None)
            continue
        _misses[process] = _misses.get(process, 0) + 1
        if _misses[process] >= MISSES_TO_DIE:
            dead.add(process)
            del _misses[process]
    return dead


async def _bury_the_dead(dead: set[str]) -> None:
    for process in dead:
        logger.warning("liveness: process %s stopped vouching; its sockets count as closed", process)
        for socket in directory.sockets_here():
            try:
                await socket.process_gone(process)
            except Exception:
                logger.exception("liveness: could not tell a socket that process %s is gone", process)
