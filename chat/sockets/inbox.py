"""This process's channel-layer inbox: one reader hands every socket its events.

Channels gives each consumer a `channel_layer.receive()` of its own, and channels-redis lets
one of those waiting receives at a time pop the process's messages for all of them. When a
socket closes, Channels cancels its receive; if that one was popping, a message it had just
taken off Redis for another socket is lost (the pop is not undone: django/channels_redis#366).
The moment a socket closes is when its group hears most (a closed page's leave ends the chat
and `partner.left` goes to the partner), so a partner now and then never learnt the chat had
ended. Every idle socket also kept two tasks, a queue and their futures for that receive.

For the Redis layer, one reader per process and event loop pops the process's messages
(`receive_single`, the layer's own unit of receiving, on the key every channel of this
process shares) and hands each to the socket whose channel it names. The reader is never
cancelled with a socket. A socket's events wait in a small queue of its own while one is
handled, so they keep their order; like the layer's own buffer it holds `capacity` events
and drops the oldest beyond. A message for a channel no socket here holds any more is
dropped, as the layer would drop it. If Redis goes away, every socket is told
(`outage_met`: the page reconnects), and the reader tries again each second; so is a socket
whose event handler meets PostgreSQL or Redis down.

The in-memory layer (the embedded default) keeps Channels' own receive: its queues lose
nothing to a cancel.
"""

import asyncio
import logging
import weakref
from collections import deque
from typing import TYPE_CHECKING

from channels_redis.core import RedisChannelLayer

from whimsy_project.outages import OUTAGE_ERRORS

if TYPE_CHECKING:
    from chat.sockets.consumer import LoopConsumer

logger = logging.getLogger(__name__)

OUTAGE_RETRY_SECONDS = 1.0


class Inbox:
    def __init__(self, layer: RedisChannelLayer) -> None:
        self.layer = layer
        self.sockets: dict[str, "LoopConsumer"] = {}  # by channel name, from open to close
        self.reader: asyncio.Task | None = None

    def open(self, socket: "LoopConsumer") -> None:
        self.sockets[socket.channel_name] = socket
        if self.reader is None or self.reader.done():
            process_key = self.layer.non_local_name(socket.channel_name)  # "specific.<this process>!"
            self.reader = asyncio.get_running_loop().create_task(self._read(process_key), name="channel-layer inbox")

    def close(self, socket: "LoopConsumer") -> None:
        self.sockets.pop(socket.channel_name, None)

    async def _read(self, process_key: str) -> None:
        while True:
            try:
                to, message = await self.layer.receive_single(process_key)
            except OUTAGE_ERRORS:
                logger.warning("the channel layer is unreachable: closing this process's sockets", exc_info=True)
                for socket in list(self.sockets.values()):
                    socket.outage_met()
                await asyncio.sleep(OUTAGE_RETRY_SECONDS)
                continue
            for channel in to if isinstance(to, list) else (to,):
                socket = self.sockets.get(channel)
                if socket is not None:
                    socket.event_arrived(message)


class Events:
    """One socket's events waiting to be handled, in order, and the task handling them."""

    def __init__(self, socket: "LoopConsumer", capacity: int) -> None:
        self.socket = socket
        self.waiting: deque = deque(maxlen=capacity)
        self.task: asyncio.Task | None = None

    def add(self, message: dict) -> None:
        self.waiting.append(message)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._handle_all(), name="socket events")

    async def _handle_all(self) -> None:
        try:
            while self.waiting:
                message = self.waiting.popleft()
                try:
                    await self.socket.dispatch(message)
                except OUTAGE_ERRORS:
                    logger.warning("%s: an outage while handling an event", type(self.socket).__name__, exc_info=True)
                    self.socket.outage_met()
                except Exception:  # one event's failure must not strand the ones after it
                    logger.exception("%s: handling a %s event failed", type(self.socket).__name__, message.get("type"))
        finally:
            self.task = None


_inboxes: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Inbox]" = weakref.WeakKeyDictionary()


def inbox_for(layer) -> Inbox | None:
    """This event loop's inbox for the layer, or None if the layer's own receive is safe."""
    if not isinstance(layer, RedisChannelLayer):
        return None
    loop = asyncio.get_running_loop()
    inbox = _inboxes.get(loop)
    if inbox is None or inbox.layer is not layer:
        inbox = _inboxes[loop] = Inbox(layer)
    return inbox
