"""WebSocket adapters: the room socket and the presence socket (docs/protocol.md).

Identity comes from the scope (the session cookie, see chat/middleware.py), never from
a frame. A room socket is authorised once, at connect; later changes reach it as
channel-layer events (a partner joined or left, a ban) and it re-checks nothing per frame.

The hot path is the relay of typing and WebRTC signalling between the two partners.
Each socket announces its channel name to its room group once (socket.hello, answered
by socket.here), so a relay is one direct channel send to the partner's socket(s):
no database query, no group fan-out, and a full channel is reported to the sender
(channel sends raise ChannelFull; group sends drop silently). When the partner's socket
lives in this same process, the relay hands the event to it directly and the channel
layer is not involved at all. Messages are stored and go through the room group, so the
HTTP API's messages reach sockets the same way.
"""

import asyncio
import logging
import random
import weakref
from datetime import datetime
from uuid import UUID

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import ChannelFull
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from chat import presence
from chat.events import room_group, visitor_group
from chat.message_writer import message_writer
from chat.models import ChatRoom
from chat.protocol import (
    CLOSE_FORBIDDEN,
    CLOSE_NO_SUCH_ROOM,
    CLOSE_NORMAL,
    CLOSE_RATE_LIMITED,
    MAX_REFUSALS_IN_A_ROW,
    PARTNER_CONNECTED,
    PARTNER_LEFT,
    TYPING_FALSE,
    TYPING_TRUE,
    FrameError,
    LeaveFrame,
    MessageFrame,
    SignalFrame,
    TypingFrame,
    error_frame,
    frame,
    parse_client_frame,
    signal_frame,
)
from chat.selectors import room_state_for
from chat.services import SocketMessage, participant_connect, participant_heartbeat
from matchmaking.services import leave_room, settle_waiting_user
from whimsy_project.errors import (
    AlreadyLeft,
    Banned,
    NotParticipant,
    RoomNotFound,
    WhimsyError,
)
from whimsy_project.ratelimit import TokenBucket

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 1.0  # a waiting socket retries pairing this often (with jitter)
WAITING = ChatRoom.Status.WAITING
ACTIVE = ChatRoom.Status.ACTIVE
CLOSED = ChatRoom.Status.CLOSED

_ROOM_GONE = (AlreadyLeft, NotParticipant, RoomNotFound)

# This process's authorised room sockets by channel name: a relay to one of them skips
# the channel layer (two Redis round trips). Weak, so a consumer that died without its
# disconnect is not kept; disconnect removes the entry first anyway.
_rooms_here: "weakref.WeakValueDictionary[str, RoomConsumer]" = weakref.WeakValueDictionary()


