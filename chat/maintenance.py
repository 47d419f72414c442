"""Housekeeping the management commands run from cron: stale rooms and old messages.

Rooms are always ended through matchmaking.services.leave_room, so the partner of a
vanished person is told (partner_left) exactly as if that person had pressed Leave.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import ChatMessage, ChatParticipant, ChatRoom
from chat.selectors import socket_gone
from matchmaking.services import leave_room
from whimsy_project.errors import AlreadyLeft


@dataclass(frozen=True)
class StaleRooms:
    waiting: int
    active: int


def stale_participations(*, stale_after: timedelta, waiting_older_than: timedelta) -> QuerySet:
    """Open participations whose socket is gone, in rooms the sweep should close.

    Gone: no heartbeat for `stale_after`, or none ever and joined longer ago than that.
    An active room closes as soon as one of its people is gone; a waiting room once it
    is also older than `waiting_older_than` (a live waiting socket keeps its room).
    """
    gone = socket_gone(stale_after=stale_after, connect_grace=stale_after)
    closable = Q(room__status=ChatRoom.Status.ACTIVE) | Q(
        room__status=ChatRoom.Status.WAITING, room__created_at__lt=timezone.now() - waiting_older_than
    )
    return ChatParticipant.objects.filter(gone, closable, left_at__isnull=True)


def rooms_close_stale(*, stale_after: timedelta, waiting_older_than: timedelta, dry_run: bool = False) -> StaleRooms:
    stale = stale_participations(stale_after=stale_after, waiting_older_than=waiting_older_than)
    closed: Counter = Counter()
    done_rooms = set()
    for user_id, room_id, status in stale.values_list("user_id", "room_id", "room__status"):
        if room_id in done_rooms:
            continue  # both people of a room can be gone; the room closes once
        done_rooms.add(room_id)
        if not dry_run:
            try:
                leave_room(user_id=user_id, room_id=room_id)
            except AlreadyLeft:
                continue  # they, or their partner, left since we looked
        closed[status] += 1
    return StaleRooms(waiting=closed[ChatRoom.Status.WAITING], active=closed[ChatRoom.Status.ACTIVE])


def messages_purge(*, older_than: timedelta, batch_size: int = 1000, dry_run: bool = False) -> int:
    """Delete messages older than `older_than` in closed rooms, `batch_size` rows per transaction.

    Small batches keep each delete short, so chats going on meanwhile never wait on it.
    Reports keep their own copy of the evidence and are not affected.
    """
    old = ChatMessage.objects.filter(timestamp__lt=timezone.now() - older_than, room__status=ChatRoom.Status.CLOSED)
    if dry_run:
        return old.count()
    deleted = 0
    while batch := list(old.values_list("id", flat=True)[:batch_size]):
        deleted += ChatMessage.objects.filter(id__in=batch).delete()[0]
    return deleted
