"""The socket machinery every socket kind is built on (docs/sockets.md).

`Socket` is one WebSocket: accept, then authorise once (`authorise`), refuse with an
`error` frame and 4003/4004; parse each client frame against the kind's `vocabulary`,
spend a token of its rate class, and call `on_<type>`; forward `socket.frame` events;
close with 4003 on the visitor's ban; run background tasks that end with the socket.

`GroupSocket` is a member's socket in a group of members (a 1:1 room, a mood room
session, a thread): it keeps a directory of the channels serving each member (see
chat.sockets.directory), relays to one member or to every other member, and runs the
grace period: a member whose last socket closed without leaving is *reconnecting*, is
*resumed* if a socket of theirs says hello within `grace_seconds()`, and is *lost*
after it. Subclasses word these moments (`member_reconnecting`, `member_resumed`) and
end a lost member through their service (`member_lost`).
"""

import asyncio
import logging
import re
import time
from collections.abc import Coroutine
from datetime import datetime
from datetime import timezone as dt_timezone
from typing import Any, ClassVar
from uuid import UUID

from channels.consumer import get_handler_name
from channels.exceptions import ChannelFull, StopConsumer
from channels.layers import get_channel_layer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from chat import presence
from chat.events import visitor_group
from chat.sockets import directory, inbox, liveness, shutdown, upkeep
from chat.sockets.frames import (
    CLOSE_FORBIDDEN,
    CLOSE_FRAME_TOO_LARGE,
    CLOSE_SERVICE_UNAVAILABLE,
    CLOSE_NOT_FOUND,
    CLOSE_RATE_LIMITED,
    CLOSE_SERVER_RESTARTING,
    Vocabulary,
    error_frame,
    parse_frame,
)
from chat.sockets.limits import SocketLimits
from whimsy_project import metrics
from whimsy_project.errors import (
    Banned,
    DeliveryFailed,
    FrameTooLarge,
    NoSession,
    RateLimited,
    ServiceUnavailable,
    WhimsyError,
)
from whimsy_project.logs import log_socket
from whimsy_project.outages import OUTAGE_ERRORS

logger = logging.getLogger(__name__)

LOST_RETRY_SECONDS = 5.0  # a member lost during a database outage is ended when it is back
# When a newcomer's channel is full, the answers to its hello wait this long, then this long, ...
HERE_RETRY_DELAYS = (0.1, 0.2, 0.4, 0.8, 1.6, 3.2)
# A catch-up reaches this far behind a join: other machines' clocks, and a message's
# timestamp taken in its batch's transaction a moment before the commit.
CATCH_UP_SLACK_SECONDS = 5.0

# Timers of members lost while no other socket of their group was here to time them out.
_orphan_timers: set[asyncio.Task] = set()


