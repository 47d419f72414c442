"""The sockets' message writer: one per event loop and message kind, storing messages in small batches.

A kind (`MessageKind`) is what differs between sockets: the function storing a batch in one
transaction (the one store function its HTTP path uses too) and the group event announcing a
stored message. The 1:1 room (`ROOM_MESSAGES`) and the mood rooms (moodrooms.consumers) use it.

A socket's message is queued; while a batch is in its transaction, newcomers wait and
go together in the next one (so under load a transaction stores many messages, and
alone a message waits for nobody). After the commit the writer announces each message
(a resent one again), in the order stored, and only then answers the sockets: an ack still means
stored, and a socket's next frame cannot overtake its message. The next batch is
stored while the last one is announced; announcements wait for the ones before them.

The announcement is the kind's group event (the 1:1 room's chat.message, as for messages
posted over HTTP), sent by the sender's socket to every socket of its group
(GroupSocket.send_to_group): straight to the channels its directory knows, with no round
trip through the group's membership; a socket that joined a moment ago and is not known
yet catches up from the database once it is (the kind's `announcements_since`). Their
order with the relayed signals is then the order sent. Groups are announced
concurrently; one group's messages one after another.
"""

import asyncio
import logging
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from channels.db import database_sync_to_async
from django.db import DatabaseError

from chat.protocol import message_event
from chat.services import messages_store
from whimsy_project.errors import DeliveryFailed

logger = logging.getLogger(__name__)

MAX_BATCH = 200  # messages per transaction; the rest wait for the next one

# The writer's own database thread. Channels' one thread-sensitive database thread also
# serves every socket's connect, heartbeat and settle step; a batch queued behind a
# burst of those (a thousand sockets' heartbeats fall due within seconds) waited for all
# of them. A writer's batches run one at a time, and each is one short transaction, so
# one thread (one pooled connection) serves the writers of every kind.
_database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="message-writer")


@dataclass(frozen=True)
class MessageKind:
    """What the writer needs to know of one socket kind's messages."""

    name: str
    # store(messages=[...]) in one transaction: for each message, in order, its posted result
    # (`.message` with `.id`, `.created`: False for a resend of a stored client_id) or the
    # WhimsyError refusing it. The kind's HTTP path stores through the same function.
    store: Callable[..., list]
    event: Callable[[Any], dict]  # the group event announcing a posted result
    # A resend is announced again (pages merge by id), as its first announcement may have
    # failed; a kind whose pages do not merge acks a resend and announces nothing.
    announce_resends: bool = True


ROOM_MESSAGES = MessageKind(name="room", store=messages_store, event=lambda posted: message_event(posted.message))


class Socket(Protocol):
    group: str  # announcements of one group keep their order

    async def send_to_group(self, event: dict) -> None:
        """Every socket of the sender's group, the sender's own included (chat.sockets.GroupSocket)."""


class MessageWriter:
    def __init__(self, kind: MessageKind) -> None:
        self.kind = kind
        self.queue: list[tuple[Any, Socket, asyncio.Future]] = []
        self.flushing: asyncio.Task | None = None
        self.announcing: asyncio.Task | None = None  # the latest batch's announcement

    async def post(self, message, *, socket: Socket):
        """Stored and announced: the kind's posted result; raises the WhimsyError that refused it
        (or DeliveryFailed)."""
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
                results = await _store_in_writer_thread(self.kind.store, [message for message, _, _ in batch])
            except Exception as exc:  # each waiting socket hears of it; the writer goes on
                results = [exc] * len(batch)
            # The next batch is stored while this one is announced; announcements keep their order.
            self.announcing = loop.create_task(self._announce_and_answer(batch, results, after=self.announcing))

    async def _announce_and_answer(self, batch: list, results: list, *, after: asyncio.Task | None) -> None:
        if after is not None:
            await asyncio.wait([after])
        try:
            results = await self._announce(batch, results)
        except Exception as exc:  # none of the batch's messages was delivered
            logger.exception("could not announce a batch of %d messages", len(batch))
            failed = DeliveryFailed()
            failed.__cause__ = exc
            results = [r if isinstance(r, BaseException) else failed for r in results]
        for (_, _, future), result in zip(batch, results):
            if future.done():
                continue  # the socket went away meanwhile
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)

    async def _announce(self, batch: list, results: list) -> list:
        by_group: dict = {}
        posted = [not isinstance(result, BaseException) for result in results]
        created = {result.message.id for result, ok in zip(results, posted) if ok and result.created}
        for index, ((_, socket, _), result, ok) in enumerate(zip(batch, results, posted)):
            # A resend whose first copy is in this very batch is announced with it.
            if ok and (result.created or (self.kind.announce_resends and result.message.id not in created)):
                by_group.setdefault(socket.group, []).append((index, socket, result))
        outcomes = await asyncio.gather(*(self._announce_group(items) for items in by_group.values()))
        results = list(results)
        for failed in outcomes:
            for index in failed:
                results[index] = DeliveryFailed()
        return results

    async def _announce_group(self, items: list) -> list[int]:
        """Announce one group's new messages in order; the indexes whose sends failed.

        A full channel drops its copy as group_send would (the message is stored; the
        history has it); any other failure of the layer is the sender's to hear of.
        """
        failed = []
        for index, socket, posted in items:
            try:
                await socket.send_to_group(self.kind.event(posted))
            except Exception:  # whatever the layer raises (Redis down, ...), the sender must hear of it
                logger.exception("could not deliver message %s", posted.message.id)
                failed.append(index)
        return failed


def _store(store: Callable[..., list], messages: list) -> list:
    """One transaction for the batch; if it fails (a deadlock, a duplicate sent over HTTP at
    the same instant), each message alone, so one bad message costs only itself."""
    try:
        return store(messages=messages)
    except DatabaseError:
        if len(messages) == 1:
            raise
        logger.warning("a batch of %d messages failed; storing them one by one", len(messages), exc_info=True)
    results = []
    for message in messages:
        try:
            results.extend(store(messages=[message]))
        except DatabaseError as exc:
            results.append(exc)
    return results


_store_in_writer_thread = database_sync_to_async(_store, thread_sensitive=False, executor=_database_thread)

_writers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, MessageWriter]]" = weakref.WeakKeyDictionary()


def message_writer(kind: MessageKind) -> MessageWriter:
    """This event loop's writer of this kind (test runs have several loops; a server has one)."""
    writers = _writers.setdefault(asyncio.get_running_loop(), {})
    writer = writers.get(kind.name)
    if writer is None:
        writer = writers[kind.name] = MessageWriter(kind)
    return writer
