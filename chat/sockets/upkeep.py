"""The open sockets' periodic database work: one task per process, one call per socket kind.

A kind whose rows the stale sweeps read (a 1:1 room's participation, a mood room stay)
vouches for its open sockets' rows every HEARTBEAT_SECONDS. Each socket used to run a task
of its own for it: an idle socket's task, coroutine, context and timer stayed in memory for
its whole life, and a process with a thousand sockets sent a thousand UPDATEs per beat.
Now one task per event loop, while group sockets are open, calls each kind's
`GroupSocket.upkeep(sockets)` once per beat with that kind's open sockets of this process,
which refreshes them all in one statement.
"""

import asyncio
import logging
import weakref

from django.conf import settings

from chat.sockets import directory

logger = logging.getLogger(__name__)

# Sockets per call, so that a statement's list of ids stays far below the databases' limits.
CHUNK = 500

_tasks: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Task]" = weakref.WeakKeyDictionary()


def watch() -> None:
    """Called when a group socket opens: make sure this process's upkeep runs."""
    loop = asyncio.get_running_loop()
    task = _tasks.get(loop)
    if task is None or task.done():
        _tasks[loop] = loop.create_task(_beat(), name="socket upkeep")


async def _beat() -> None:
    while directory.sockets_here():
        await asyncio.sleep(settings.HEARTBEAT_SECONDS)
        by_kind: dict[type, list] = {}
        for socket in directory.sockets_here():
            by_kind.setdefault(type(socket), []).append(socket)
        for kind, sockets in by_kind.items():
            for start in range(0, len(sockets), CHUNK):
                try:
                    await kind.upkeep(sockets[start : start + CHUNK])
                except Exception:  # the next beat tries again; one failure spares the other sockets
                    logger.exception("upkeep of %d %s sockets failed", len(sockets), kind.__name__)