class LoopConsumer(AsyncWebsocketConsumer):
    """A consumer whose events are handled on the event loop alone.

    Channels' dispatch first hops to the one thread-sensitive database thread to close
    stale connections, for every frame and every event: a relayed signal would wait
    behind whatever database work the process is doing. Every database call here goes
    through database_sync_to_async, which closes stale connections itself, in the
    thread that owns them, before and after the call; so the hop is skipped.
    """

    events: "inbox.Events | None" = None

    async def __call__(self, scope, receive, send):
        """As Channels' consumer, but with the Redis layer its events come from this process's
        inbox (chat.sockets.inbox) rather than a receive of its own that a close cancels."""
        layer = get_channel_layer(self.channel_layer_alias)
        process_inbox = inbox.inbox_for(layer)
        if process_inbox is None:
            return await super().__call__(scope, receive, send)
        self.scope, self.channel_layer, self.base_send = scope, layer, send
        self.channel_name = await layer.new_channel()
        process_inbox.open(self)
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass
        finally:
            process_inbox.close(self)

    def event_arrived(self, message: dict) -> None:
        """An event from the channel layer (the inbox): handled after the ones before it."""
        if self.events is None:
            self.events = inbox.Events(self, capacity=self.channel_layer.get_capacity(self.channel_name))
        self.events.add(message)

    def outage_met(self) -> None:
        """PostgreSQL or Redis went away under the socket, outside a frame's handling (an event's
        handler, the inbox's reader): chat.sockets.Socket tells the page and closes."""

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class Socket(LoopConsumer):
    """One WebSocket of some kind: authorised once, frames checked, limited and dispatched."""

    vocabulary: ClassVar[Vocabulary] = {}
    requires_visitor: ClassVar[bool] = True  # False: a page without a session may connect

    visitor_id: UUID | None = None
    authorised: bool = False
    # Set once the connection is closing (our close, or the page's): nothing is sent on it
    # any more. Daphne raises on a send after the close, and the consumer would die before
    # its disconnect clean-up (presence, metrics, the group's bye).
    closing: bool = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # The `kind` label of whimsy_open_sockets and of the socket's log line: RoomConsumer is
        # room, SessionSocket session, ...
        cls.socket_kind = re.sub(r"(Consumer|Socket)$", "", cls.__name__).lower()
        missing = [kind for kind in cls.vocabulary if not callable(getattr(cls, f"on_{kind}", None))]
        if missing:
            raise TypeError(f"{cls.__name__} declares frames without handlers: {', '.join(f'on_{m}' for m in missing)}")

    # --- hooks for socket kinds -------------------------------------------------------

    async def authorise(self) -> None:
        """Check the visitor may use this socket (raise a WhimsyError to refuse), via a service."""

    async def started(self) -> None:
        """Authorised: send the first frames, start background tasks (start_task)."""

    async def stopped(self, code: int) -> None:
        """The socket closed (after being authorised); its tasks are cancelled already."""

    async def banned(self) -> None:
        """The visitor was banned; the socket closes with 4003 right after."""

    # --- the machinery ----------------------------------------------------------------

    async def __call__(self, scope, receive, send):
        try:
            await super().__call__(scope, receive, send)
        except OUTAGE_ERRORS:
            if not self.authorised:
                raise
            # A handler met PostgreSQL or Redis down (or the channel layer's own receive failed).
            # Channels would end the consumer without its disconnect, leaving its tasks running
            # and its visitor counted online: tell the page, which reconnects and resumes, and
            # clean up as after a close.
            logger.warning("%s: an outage under the socket; closing", type(self).__name__, exc_info=True)
            await self._close_for_the_outage()
            await self.disconnect(CLOSE_SERVICE_UNAVAILABLE)

    def outage_met(self) -> None:
        # The consumer lives on: the close runs its disconnect as any close does.
        if not self.closing:
            asyncio.get_running_loop().create_task(self._close_for_the_outage())

    async def _close_for_the_outage(self) -> None:
        try:
            await self.send(error_frame(ServiceUnavailable.code, ServiceUnavailable.default_detail))
            await self.close(code=CLOSE_SERVICE_UNAVAILABLE, reason=ServiceUnavailable.code)
        except Exception:  # the connection went too
            logger.debug("could not tell the page", exc_info=True)

    async def connect(self):
        # Accept first: a refusal before the handshake reaches browsers as a bare 1006,
        # while an error frame and a 4003/4004 close tell the page what happened.
        await self.accept()
        self.opened_at = time.monotonic()
        self.visitor_id = self.scope.get("visitor_id")
        self.limits = SocketLimits()
        self.tasks: set[asyncio.Task] = set()
        if shutdown.stopping():
            return await self.close(code=CLOSE_SERVER_RESTARTING, reason="server_restarting")
        try:
            if self.visitor_id is None and self.requires_visitor:
                raise NoSession()
            await self.authorise()
        except WhimsyError as exc:
            await self.abandon()
            return await self.refuse(exc)
        except OUTAGE_ERRORS:  # the page reconnects (with backoff) and is authorised then
            logger.warning("%s: could not authorise during an outage", type(self).__name__, exc_info=True)
            await self.abandon()
            await self.send(error_frame(ServiceUnavailable.code, ServiceUnavailable.default_detail))
            return await self.close(code=CLOSE_SERVICE_UNAVAILABLE, reason=ServiceUnavailable.code)
        self.authorised = True
        shutdown.socket_opened(self)
        metrics.OPEN_SOCKETS.labels(kind=self.socket_kind).inc()
        if self.visitor_id is not None:
            presence.visitor_connected(self.visitor_id)
        await self.started()

    async def disconnect(self, code):
        log_socket(
            kind=self.socket_kind,
            route=self.scope["path"],
            close_code=code,
            duration=time.monotonic() - self.opened_at,
            visitor_id=self.visitor_id,
        )
        if not self.authorised:
            return
        self.authorised = False
        metrics.OPEN_SOCKETS.labels(kind=self.socket_kind).dec()
        for task in self.tasks:
            task.cancel()
        if self.visitor_id is not None:
            presence.visitor_disconnected(self.visitor_id)
        try:
            await self.closed(code)
        finally:
            shutdown.socket_closed(self)

    async def closed(self, code: int) -> None:
        """The machinery's own steps after a close (GroupSocket's tell the group), then `stopped`."""
        await self.stopped(code)

    async def send(self, text_data=None, bytes_data=None, close=False):
        if not self.closing:
            await super().send(text_data, bytes_data, close)

    async def close(self, code=None, reason=None):
        if not self.closing:
            self.closing = True
            await super().close(code=code, reason=reason)

    async def websocket_disconnect(self, message):
        self.closing = True
        await super().websocket_disconnect(message)

    async def receive(self, text_data=None, bytes_data=None):
        if not self.authorised:
            return
        context: dict = {}
        try:
            kind, value = parse_frame(text_data, self.vocabulary)
            context = value.error_context() if hasattr(value, "error_context") else {}
            wait = self.limits.take(self.vocabulary[kind].rate)
            if wait:
                raise RateLimited(round(wait, 2), "You are sending too fast; wait a moment.")
            await getattr(self, f"on_{kind}")(value)
        except OUTAGE_ERRORS:  # nothing was acknowledged: the page sends it again later
            logger.warning("%s: a frame failed during an outage", type(self).__name__, exc_info=True)
            await self.send(error_frame(ServiceUnavailable.code, ServiceUnavailable.default_detail, **context))
        except WhimsyError as exc:
            await self.send(error_frame(exc.code, exc.detail, **exc.extra(), **context))
            if isinstance(exc, FrameTooLarge):
                await self.close(code=CLOSE_FRAME_TOO_LARGE, reason=exc.code)
            elif isinstance(exc, RateLimited) and self.limits.flooding:
                await self.close(code=CLOSE_RATE_LIMITED, reason=exc.code)

    async def refuse(self, exc: WhimsyError) -> None:
        await self.send(error_frame(exc.code, exc.detail))
        # 4004 is "does not exist or has ended" (404, 410); any other refusal is 4003.
        await self.close(code=CLOSE_NOT_FOUND if exc.status in (404, 410) else CLOSE_FORBIDDEN, reason=exc.code)

    async def abandon(self) -> None:
        """Undo what a refused authorise had done (GroupSocket leaves its groups)."""

    async def listen(self, *groups: str) -> None:
        """Join these channel-layer groups (Channels leaves `self.groups` at the close)."""
        self.groups = list(groups)
        for name in self.groups:
            await self.channel_layer.group_add(name, self.channel_name)

    def start_task(self, coroutine: Coroutine[Any, Any, None], *, name: str = "") -> asyncio.Task:
        """Run a background task for as long as this socket is open; its failure is logged."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name or None)
        self.tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("%s task %r failed", type(self).__name__, task.get_name(), exc_info=task.exception())

    # --- events from the channel layer (handler name = event type) --------------------

    async def socket_frame(self, event):
        """A ready server frame (chat.events.announce_frame, or a relay)."""
        if self.authorised:
            await self.send(event["text"])

    async def partner_joined(self, event):
        """A move into another 1:1 room is told on the visitor's group, which every kind of
        their sockets listens to (for bans): only the room socket acts on it (overrides this)."""

    async def visitor_banned(self, event):
        until = datetime.fromisoformat(event["until"]) if event.get("until") else None
        await self.send(error_frame(Banned.code, Banned(until).detail))
        await self.banned()
        await self.close(code=CLOSE_FORBIDDEN, reason=Banned.code)


class GroupSocket(Socket):
    """A member's socket in a group: directory, relay, grace period.

    In `authorise`, call the kind's service and then `await self.join(group=..., member=...)`.
    Set `self.done = True` once this member's membership is over (left, ended, moved,
    banned): its socket closing then is not a blip, and nobody waits for it.
    """

    group: str = ""
    member: str = ""
    done: bool = False
    resume_counted: bool = False
    last_announced: float = 0.0  # when send_to_group last ran (wall clock)

    # --- hooks for socket kinds -------------------------------------------------------

    def grace_seconds(self) -> float:
        """How long a member that vanished without leaving keeps its place."""
        return settings.RESUME_GRACE_SECONDS

    async def member_connected(self, member: str) -> None:
        """Another member's first socket is here (also for every member already in at connect)."""

    async def member_reconnecting(self, member: str) -> None:
        """Another member's last socket closed without leaving (or its server died); the grace runs."""

    async def member_resumed(self, member: str) -> None:
        """A reconnecting member is back within the grace (member_connected is not called)."""

    @classmethod
    async def upkeep(cls, sockets: list["GroupSocket"]) -> None:
        """Every HEARTBEAT_SECONDS, with this process's open sockets of this kind (chat.sockets.
        upkeep): vouch for their members in one statement, through the kind's service."""

    async def announcements_since(self, since: datetime) -> list[dict]:
        """The events `send_to_group` announced to this socket's group since `since` (for a
        kind whose messages go through chat.message_writer: its stored messages, as events),
        as this member may see them. A socket asks for them when a peer may have missed it
        (see `send_to_group`)."""
        raise NotImplementedError(f"{type(self).__name__} announces, so it must say what it announced")

    async def member_lost(self, member: str, *, since: datetime) -> bool:
        """End a member that has not come back within the grace, through the kind's service;
        True if this call ended it (counted in whimsy_partners_lost_total).

        Called by another member's socket, or by the lost member's own socket after it
        closed when nobody else was there. The service must do nothing if the member
        reconnected after `since`, and nothing twice; its announcement tells the group.
        """
        return False

    # --- the machinery ----------------------------------------------------------------

    async def join(self, *, group: str, member: str) -> None:
        """Listen to the group (and the visitor's own group, for bans) before re-reading state."""
        self.group, self.member = group, member
        self.joined_at = time.time()  # (wall clock: peers on other machines compare it with theirs)
        self.directory = directory.Directory()
        self.reconnecting: dict[str, asyncio.Task] = {}
        await self.listen(group, visitor_group(self.visitor_id))

    async def abandon(self) -> None:
        for name in getattr(self, "groups", ()):
            await self.channel_layer.group_discard(name, self.channel_name)
        self.groups = []

    async def connect(self):
        await super().connect()
        if not self.authorised:
            return
        directory.register_here(self)
        liveness.watch()
        upkeep.watch()
        try:
            await self.channel_layer.group_send(
                self.group, {**self._presence_event("socket.hello"), "joined": self.joined_at}
            )
        except OUTAGE_ERRORS:  # unknown to the group, it would relay nothing: the page tries again
            logger.warning("%s: could not say hello during an outage", type(self).__name__, exc_info=True)
            await self.send(error_frame(ServiceUnavailable.code, ServiceUnavailable.default_detail))
            await self.close(code=CLOSE_SERVICE_UNAVAILABLE, reason=ServiceUnavailable.code)

    async def disconnect(self, code):
        if self.authorised:
            directory.unregister_here(self)
            for timer in self.reconnecting.values():
                timer.cancel()
        await super().disconnect(code)

    async def closed(self, code: int) -> None:
        await super().closed(code)
        # (The base class has already left this socket's groups.)
        try:
            await self.channel_layer.group_send(self.group, {**self._presence_event("socket.bye"), "done": self.done})
        except OUTAGE_ERRORS:  # (Redis is down: the other members' sockets are failing the same way)
            logger.warning("%s: could not say bye during an outage", type(self).__name__, exc_info=True)
        if not self.done and not self.directory.is_connected(self.member) and not shutdown.stopping():
            await self._vanished()  # (a stopping process would not live to time it out)

    async def relay(self, event: dict, *, to: str | None = None) -> int:
        """Send an event to one member's sockets (`to`) or to every other member's.

        In-process hand-over when the socket is here, else a direct channel send. Returns
        how many sockets it reached (0: nobody connected); raises DeliveryFailed if a
        recipient's channel is full (the others still got it).
        """
        channels = self.directory.channels_of(to) if to is not None else self.directory.channels_except(self.member)
        if await self._deliver_to(channels, event):
            raise DeliveryFailed("A recipient's connection is not keeping up; try again.")
        return len(channels)

    async def send_to_group(self, event: dict) -> None:
        """Every socket of the group, this one and this member's other tabs included.

        Straight to the channels the directory knows (a hand-over for this process's
        sockets), with no round trip through the group's membership. A socket that joined
        but is not in the directory yet misses it, and is told to catch up from the
        database once it is (`_may_have_missed`, `socket_catch_up`): the announcement was
        made after its commit, and the catch-up reads after the peer is known, so it finds
        it. A closing socket no longer hears hellos, so it announces through the group
        itself. Like group_send, a full channel drops its copy (the history has it); any
        other failure of the channel layer is raised, so the caller can tell its sender.
        """
        if self.closing or not self.authorised:
            return await self.channel_layer.group_send(self.group, event)
        self.last_announced = time.time()
        await self._hand_over(self, event)  # (closing meanwhile, it must not cost the others their copy)
        await self._deliver_to(self.directory.all_channels(), event)

    async def _deliver_to(self, channels: tuple[str, ...], event: dict) -> int:
        """Deliver to each channel; how many were full (each counted in whimsy_delivery_failures_total:
        the others still got it)."""
        full = 0
        for channel in channels:
            try:
                await self._deliver(channel, event)
            except ChannelFull:
                full += 1
                metrics.DELIVERY_FAILURES.inc()
        return full

    async def _deliver(self, channel: str, event: dict) -> None:
        local = directory.socket_here(channel)
        if local is None:
            await self.channel_layer.send(channel, event)
        else:
            await self._hand_over(local, event)

    async def _hand_over(self, local: "GroupSocket", event: dict) -> None:
        try:
            # In order, as a channel send would be: this socket's frames are handled one at a time.
            await local.dispatch(event)
        except Exception:  # a socket closing meanwhile: its bye is on the way
            logger.debug("could not hand a %s event to a local socket", event["type"], exc_info=True)

    def _presence_event(self, type_: str) -> dict:
        return {"type": type_, "member": self.member, "channel": self.channel_name, "process": liveness.PROCESS_ID}

    # --- the directory: socket.hello / socket.here / socket.bye ----------------------

    async def socket_hello(self, event):
        if not self.authorised or event["channel"] == self.channel_name:
            return
        # `resumed`: the newcomer's member was reconnecting here; the newcomer counts its resume
        # once, however many sockets of the group saw it.
        resumed = event["member"] in self.reconnecting
        new = not self.directory.knows(event["channel"])
        # Known first, answered after: what this socket announces from now on reaches the
        # newcomer, and what it announced before is stored before the newcomer hears `here`.
        await self._seen(event)
        here = {
            **self._presence_event("socket.here"),
            "resumed": resumed,
            # (A process of the previous release sends no `joined`: catch up to be safe.)
            "catch_up": new and self._may_have_missed(joined=event.get("joined", 0.0)),
        }
        try:
            await self._deliver(event["channel"], here)
        except ChannelFull:  # a connect storm filled the newcomer's inbox: answer once it drains
            self.start_task(self._answer_hello_later(event["channel"], here), name=f"here to {event['member']}")

    async def _answer_hello_later(self, channel: str, here: dict) -> None:
        for delay in HERE_RETRY_DELAYS:
            await asyncio.sleep(delay)
            try:
                return await self._deliver(channel, here)
            except ChannelFull:
                continue
        logger.warning("%s: could not answer a hello on %s: its channel stayed full", type(self).__name__, channel)

    async def socket_here(self, event):
        if not self.authorised:
            return
        if event.get("resumed") and not self.resume_counted:
            self.resume_counted = True
            metrics.RESUMES.inc()
        new = not self.directory.knows(event["channel"])
        await self._seen(event)
        if event.get("catch_up"):
            self._catch_up(since=self.joined_at)
        if new and self._may_have_missed(joined=self.joined_at):
            # What this socket announced before it knew the peer went past it.
            await self._deliver_to((event["channel"],), {"type": "socket.catch.up", "since": self.joined_at})

    async def socket_catch_up(self, event):
        if self.authorised:
            self._catch_up(since=event["since"])

    def _may_have_missed(self, *, joined: float) -> bool:
        """Whether a socket that joined at `joined` may have missed this socket's announcements
        (made before it was in the directory)."""
        return self.last_announced >= joined - CATCH_UP_SLACK_SECONDS

    def _catch_up(self, *, since: float) -> None:
        """Hand this socket what its group announced since `since` (its client shows each once)."""
        cutoff = datetime.fromtimestamp(since - CATCH_UP_SLACK_SECONDS, tz=dt_timezone.utc)
        self.start_task(self._hand_over_announcements_since(cutoff), name="catch up")

    async def _hand_over_announcements_since(self, cutoff: datetime) -> None:
        for event in await self.announcements_since(cutoff):
            await self._hand_over(self, event)

    async def socket_bye(self, event):
        if not self.authorised:
            return
        member, last = self.directory.remove(event["channel"])
        # Without a grace, the closing socket's own process ends its member at once.
        if last and member != self.member and not event["done"] and self.grace_seconds() > 0:
            await self.channels_lost(member)

    async def process_gone(self, process: str) -> None:
        """The process serving some of the group's channels died (chat.sockets.liveness): its
        channels count as closed without leave."""
        if not self.authorised:
            return
        for channel in self.directory.channels_on(process):
            member, last = self.directory.remove(channel)
            if last and member != self.member:
                await self.channels_lost(member)

    async def _seen(self, event) -> None:
        member = event["member"]
        first = self.directory.add(member=member, channel=event["channel"], process=event["process"])
        if not first or member == self.member:
            return
        timer = self.reconnecting.pop(member, None)
        if timer is not None:
            timer.cancel()
            await self.member_resumed(member)
        else:
            await self.member_connected(member)

    # --- the grace period --------------------------------------------------------------

    async def channels_lost(self, member: str) -> None:
        """A member's last socket went without leaving (a close, or its process died)."""
        if self.done:
            return  # this member's own membership is over: nobody here waits for anyone
        since = timezone.now()
        grace = self.grace_seconds()
        if grace <= 0:
            return await self._end_lost(member, since)
        if member in self.reconnecting:
            return
        self.reconnecting[member] = self.start_task(self._lose_after(member, since, grace), name=f"grace {member}")
        await self.member_reconnecting(member)

    async def _lose_after(self, member: str, since: datetime, grace: float) -> None:
        await asyncio.sleep(grace)
        self.reconnecting.pop(member, None)
        while True:
            try:
                return await self._end_lost(member, since)
            except OUTAGE_ERRORS:  # ended once the database is back
                logger.warning("could not end lost member %s of %s yet", member, self.group, exc_info=True)
                await asyncio.sleep(LOST_RETRY_SECONDS)

    async def _end_lost(self, member: str, since: datetime) -> None:
        if await self.member_lost(member, since=since):
            metrics.PARTNERS_LOST.inc()

    async def _vanished(self) -> None:
        """This socket, its member's last here, closed without leaving."""
        since = timezone.now()
        grace = self.grace_seconds()
        if grace <= 0:
            return await self._end_lost(self.member, since)
        if self.directory.channels_except(self.member):
            return  # the others time it out (and their process survives a restart of this one)
        timer = asyncio.get_running_loop().create_task(self._lose_orphan_after(since, grace))
        _orphan_timers.add(timer)
        timer.add_done_callback(_orphan_timers.discard)

    async def _lose_orphan_after(self, since: datetime, grace: float) -> None:
        await asyncio.sleep(grace)
        try:
            await self._end_lost(self.member, since)
        except Exception:
            logger.exception("could not end lost member %s of %s", self.member, self.group)
