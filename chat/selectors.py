from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NoReturn
from uuid import UUID

from django.db import connection
from django.db.models import Q
from django.utils import timezone

from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from chat.names import avatar_for, display_name_for
from chat.paging import keyset_page
from whimsy_project.errors import InvalidInput, NotParticipant, RoomNotFound


def participation_open_for(*, user_id: UUID) -> ChatParticipant | None:
    return ChatParticipant.objects.select_related("room").filter(user_id=user_id, left_at__isnull=True).first()


def socket_gone(*, stale_after: timedelta, connect_grace: timedelta) -> Q:
    """Participations whose socket is gone: its heartbeat is older than `stale_after`, or it
    never connected and the person joined longer ago than `connect_grace`."""
    now = timezone.now()
    return Q(heartbeat_at__lt=now - stale_after) | Q(heartbeat_at__isnull=True, joined_at__lt=now - connect_grace)


@dataclass(frozen=True)
class RoomState:
    room_id: UUID
    participant_id: UUID
    status: str
    partner_id: UUID | None
    common_interests: list[str]


def access_room_for(*, room_id: UUID, user_id: UUID, open_only: bool, lock: bool = False) -> ChatParticipant:
    """This user's participation in this room (its `room` filled in), or the error saying why there is none.

    open_only: a live chat: the room has not ended (else RoomNotFound) and the participation
    is open. Otherwise anyone who was ever in the room (history, reports, leaving again).
    lock: lock the room row first (inside a transaction), so the answer holds until the commit.
    """
    rooms = ChatRoom.objects.filter(id=room_id)
    if open_only:
        rooms = rooms.exclude(status=ChatRoom.Status.CLOSED)
    if lock:
        rooms = rooms.select_for_update()
    room = rooms.first()
    if room is None:
        raise RoomNotFound("This chat room does not exist or has ended." if open_only else None)
    participations = ChatParticipant.objects.filter(room=room, user_id=user_id)
    if open_only:
        participations = participations.filter(left_at__isnull=True)
    participation = participations.order_by("-joined_at").first()
    if participation is None:
        raise NotParticipant()
    participation.room = room
    return participation


def raise_why_not_in_open_room(*, room_id: UUID, user_id: UUID) -> NoReturn:
    """A fast path found no open participation of this user in this open room: raise why."""
    access_room_for(room_id=room_id, user_id=user_id, open_only=True)
    raise RoomNotFound("This chat room does not exist or has ended.")  # it ended meanwhile


# Written by hand: it runs on every socket connect, and building it through the ORM took
# more of a connect's CPU than running it.
_ROOM_STATE_SQL = """
SELECT p.id, r.status, r.common_interests,
       (SELECT other.user_id FROM chat_participants other
        WHERE other.room_id = p.room_id AND other.left_at IS NULL AND other.user_id <> p.user_id LIMIT 1)
FROM chat_participants p JOIN chat_rooms r ON r.id = p.room_id
WHERE p.room_id = %s AND p.user_id = %s AND p.left_at IS NULL AND r.status <> %s
ORDER BY p.joined_at DESC
LIMIT 1
"""


def room_state_for(*, room_id: UUID, user_id: UUID) -> RoomState:
    """This user's open participation in this open room, or why there is none.

    One statement (the participation, its room and the partner) on the way of every socket
    connect; the reasons for a refusal are read only when there is one.
    """
    uuid_field = ChatParticipant._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(_ROOM_STATE_SQL, [
            uuid_field.get_db_prep_value(room_id, connection),
            uuid_field.get_db_prep_value(user_id, connection),
            ChatRoom.Status.CLOSED,
        ])  # fmt: skip
        row = cursor.fetchone()
    if row is None:
        raise_why_not_in_open_room(room_id=room_id, user_id=user_id)
    participant_id, status, interests, partner_id = row
    return RoomState(
        room_id=room_id,
        participant_id=uuid_field.to_python(participant_id),
        status=status,
        partner_id=uuid_field.to_python(partner_id),
        common_interests=ChatRoom._meta.get_field("common_interests").from_db_value(interests, None, connection),
    )


@dataclass(frozen=True)
class MessagePage:
    messages: list[ChatMessage]  # oldest to newest
    next_before: UUID | None  # pass as `before` for the page of older messages; None at the start


def room_messages_page(
    *, room_id: UUID, user_id: UUID, before: UUID | None, limit: int, after: UUID | None = None
) -> MessagePage:
    """A page of a room's history, newest page first, for anyone who was ever in the room;
    with `after`, the oldest `limit` messages that came after that one (what a resumed
    socket missed).

    Keyset on (timestamp, id) (chat.paging); after a cursor there is always an older page.
    """
    access_room_for(room_id=room_id, user_id=user_id, open_only=False)
    room_messages = ChatMessage.objects.filter(room_id=room_id)
    page = keyset_page(
        messages=room_messages,
        cursors=room_messages,
        time_field="timestamp",
        before=before,
        after=after,
        limit=limit,
        place="room",
    )
    if after is not None and not page.items:
        return MessagePage(messages=[], next_before=after)
    return MessagePage(messages=page.items, next_before=page.items[0].id if page.has_older else None)


CATCH_UP_LIMIT = 500  # a socket's catch-up covers seconds; a flood beyond this is in the history


def room_messages_since(*, room_id: UUID, since: datetime) -> list[ChatMessage]:
    """The room's messages stored since `since`, oldest first (at most the newest CATCH_UP_LIMIT):
    what a room socket may have missed while its peers did not know it yet."""
    newest = ChatMessage.objects.filter(room_id=room_id, timestamp__gte=since).order_by("-timestamp", "-id")
    return newest[:CATCH_UP_LIMIT][::-1]


@dataclass(frozen=True)
class VisitorProfile:
    user_id: UUID
    username: str
    avatar: str  # emoji + "#rrggbb" (chat.names.avatar_parts splits it)


def visitor_profile_for(*, user_id: UUID) -> VisitorProfile:
    """The name and avatar this visitor shows in mood rooms and threads; before their row
    exists (nothing to report or ban yet), the generated ones it will be created with."""
    visitor = Visitor.objects.filter(id=user_id).only("id", "display_name", "avatar").first()
    if visitor is None:
        return VisitorProfile(user_id=user_id, username=display_name_for(user_id), avatar=avatar_for(user_id))
    return VisitorProfile(user_id=user_id, username=visitor.username, avatar=visitor.avatar_or_generated)
