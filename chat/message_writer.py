"""The room sockets' message writer: one per event loop, storing messages in small batches.

A socket's message is queued; while a batch is in its transaction, newcomers wait and
go together in the next one (so under load a transaction stores many messages, and
alone a message waits for nobody). After the commit the writer announces each created
message, in the order stored, and only then answers the sockets: an ack still means
stored, and a socket's next frame cannot overtake its message. The next batch is
stored while the last one is announced; announcements wait for the ones before them.

The announcement is the room group's chat.message event, as for messages posted over
HTTP, with one shortcut: the sender's socket and its partner's sockets in this process
get the event directly, and only the group's other members (other tabs, other processes,
a socket that has not said hello yet) get it through the channel layer: the members are
read as group_send reads them (one pipelined round trip for the batch's rooms), so
nobody is missed. Their order with the relayed signals
(also direct) is then the order sent. Rooms are announced concurrently; one room's
messages one after another.
"""

import asyncio
import logging
import time
import weakref
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol

from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.db import DatabaseError

from chat.events import room_group
from chat.protocol import message_payload
from chat.services import PostedMessage, SocketMessage, socket_messages_store
from whimsy_project.errors import DeliveryFailed, WhimsyError

logger = logging.getLogger(__name__)

MAX_BATCH = 200  # messages per transaction; the rest wait for the next one

# The writer's own database thread. Channels' one thread-sensitive database thread also
# serves every socket's connect, heartbeat and settle step; a batch queued behind a
# burst of those (a thousand sockets' heartbeats fall due within seconds) waited for all
# of them. Batches run one at a time, so one thread (one pooled connection) is enough.
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="message-writer")


class Socket(Protocol):
    channel_name: str

    def local_recipients(self) -> list["Socket"]:
        """This socket and its partner's sockets in this process: they get the event directly."""

    async def dispatch(self, event: dict) -> None: ...


class MessageWriter:
    def __init__(self) -> None:
        self.queue: list[tuple[SocketMessage, Socket, asyncio.Future]] = []
        self.flushing: asyncio.Task | None = None
        self.announcing: asyncio.Task | None = None  # the latest batch's announcement

    async def post(self, message: SocketMessage, *, socket: Socket) -> PostedMessage:
        """Stored and announced; raises the WhimsyError that refused it (or DeliveryFailed)."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.queue.append((message, socket, future))
        if self.flushing is None or self.flushing.done():
            self.flushing = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        while self.queue:
            batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
            try:
                results = await _store_in_writer_thread([message for message, _, _ in batch])
            except Exception as exc:  # each waiting socket hears of it; the writer goes on
                results = [exc] * len(batch)
            # The next batch is stored while this one is announced; announcements keep their order.
            self.announcing = loop.create_task(self._announce_and_answer(batch, results, after=self.announcing))

    async def _announce_and_answer(self, batch: list, results: list, *, after: asyncio.Task | None) -> None:
        if after is not None:
            await asyncio.wait([after])
        try:
            results = await self._announce(batch, results)
        except Exception as exc:  # the members could not be read: the created ones were not delivered
            logger.exception("could not announce a batch of %d messages", len(batch))
            failed = DeliveryFailed()
            failed.__cause__ = exc
            results = [failed if isinstance(r, PostedMessage) and r.created else r for r in results]
        for (_, _, future), result in zip(batch, results):
            if future.done():
                continue  # the socket went away meanwhile
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _announce(self, batch: list, results: list) -> list:
        by_room: dict = {}
        for index, ((message, socket, _), result) in enumerate(zip(batch, results)):
            if isinstance(result, PostedMessage) and result.created:
                by_room.setdefault(message.room_id, []).append((index, socket, result))
        if not by_room:
            return results
        layer = get_channel_layer()
        groups = {room_id: room_group(room_id) for room_id in by_room}
        members = await _members_of(layer, list(groups.values()))
        outcomes = await asyncio.gather(
            *(
                self._announce_room(layer, groups[room_id], items, members=members and members[groups[room_id]])
                for room_id, items in by_room.items()
            )
        )
        results = list(results)
        for failed in outcomes:
            for index in failed:
                results[index] = DeliveryFailed()
        return results

    async def _announce_room(self, layer, group: str, items: list, *, members: list[str] | None) -> list[int]:
        """Announce one room's new messages in order; the indexes whose sends failed.

        Local sockets get the event directly; every other member of the group (read as
        group_send reads them) by a channel send, and a full channel drops its copy as
        group_send would (the message is stored; the history has it). Usually nobody
        is left, so a message costs no channel-layer send at all.
        """
        failed = []
        for index, socket, posted in items:
            event = {"type": "chat.message", "message": message_payload(posted.message)}
            served = []
            for recipient in socket.local_recipients():
                try:
                    await recipient.dispatch(event)
                    served.append(recipient.channel_name)
                except Exception:  # a socket closing meanwhile; it gets the layer's copy if it can
                    logger.debug("could not hand message %s to a local socket", posted.message.id, exc_info=True)
            try:
                if members is None:  # a layer we cannot ask: its group_send; the served skip their copy
                    await layer.group_send(group, {**event, "served": served})
                    continue
                for channel in members:
                    if channel not in served:
                        try:
                            await layer.send(channel, event)
                        except ChannelFull:
                            logger.warning("channel %s full: dropped a message event for it", channel)
            except Exception:  # whatever the layer raises (Redis down, ...), the sender must hear of it
                logger.exception("could not deliver message %s to %s", posted.message.id, group)
                failed.append(index)
        return failed


async def _members_of(layer, groups: list[str]) -> dict[str, list[str]] | None:
    """Each group's channels, for the two layers in settings, read as their group_send reads
    them (channels_redis: the members within group_expiry; one pipelined round trip)."""
    if isinstance(layer, RedisChannelLayer):
        alive_since = int(time.time()) - layer.group_expiry
        by_connection: dict[int, list[str]] = {}
        for group in groups:
            by_connection.setdefault(layer.consistent_hash(group), []).append(group)
        members = {}
        for index, some in by_connection.items():
            async with layer.connection(index).pipeline(transaction=False) as pipe:
                for group in some:
                    pipe.zrangebyscore(layer._group_key(group), alive_since, "+inf")
                replies = await pipe.execute()
            members.update({group: [name.decode() for name in reply] for group, reply in zip(some, replies)})
        return members
    if isinstance(layer, InMemoryChannelLayer):
        return {group: list(layer.groups.get(group, {})) for group in groups}
    return None


def _store(messages: list[SocketMessage]) -> list[PostedMessage | WhimsyError | Exception]:
    """One transaction for the batch; if it fails (a deadlock, a duplicate sent over HTTP at
    the same instant), each message alone, so one bad message costs only itself."""
    try:
        return socket_messages_store(messages=messages)
    except DatabaseError:
        if len(messages) == 1:
            raise
        logger.warning("a batch of %d messages failed; storing them one by one", len(messages), exc_info=True)
    results = []
    for message in messages:
        try:
            results.extend(socket_messages_store(messages=[message]))
        except DatabaseError as exc:
            results.append(exc)
    return results


_store_in_writer_thread = database_sync_to_async(_store, thread_sensitive=False, executor=_database_thread)

_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter]" = weakref.WeakKeyDictionary()


def message_writer() -> MessageWriter:
    """This event loop's writer (test runs have several loops; a server has one)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter()
    return writer
