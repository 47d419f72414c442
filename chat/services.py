"""Chat writes used by both the room socket and the HTTP API."""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from chat.events import announce_new_message
from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from chat.protocol import clean_client_id, clean_message_text, message_payload
from chat.selectors import RoomState, room_state_for
from reports.selectors import ban_active_for
from whimsy_project.errors import Banned, NoPartnerYet, NotParticipant, RoomClosed, RoomNotFound, WhimsyError


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


@dataclass(frozen=True)
class SocketMessage:
    """A message frame from an authorised room socket (its text and client_id already cleaned)."""

    room_id: UUID
    sender_id: UUID
    text: str
    client_id: str | None


@transaction.atomic
def socket_messages_store(*, messages: list[SocketMessage]) -> list[PostedMessage | WhimsyError]:
    """Store messages from room sockets in one transaction: a result (or the refusal) for each, in order.

    The rules are message_post's, for many messages at the cost of three queries. Each
    socket was authorised at connect as a participant of its room, and a participation
    only ends by ending the room (leave, move, ban, sweep), so an active room under its
    lock is proof enough: the lock waits for a concurrent Leave to commit, and a message
    is never stored in a room that closed. Idempotent per client_id, also within one batch
    (the later copy is answered with the first). Nothing is announced here: the caller
    announces the created ones after the commit.
    """
    room_ids = sorted({message.room_id for message in messages})
    locked = ChatRoom.objects.select_for_update().filter(id__in=room_ids).order_by("id")  # one lock order
    status_of = dict(locked.values_list("id", "status"))
    stored: dict[tuple, ChatMessage] = {}
    client_ids = {message.client_id for message in messages if message.client_id is not None}
    if client_ids:
        for existing in ChatMessage.objects.filter(room_id__in=room_ids, client_id__in=client_ids):
            stored[(existing.room_id, existing.sender_id, existing.client_id)] = existing
    results: list[PostedMessage | WhimsyError] = []
    created: list[ChatMessage] = []
    for message in messages:
        key = (message.room_id, message.sender_id, message.client_id)
        if message.client_id is not None and key in stored:
            results.append(PostedMessage(message=stored[key], created=False))
            continue
        status = status_of.get(message.room_id)
        if status is None:
            results.append(RoomNotFound())
        elif status == ChatRoom.Status.CLOSED:
            results.append(RoomClosed())
        elif status == ChatRoom.Status.WAITING:
            results.append(NoPartnerYet())
        else:
            row = ChatMessage(
                room_id=message.room_id, sender_id=message.sender_id, message=message.text, client_id=message.client_id
            )
            if message.client_id is not None:
                stored[key] = row
            created.append(row)
            results.append(PostedMessage(message=row, created=True))
    ChatMessage.objects.bulk_create(created)
    _untie_timestamps(created)
    return results


def _untie_timestamps(created: list[ChatMessage]) -> None:
    """History is ordered by (timestamp, id) and ids are random: one room's messages of a batch
    must have strictly increasing timestamps in the order they arrived. The clock gives
    non-decreasing ones; a tie (same microsecond) moves the later message 1 µs on."""
    last: dict[UUID, object] = {}
    moved = []
    for row in created:
        previous = last.get(row.room_id)
        if previous is not None and row.timestamp <= previous:
            row.timestamp = previous + timedelta(microseconds=1)
            moved.append(row)
        last[row.room_id] = row.timestamp
    if moved:
        ChatMessage.objects.bulk_update(moved, ["timestamp"])


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
