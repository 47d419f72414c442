"""Stopping a server process without ending anyone's chat (SIGTERM: a deploy, a restart).

On SIGTERM the process closes every open socket with 4012 (`server_restarting`; daphne's
WebSocket library refuses the standard 1012), refuses new ones the same way, waits until
each socket's disconnect handler has run (so its group heard `socket.bye` and the grace
period runs on the other members' processes), and then lets the server stop as SIGTERM
normally would. Pages reconnect to any process and resume within the grace.

Twisted (under daphne) installs its SIGTERM handler when the server starts; the first
socket wraps it, so the old handler still stops the server, after the sockets are closed.
"""

import asyncio
import logging
import os
import signal
import threading
import weakref
from typing import TYPE_CHECKING

from chat.sockets.frames import CLOSE_SERVER_RESTARTING

if TYPE_CHECKING:
    from chat.sockets.consumer import Socket

logger = logging.getLogger(__name__)

STOP_TIMEOUT_SECONDS = 10.0  # at most this long for the sockets to close before the server stops anyway

_open: "weakref.WeakSet[Socket]" = weakref.WeakSet()
_all_closed: asyncio.Event | None = None
_stopping = False
_previous_handler = None
_loop: asyncio.AbstractEventLoop | None = None


def stopping() -> bool:
    return _stopping


def socket_opened(socket: "Socket") -> None:
    _open.add(socket)
    _install()


def socket_closed(socket: "Socket") -> None:
    _open.discard(socket)
    if _stopping and not _open and _all_closed is not None:
        _all_closed.set()


def _install() -> None:
    global _previous_handler, _loop
    if threading.current_thread() is not threading.main_thread():
        return  # signal handlers belong to the main thread, where the server's loop runs
    _loop = asyncio.get_running_loop()
    current = signal.getsignal(signal.SIGTERM)
    if current is not _on_sigterm:
        _previous_handler = current
        signal.signal(signal.SIGTERM, _on_sigterm)


def _on_sigterm(signum, frame) -> None:
    loop = _loop
    loop.call_soon_threadsafe(lambda: loop.create_task(_stop(signum, frame)))


async def _stop(signum, frame) -> None:
    global _stopping, _all_closed
    if _stopping:
        return
    _stopping = True
    _all_closed = asyncio.Event()
    sockets = list(_open)
    logger.warning("SIGTERM: closing %d sockets with %d before stopping", len(sockets), CLOSE_SERVER_RESTARTING)
    for socket in sockets:
        try:
            await socket.close(code=CLOSE_SERVER_RESTARTING, reason="server_restarting")
        except Exception:  # already closing
            logger.debug("could not close a socket", exc_info=True)
    if _open:
        try:
            await asyncio.wait_for(_all_closed.wait(), timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("SIGTERM: %d sockets still open after %.0f s; stopping anyway", len(_open), STOP_TIMEOUT_SECONDS)
    _chain(signum, frame)


def _chain(signum, frame) -> None:
    if callable(_previous_handler):
        _previous_handler(signum, frame)
    else:  # SIG_DFL: die of the signal, as the process would have
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
