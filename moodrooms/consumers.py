"""The mood room socket, /ws/sessions/<session_id>/ (DESIGN section 12), on the shared
socket machinery (chat.sockets, docs/sockets.md): here are only the session's vocabulary,
its service calls and the wording of its events.

Authorised once at connect (moodrooms.services.session_member_connect). Messages go
through the sockets' batching writer (chat.message_writer, kind SESSION_MESSAGES: stored by
session_messages_store, acked once stored, then handed to every member's sockets, the
sender's other tabs included, through the directory). Edits and reactions are stored by
their services and reach every member's sockets as ready frames after their commit;
typing is relayed to the other members' sockets without touching the database. A member
whose sockets vanish without `leave` is reconnecting for the grace period, then leaves
with reason "lost".
"""

import logging
from datetime import datetime
from uuid import UUID

from chat.events import session_group
from chat.message_writer import MessageKind, message_writer
from chat.sockets import GroupSocket, frame
from chat.sockets.database import run_in_database
from chat.sockets.frames import CLOSE_FORBIDDEN, CLOSE_NORMAL
from moodrooms.protocol import (
    SESSION_VOCABULARY,
    EditFrame,
    MessageFrame,
    ReactFrame,
    new_message_frame,
    room_joined_frame,
    typing_frame,
)
from moodrooms.selectors import access_session_for, members_of, session_messages_since
from moodrooms.services import (
    NewSessionMessage,
    session_leave,
    session_member_connect,
    session_members_heartbeat,
    session_member_lost,
    session_message_edit,
    session_messages_store,
    session_prompt_if_quiet,
    session_reaction_toggle,
)
from moodrooms.voice import VOICE_VOCABULARY, VoiceSocketMixin
from whimsy_project import metrics
from whimsy_project.errors import NotMember, SessionNotFound

logger = logging.getLogger(__name__)

# Why a member's own socket closes when their stay ended elsewhere (another tab, a move,
# a moderator): 1000 for their own doing, 4003 for a moderator's.
_CLOSE_FOR_REASON = {"closed": CLOSE_FORBIDDEN, "banned": CLOSE_FORBIDDEN}

# A resend is acked with its id and announced to nobody, as session_message_post does.
SESSION_MESSAGES = MessageKind(
    name="session",
    store=session_messages_store,
    event=lambda posted: {"type": "socket.frame", "text": new_message_frame(posted.message)},
    announce_resends=False,
)


class SessionSocket(VoiceSocketMixin, GroupSocket):
    vocabulary = SESSION_VOCABULARY | VOICE_VOCABULARY  # voice frames: moodrooms.voice

    async def authorise(self) -> None:
        try:
            session_id = UUID(self.scope["url_route"]["kwargs"]["session_id"])
        except ValueError:
            raise SessionNotFound() from None
        await run_in_database(
            session_member_connect,
            session_id=session_id, user_id=self.visitor_id, ip_hash=self.scope.get("ip_hash", "")
        )
        await self.join(group=session_group(session_id), member=str(self.visitor_id))
        # Read again now that we listen: a join or leave in between is not missed.
        self.session_id = session_id
        self.access, self.participants = await run_in_database(self._state)

    def _state(self):
        return access_session_for(session_id=self.session_id, user_id=self.visitor_id), members_of(
            session_id=self.session_id
        )

    async def started(self) -> None:
        metrics.MOOD_ROOM_MEMBERS.inc()
        self.username = self.access.participant.user.username
        await self.send(
            room_joined_frame(session=self.access.session, participants=self.participants, you=self.access.participant)
        )

    async def stopped(self, code: int) -> None:
        metrics.MOOD_ROOM_MEMBERS.dec()

    @classmethod
    async def upkeep(cls, sockets: list["SessionSocket"]) -> None:
        """Vouch for the members (the stale-membership sweep reads it), and offer a starter in
        each session gone quiet (the service keeps it to one, whichever process asks)."""
        live = [socket for socket in sockets if not socket.done]
        if live:
            await run_in_database(
                session_members_heartbeat, participant_ids=[socket.access.participant.id for socket in live]
            )
        for session_id in {socket.session_id for socket in live}:
            await run_in_database(session_prompt_if_quiet, session_id=session_id)

    # --- frames from the client ---------------------------------------------------

    async def on_message(self, message: MessageFrame) -> None:
        posted = await message_writer(SESSION_MESSAGES).post(
            NewSessionMessage(
                session_id=self.session_id,
                user_id=self.visitor_id,
                text=message.text,
                client_id=message.client_id,
                reply_to=message.reply_to,
            ),
            socket=self,
        )
        await self.send(frame("message_ack", client_id=message.client_id, id=str(posted.message.id)))

    async def on_edit(self, edit: EditFrame) -> None:
        await run_in_database(
            session_message_edit,
            session_id=self.session_id, message_id=edit.message_id, user_id=self.visitor_id, text=edit.text
        )

    async def on_react(self, react: ReactFrame) -> None:
        await run_in_database(
            session_reaction_toggle,
            session_id=self.session_id, message_id=react.message_id, user_id=self.visitor_id, emoji=react.emoji
        )

    async def on_typing(self, is_typing: bool) -> None:
        text = typing_frame(user_id=self.member, username=self.username, is_typing=is_typing)
        await self.relay({"type": "socket.frame", "text": text})  # nobody else here: dropped

    async def on_leave(self, _) -> None:
        self.done = True
        try:
            await run_in_database(session_leave, session_id=self.session_id, user_id=self.visitor_id)
        except (NotMember, SessionNotFound):
            pass  # over already
        await self.close(code=CLOSE_NORMAL)

    # --- the group's members --------------------------------------------------------

    async def member_reconnecting(self, member: str) -> None:
        await self.send(frame("user_reconnecting", user_id=member, grace_seconds=self.grace_seconds()))

    async def member_resumed(self, member: str) -> None:
        await self.send(frame("user_resumed", user_id=member))

    async def announcements_since(self, since: datetime) -> list[dict]:
        page = await run_in_database(
            session_messages_since, session_id=self.session_id, user_id=self.visitor_id, since=since
        )
        return [
            {"type": "socket.frame", "text": new_message_frame(message, reactions=page.reactions.get(message.id))}
            for message in page.messages
        ]

    async def member_lost(self, member: str, *, since: datetime) -> bool:
        return await run_in_database(session_member_lost, session_id=self.session_id, user_id=UUID(member), since=since)

    async def banned(self) -> None:
        self.done = True  # the ban service ends the stay; the room is told by it

    # --- events from the channel layer (handler name = event type) -----------------

    async def session_member_left(self, event):
        if not self.authorised:
            return
        await self.send(event["text"])
        await self.voice_forget(event["user_id"])
        if event["user_id"] == self.member:
            self.done = True
            await self.close(code=_CLOSE_FOR_REASON.get(event["reason"], CLOSE_NORMAL))

    # --- helpers --------------------------------------------------------------------
