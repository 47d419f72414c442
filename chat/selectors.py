from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from chat.models import ChatParticipant


def participation_open_for(*, user_id: UUID) -> ChatParticipant | None:
    return ChatParticipant.objects.select_related("room").filter(user_id=user_id, left_at__isnull=True).first()


def recent_partner_ids(*, user_id: UUID) -> QuerySet:
    """Ids of people this user shared a room with that ended within NO_REMATCH_SECONDS.

    A lazy queryset, so that matchmaking uses it as a subquery in its one locking query.
    """
    cutoff = timezone.now() - timedelta(seconds=settings.NO_REMATCH_SECONDS)
    recent_rooms = ChatParticipant.objects.filter(user_id=user_id, left_at__gte=cutoff).values("room_id")
    return ChatParticipant.objects.filter(room_id__in=recent_rooms).exclude(user_id=user_id).values("user_id")
