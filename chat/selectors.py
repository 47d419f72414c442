from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import ChatMessage, ChatParticipant, ChatRoom
from whimsy_project.errors import InvalidInput, NotParticipant, RoomNotFound


def participation_open_for(*, user_id: UUID) -> ChatParticipant | None:
    return ChatParticipant.objects.select_related("room").filter(user_id=user_id, left_at__isnull=True).first()


def socket_gone(*, stale_after: timedelta, connect_grace: timedelta) -> Q:
    """Participations whose socket is gone: its heartbeat is older than `stale_after`, or it
    never connected and the person joined longer ago than `connect_grace`."""
    now = timezone.now()
    return Q(heartbeat_at__lt=now - stale_after) | Q(heartbeat_at__isnull=True, joined_at__lt=now - connect_grace)


def recent_partner_ids(*, user_id: UUID) -> QuerySet:
    """Ids of people this user shared a room with that ended within NO_REMATCH_SECONDS.

    A lazy queryset, so that matchmaking uses it as a subquery in its one locking query.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.NO_REMATCH_SECONDS)
    recent_rooms = ChatParticipant.objects.filter(user_id=user_id, left_at__gte=cutoff).values("room_id")
    return ChatParticipant.objects.filter(room_id__in=recent_rooms).exclude(user_id=user_id).values("user_id")


@dataclass(frozen=True)
class RoomState:
    room_id: UUID
    participant_id: UUID
    status: str
    partner_id: UUID | None
    common_interests: list[str]


def room_state_for(*, room_id: UUID, user_id: UUID) -> RoomState:
    """This user's open participation in this open room, or why there is none."""
    participation = (
        ChatParticipant.objects.select_related("room")
        .filter(room_id=room_id, user_id=user_id, left_at__isnull=True)
        .exclude(room__status=ChatRoom.Status.CLOSED)
        .first()
    )
    if participation is None:
        if ChatRoom.objects.filter(id=room_id).exclude(status=ChatRoom.Status.CLOSED).exists():
            raise NotParticipant()
        raise RoomNotFound("This chat room does not exist or has ended.")
    partner_id = (
        ChatParticipant.objects.filter(room_id=room_id, left_at__isnull=True)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
        .first()
    )
    room = participation.room
    return RoomState(
        room_id=room.id,
        participant_id=participation.id,
        status=room.status,
        partner_id=partner_id,
        common_interests=room.common_interests,
    )


@dataclass(frozen=True)
class MessagePage:
    messages: list[ChatMessage]  # oldest to newest
    next_before: UUID | None  # pass as `before` for the page of older messages; None at the start


def room_messages_page(*, room_id: UUID, user_id: UUID, before: UUID | None, limit: int) -> MessagePage:
    """A page of a room's history, newest page first, for anyone who was ever in the room.

    Keyset pagination on (timestamp, id), which the room/time index serves: pages stay
    exact while new messages arrive, and deep pages cost the same as the first.
    """
    if not ChatRoom.objects.filter(id=room_id).exists():
        raise RoomNotFound()
    if not ChatParticipant.objects.filter(room_id=room_id, user_id=user_id).exists():
        raise NotParticipant()
    messages = ChatMessage.objects.filter(room_id=room_id)
    if before is not None:
        cursor = ChatMessage.objects.filter(room_id=room_id, id=before).values("timestamp", "id").first()
        if cursor is None:
            raise InvalidInput("before: no such message in this room.")
        messages = messages.filter(
            Q(timestamp__lt=cursor["timestamp"]) | Q(timestamp=cursor["timestamp"], id__lt=cursor["id"])
        )
    page = list(messages.order_by("-timestamp", "-id")[: limit + 1])
    has_older = len(page) > limit
    page = page[:limit]
    page.reverse()
    return MessagePage(messages=page, next_before=page[0].id if has_older else None)
