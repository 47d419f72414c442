"""The stale-room sweep the cleanup_rooms command runs from cron.

Rooms are always ended through leave_room, so the partner of a vanished person is told
(partner_left) exactly as if that person had pressed Leave.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from chat.models import ChatParticipant, ChatRoom
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
                leave_room(user_id=user_id, room_id=room_id, reason="lost")
            except AlreadyLeft:
                continue  # they, or their partner, left since we looked
        closed[status] += 1
    return StaleRooms(waiting=closed[ChatRoom.Status.WAITING], active=closed[ChatRoom.Status.ACTIVE])
