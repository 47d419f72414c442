"""The 1:1 room socket (docs/protocol.md): the room's vocabulary, its service calls and the
wording of its events, on the socket machinery of chat.sockets (docs/sockets.md).

It lives with matchmaking because a room's life is matchmaking's: a waiting socket runs
the settle step, and leaving (or being lost) ends the room through matchmaking's services.
A socket that closes without `leave` leaves its partner waiting for RESUME_GRACE_SECONDS
(partner_reconnecting, then partner_resumed or partner_left "lost"): chat.sockets runs it.
"""

import asyncio
import logging
import random
from datetime import datetime
from uuid import UUID

from chat.events import room_group
from chat.message_writer import ROOM_MESSAGES, message_writer
from chat.models import ChatRoom
from chat.protocol import (
    PARTNER_CONNECTED,
    PARTNER_RESUMED,
    ROOM_VOCABULARY,
    TYPING_FALSE,
    TYPING_TRUE,
    MessageFrame,
    SignalFrame,
    message_event,
    signal_frame,
)
from chat.selectors import room_messages_since, room_state_for
from chat.services import NewMessage, participant_connect, participants_heartbeat
from chat.sockets import GroupSocket, frame
from chat.sockets.database import run_in_database
from chat.sockets.frames import CLOSE_NORMAL
from matchmaking.services import leave_room, room_member_lost, settle_waiting_user
from whimsy_project.errors import AlreadyLeft, NotParticipant, PartnerNotConnected, RoomNotFound

logger = logging.getLogger(__name__)

SETTLE_SECONDS = 1.0  # a waiting socket retries pairing this often (with jitter)
WAITING = ChatRoom.Status.WAITING
ACTIVE = ChatRoom.Status.ACTIVE
CLOSED = ChatRoom.Status.CLOSED

_ROOM_GONE = (AlreadyLeft, NotParticipant, RoomNotFound)


class RoomConsumer(GroupSocket):
    vocabulary = ROOM_VOCABULARY
    status: str = CLOSED

    @property
    def done(self) -> bool:
        return self.status == CLOSED

    async def authorise(self) -> None:
        try:
            room_id = UUID(self.scope["url_route"]["kwargs"]["room_id"])
        except ValueError:
            raise RoomNotFound() from None
        await run_in_database(
            participant_connect, room_id=room_id, user_id=self.visitor_id, ip_hash=self.scope.get("ip_hash", "")
        )
        await self.join(group=room_group(room_id), member=str(self.visitor_id))
        # Read again now that we listen: a join or leave in between is not missed.
        self.state = await run_in_database(room_state_for, room_id=room_id, user_id=self.visitor_id)
        self.room_id = room_id
        self.status = self.state.status
        self.partner_typing = False

    async def started(self) -> None:
        state = self.state
        await self.send(
            frame(
                "room_state",
                room_id=str(self.room_id),
                user_id=self.member,
                partner_id=str(state.partner_id) if state.partner_id else None,
                status=state.status,
                common_interests=state.common_interests,
            )
        )
        if self.status == WAITING:
            self.start_task(self._settle_while_waiting(), name="settle")

    # --- frames from the client ---------------------------------------------------

    async def on_message(self, message: MessageFrame) -> None:
        posted = await message_writer(ROOM_MESSAGES).post(
            NewMessage(room_id=self.room_id, sender_id=self.visitor_id, text=message.text, client_id=message.client_id),
            socket=self,
        )
        await self.send(frame("message_ack", client_id=message.client_id, id=str(posted.message.id)))

    async def on_typing(self, is_typing: bool) -> None:
        await self.relay({"type": "relay.typing", "is_typing": is_typing})  # nobody there: dropped

    async def on_signal(self, signal: SignalFrame) -> None:
        if not await self.relay({"type": "socket.frame", "text": signal_frame(signal.kind, signal.payload_json)}):
            raise PartnerNotConnected()

    async def on_leave(self, _) -> None:
        if not await self._leave_room():
            await self._end_chat()  # nobody will announce a room that was already over
        # Otherwise the partner.left event naming this visitor ends the chat here too.

    # --- the group's members --------------------------------------------------------

    async def member_connected(self, member: str) -> None:
        await self.send(PARTNER_CONNECTED)

    async def member_reconnecting(self, member: str) -> None:
        if self.status == ACTIVE:
            if self.partner_typing:
                await self._clear_partner_typing()
            await self.send(frame("partner_reconnecting", grace_seconds=self.grace_seconds()))

    async def member_resumed(self, member: str) -> None:
        if self.status == ACTIVE:
            await self.send(PARTNER_RESUMED)

    @classmethod
    async def upkeep(cls, sockets: list["RoomConsumer"]) -> None:
        participant_ids = [socket.state.participant_id for socket in sockets if socket.status != CLOSED]
        if participant_ids:
            await run_in_database(participants_heartbeat, participant_ids=participant_ids)

    async def announcements_since(self, since: datetime) -> list[dict]:
        messages = await run_in_database(room_messages_since, room_id=self.room_id, since=since)
        return [message_event(message) for message in messages]

    async def member_lost(self, member: str, *, since: datetime) -> bool:
        if self.status == CLOSED:
            return False
        return await run_in_database(room_member_lost, room_id=self.room_id, user_id=UUID(member), since=since)

    async def banned(self) -> None:
        self.status = CLOSED  # the ban service ends the room; the partner is told by it

    # --- events from the channel layer (handler name = event type) -----------------

    async def relay_typing(self, event):
        self.partner_typing = event["is_typing"]
        await self.send(TYPING_TRUE if self.partner_typing else TYPING_FALSE)

    async def chat_message(self, event):
        message = event["message"]
        if self.partner_typing and message["sender_id"] != self.member:
            await self._clear_partner_typing()
        await self.send(frame("new_message", message=message))

    async def partner_joined(self, event):
        if self.member not in event["user_ids"]:
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
        partner_id = next(user_id for user_id in event["user_ids"] if user_id != self.member)
        await self.send(
            frame(
                "partner_joined",
                room_id=str(room_id),
                partner_id=partner_id,
                common_interests=event["common_interests"],
            )
        )

    async def partner_left(self, event):
        if self.status == CLOSED or event["room_id"] != str(self.room_id):
            return
        if event["user_id"] == self.member:
            return await self._end_chat()  # this visitor's own leave, maybe from another tab
        self.status = CLOSED
        if self.partner_typing:
            await self._clear_partner_typing()
        await self.send(frame("partner_left", reason=event["reason"]))

    # --- helpers --------------------------------------------------------------------

    async def _leave_room(self) -> bool:
        """End the room for both people; False if it had already ended."""
        try:
            await run_in_database(leave_room, user_id=self.visitor_id, room_id=self.room_id)
        except _ROOM_GONE:
            return False
        return True

    async def _end_chat(self) -> None:
        self.status = CLOSED
        await self.send(frame("chat_ended", room_id=str(self.room_id)))
        await self.close(code=CLOSE_NORMAL)

    async def _clear_partner_typing(self) -> None:
        self.partner_typing = False
        await self.send(TYPING_FALSE)

    async def _settle_while_waiting(self) -> None:
        """While waiting, retry pairing about once a second (a move is announced on this
        visitor's group: partner_joined above)."""
        while self.status == WAITING:
            await asyncio.sleep(SETTLE_SECONDS * random.uniform(0.7, 1.3))
            if self.status != WAITING:
                return
            try:
                await run_in_database(settle_waiting_user, user_id=self.visitor_id)
            except Exception:  # the next round tries again; a dead loop would strand the user
                logger.exception("settle step failed for %s", self.visitor_id)
