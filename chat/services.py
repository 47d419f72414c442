"""Chat writes used by both the room socket and the HTTP API."""

from dataclasses import dataclass
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from chat.events import announce_new_message
from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from chat.protocol import clean_client_id, clean_message_text, message_payload
from chat.selectors import RoomState, room_state_for
from reports.selectors import ban_active_for
from whimsy_project.errors import Banned, NoPartnerYet, NotParticipant, RoomClosed, RoomNotFound


@dataclass(frozen=True)
class PostedMessage:
    message: ChatMessage
    created: bool  # False: a resend of a client_id already stored, returned as it was


@transaction.atomic
def message_post(*, room_id: UUID, sender_id: UUID, text: str, client_id: str | None = None) -> PostedMessage:
    """Store a message from a participant of an active room and announce it to the room.

    Idempotent per client_id: a resend (after a lost ack) returns the stored message and
    announces nothing, so the partner never sees it twice.
    """
    text = clean_message_text(text)
    client_id = clean_client_id(client_id)
    # Locks in matchmaking's order (own visitor row, then the room), so a message cannot
    # slip into a room that a concurrent Leave is closing, and the two cannot deadlock.
    if not Visitor.objects.select_for_update().filter(id=sender_id).exists():
        raise NotParticipant()
    room = ChatRoom.objects.select_for_update().filter(id=room_id).first()
    if room is None:
        raise RoomNotFound()
    if not room.participants.filter(user_id=sender_id).exists():
        raise NotParticipant()
    if client_id is not None:
        existing = ChatMessage.objects.filter(room=room, sender_id=sender_id, client_id=client_id).first()
        if existing is not None:
            return PostedMessage(message=existing, created=False)
    if room.status == ChatRoom.Status.CLOSED:
        raise RoomClosed()
    if room.status == ChatRoom.Status.WAITING:
        raise NoPartnerYet()
    message = ChatMessage.objects.create(room=room, sender_id=sender_id, message=text, client_id=client_id)
    announce_new_message(room_id=room.id, message=message_payload(message))
    return PostedMessage(message=message, created=True)


def participant_connect(*, room_id: UUID, user_id: UUID, ip_hash: str) -> RoomState:
    """Authorise a room socket: not banned, and in this open room. Counts as a heartbeat."""
    ban = ban_active_for(visitor_id=user_id, ip_hash=ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)
    state = room_state_for(room_id=room_id, user_id=user_id)
    participant_heartbeat(participant_id=state.participant_id)
    return state


def participant_heartbeat(*, participant_id: UUID) -> None:
    """A live socket vouches for its participation; the stale-room sweep spares it."""
    ChatParticipant.objects.filter(id=participant_id, left_at__isnull=True).update(heartbeat_at=timezone.now())