class LoopConsumer(AsyncWebsocketConsumer):
    """A consumer whose events are handled on the event loop alone.

    Channels' dispatch first hops to the one thread-sensitive database thread to close
    stale connections, for every frame and every event: a relayed signal would wait
    behind whatever database work the process is doing. Every database call here goes
    through database_sync_to_async, which closes stale connections itself, in the
    thread that owns them, before and after the call; so the hop is skipped.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


class RoomConsumer(LoopConsumer):
    room_id: UUID | None = None  # set once the socket is authorised and in its groups
    status: str = CLOSED

    async def connect(self):
        # Accept first: a refusal before the handshake reaches browsers as a bare 1006,
        # while an error frame and a 4003/4004 close tell the page what happened.
        await self.accept()
        self.user_id: UUID | None = self.scope.get("visitor_id")
        if self.user_id is None:
            return await self._refuse(CLOSE_FORBIDDEN, "no_session", "Open the site first to get an identity.")
        try:
            room_id = UUID(self.scope["url_route"]["kwargs"]["room_id"])
        except ValueError:
            return await self._refuse(CLOSE_NO_SUCH_ROOM, RoomNotFound.code, RoomNotFound.default_detail)
        try:
            state = await database_sync_to_async(participant_connect)(
                room_id=room_id, user_id=self.user_id, ip_hash=self.scope.get("ip_hash", "")
            )
            self.groups = [room_group(room_id), visitor_group(self.user_id)]
            for group in self.groups:
                await self.channel_layer.group_add(group, self.channel_name)
            # Read again now that we listen: a join or leave in between is not missed.
            state = await database_sync_to_async(room_state_for)(room_id=room_id, user_id=self.user_id)
        except WhimsyError as exc:
            await self._discard_groups()
            close_code = CLOSE_NO_SUCH_ROOM if isinstance(exc, RoomNotFound) else CLOSE_FORBIDDEN
            return await self._refuse(close_code, exc.code, exc.detail)

        self.room_id = room_id
        self.status = state.status
        self.participant_id = state.participant_id
        self.me = str(self.user_id)
        self.partner_channels: set[str] = set()
        self.partner_typing = False
        self.bucket = TokenBucket(rate=settings.MESSAGE_RATE_PER_SECOND, burst=settings.MESSAGE_RATE_BURST)
        self.refusals_in_a_row = 0
        await self.send(
            frame(
                "room_state",
                room_id=str(room_id),
                user_id=self.me,
                partner_id=str(state.partner_id) if state.partner_id else None,
                status=state.status,
                common_interests=state.common_interests,
            )
        )
        _rooms_here[self.channel_name] = self
        await self.channel_layer.group_send(
            self.groups[0], {"type": "socket.hello", "user_id": self.me, "channel": self.channel_name}
        )
        presence.visitor_connected(self.user_id)
        self.upkeep = asyncio.create_task(self._upkeep())

    async def disconnect(self, code):
        if self.room_id is None:
            return
        _rooms_here.pop(self.channel_name, None)
        self.upkeep.cancel()
        presence.visitor_disconnected(self.user_id)
        # (The base class has already left this socket's groups.)
        await self.channel_layer.group_send(self.groups[0], {"type": "socket.bye", "channel": self.channel_name})
        if self.status != CLOSED:
            # A closed tab or a dropped network ends the chat: the partner hears at once.
            await self._leave_room()

    # --- frames from the client ---------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        if self.room_id is None:
            return
        try:
            client_frame = parse_client_frame(text_data)
        except FrameError as exc:
            await self.send(error_frame(exc.code, exc.detail))
            if exc.close_code:
                await self.close(code=exc.close_code, reason=exc.code)
            return
        match client_frame:
            case SignalFrame(kind=kind, payload_json=payload_json):
                await self._relay({"type": "relay.signal", "text": signal_frame(kind, payload_json)}, kind=kind)
            case TypingFrame(is_typing=is_typing):
                await self._relay({"type": "relay.typing", "is_typing": is_typing})
            case MessageFrame():
                await self._post(client_frame)
            case LeaveFrame():
                await self._leave()

    async def _relay(self, event: dict, *, kind: str | None = None) -> None:
        """Send to the partner's socket(s) only; typing with nobody there is dropped."""
        if not self.partner_channels:
            if kind is not None:
                await self.send(
                    error_frame("partner_not_connected", "Your partner is not connected; nothing was sent.", kind=kind)
                )
            return
        for channel in tuple(self.partner_channels):
            partner = _rooms_here.get(channel)
            try:
                if partner is not None:
                    # In order, as a channel send would be: this socket's frames are handled one at a time.
                    await partner.dispatch(event)
                else:
                    await self.channel_layer.send(channel, event)
            except ChannelFull:
                await self.send(
                    error_frame("delivery_failed", "Your partner's connection is not keeping up; try again.", kind=kind)
                )

    async def _post(self, message: MessageFrame) -> None:
        retry_after = self.bucket.take()
        if retry_after:
            self.refusals_in_a_row += 1
            await self.send(
                error_frame(
                    "rate_limited",
                    "You are sending messages too fast; wait a moment.",
                    retry_after=round(retry_after, 2),
                    client_id=message.client_id,
                )
            )
            if self.refusals_in_a_row >= MAX_REFUSALS_IN_A_ROW:
                await self.close(code=CLOSE_RATE_LIMITED, reason="rate_limited")
            return
        self.refusals_in_a_row = 0
        try:
            posted = await message_writer().post(
                SocketMessage(
                    room_id=self.room_id, sender_id=self.user_id, text=message.text, client_id=message.client_id
                ),
                socket=self,
            )
        except WhimsyError as exc:
            await self.send(error_frame(exc.code, exc.detail, client_id=message.client_id))
            return
        await self.send(frame("message_ack", client_id=message.client_id, id=str(posted.message.id)))

    async def _leave(self) -> None:
        if not await self._leave_room():
            await self._end_chat()  # nobody will announce a room that was already over
        # Otherwise the partner.left event naming this visitor ends the chat here too.

    async def _leave_room(self) -> bool:
        """End the room for both people; False if it had already ended."""
        try:
            await database_sync_to_async(leave_room)(user_id=self.user_id, room_id=self.room_id)
        except _ROOM_GONE:
            return False
        return True

    async def _end_chat(self) -> None:
        self.status = CLOSED
        await self.send(frame("chat_ended", room_id=str(self.room_id)))
        await self.close(code=CLOSE_NORMAL)

    # --- events from the channel layer (handler name = event type) -----------------

    async def relay_signal(self, event):
        await self.send(event["text"])

    async def relay_typing(self, event):
        self.partner_typing = event["is_typing"]
        await self.send(TYPING_TRUE if self.partner_typing else TYPING_FALSE)

    async def chat_message(self, event):
        if self.room_id is None or self.channel_name in event.get("served", ()):
            return  # served: this socket got it directly from the message writer
        message = event["message"]
        if self.partner_typing and message["sender_id"] != self.me:
            await self._clear_partner_typing()
        await self.send(frame("new_message", message=message))

    async def socket_hello(self, event):
        if self.room_id is None or event["user_id"] == self.me:
            return  # this visitor's own other tab is not a partner
        await self._add_partner_channel(event["channel"])
        await self.channel_layer.send(
            event["channel"], {"type": "socket.here", "user_id": self.me, "channel": self.channel_name}
        )

    async def socket_here(self, event):
        if self.room_id is not None and event["user_id"] != self.me:
            await self._add_partner_channel(event["channel"])

    async def socket_bye(self, event):
        if self.room_id is not None:
            self.partner_channels.discard(event["channel"])

    async def partner_joined(self, event):
        if self.room_id is None or self.me not in event["user_ids"]:
            return
        room_id = UUID(event["room_id"])
        if room_id == self.room_id:
            self.status = ACTIVE
        elif self.status == WAITING:
            # The settle step moved this visitor into another waiting person's room and
            # closed this one: the page reconnects to room_id.
            self.status = CLOSED
        else:
            return  # an old tab on a finished chat is not moved along
        partner_id = next(user_id for user_id in event["user_ids"] if user_id != self.me)
        await self.send(
            frame(
                "partner_joined",
                room_id=str(room_id),
                partner_id=partner_id,
                common_interests=event["common_interests"],
            )
        )

    async def partner_left(self, event):
        if self.room_id is None or self.status == CLOSED or event["room_id"] != str(self.room_id):
            return
        if event["user_id"] == self.me:
            return await self._end_chat()  # this visitor's own leave, maybe from another tab
        self.status = CLOSED
        self.partner_channels.clear()
        if self.partner_typing:
            await self._clear_partner_typing()
        await self.send(PARTNER_LEFT)

    async def visitor_banned(self, event):
        until = datetime.fromisoformat(event["until"]) if event.get("until") else None
        await self.send(error_frame("banned", Banned(until).detail))
        if self.room_id is not None and self.status != CLOSED:
            self.status = CLOSED
            await self._leave_room()
        await self.close(code=CLOSE_FORBIDDEN, reason="banned")

    # --- helpers --------------------------------------------------------------------

    async def _refuse(self, close_code: int, code: str, detail: str) -> None:
        await self.send(error_frame(code, detail))
        await self.close(code=close_code, reason=code)

    async def _discard_groups(self) -> None:
        for group in self.groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        self.groups = []

    def local_recipients(self) -> list["RoomConsumer"]:
        """This socket and its partner's sockets in this process (the message writer serves them directly)."""
        here = [_rooms_here.get(channel) for channel in self.partner_channels]
        return [self, *(socket for socket in here if socket is not None)]

    async def _add_partner_channel(self, channel: str) -> None:
        first = not self.partner_channels
        self.partner_channels.add(channel)
        if first:
            await self.send(PARTNER_CONNECTED)

    async def _clear_partner_typing(self) -> None:
        self.partner_typing = False
        await self.send(TYPING_FALSE)

    async def _upkeep(self) -> None:
        """While waiting, retry pairing about once a second; always, refresh the heartbeat."""
        loop = asyncio.get_running_loop()
        heartbeat_due = loop.time() + settings.HEARTBEAT_SECONDS
        while self.status != CLOSED:
            if self.status == WAITING:
                await asyncio.sleep(SETTLE_SECONDS * random.uniform(0.7, 1.3))
            else:
                await asyncio.sleep(max(0.0, heartbeat_due - loop.time()))
            try:
                if self.status == WAITING:
                    # A move is announced on this visitor's group (partner_joined above).
                    await database_sync_to_async(settle_waiting_user)(user_id=self.user_id)
                if self.status != CLOSED and loop.time() >= heartbeat_due:
                    await database_sync_to_async(participant_heartbeat)(participant_id=self.participant_id)
                    heartbeat_due = loop.time() + settings.HEARTBEAT_SECONDS
            except Exception:  # the next round tries again; a dead loop would strand the user
                logger.exception("room socket upkeep failed for %s", self.user_id)


class PresenceConsumer(LoopConsumer):
    """Pushes {"type": "presence", "online": N} on connect and whenever N changes."""

    last_online: int | None = None

    async def connect(self):
        await self.accept()
        self.visitor_id: UUID | None = self.scope.get("visitor_id")
        if self.visitor_id is not None:  # a page without a session may watch but is nobody
            presence.visitor_connected(self.visitor_id)
        presence.watch(self)
        await self.send_online(await presence.online_count())

    async def disconnect(self, code):
        presence.unwatch(self)
        if self.visitor_id is not None:
            presence.visitor_disconnected(self.visitor_id)

    async def receive(self, text_data=None, bytes_data=None):
        await self.send(error_frame("unknown_type", "The presence socket only speaks; it takes no frames."))

    async def send_online(self, online: int) -> None:
        if online != self.last_online:
            self.last_online = online
            await self.send(frame("presence", online=online))
