from datetime import datetime
from uuid import UUID

from django.db import connection
from django.utils import timezone

from chat.models import ChatMessage, ChatRoom
from reports.models import Ban, Report


# Written by hand: every socket connect asks it, and building it through the ORM took more
# of the check's CPU than running it. Ban.objects.active's rule; an address only if known.
_ACTIVE_BAN_SQL = """
SELECT id, expires_at FROM bans
WHERE lifted_at IS NULL AND (expires_at IS NULL OR expires_at > %s)
  AND (user_id = %s OR (%s <> '' AND ip_hash = %s))
ORDER BY expires_at DESC NULLS FIRST
LIMIT 1
"""


def ban_active_for(*, visitor_id: UUID, ip_hash: str = "") -> Ban | None:
    """The ban that keeps this visitor out right now (only its expiry read); the longest-lasting if several."""
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    visitor = Ban._meta.get_field("visitor").get_db_prep_value(visitor_id, connection)
    return next(iter(Ban.objects.raw(_ACTIVE_BAN_SQL, [now, visitor, ip_hash, ip_hash])), None)


def moderation_stats(*, since: datetime) -> dict[str, int]:
    """The figures a moderator or operator checks each day."""
    now = timezone.now()
    bans_since = Ban.objects.filter(created_at__gte=since)
    return {
        "open_reports": Report.objects.filter(status=Report.Status.OPEN).count(),
        "reports_since": Report.objects.filter(created_at__gte=since).count(),
        "active_bans": Ban.objects.active(now=now).count(),
        "bans_since": bans_since.count(),
        "automatic_bans_since": bans_since.filter(created_by__isnull=True).count(),
        "waiting_rooms": ChatRoom.objects.filter(status=ChatRoom.Status.WAITING).count(),
        "active_rooms": ChatRoom.objects.filter(status=ChatRoom.Status.ACTIVE).count(),
        "rooms_since": ChatRoom.objects.filter(created_at__gte=since).count(),
        "messages_since": ChatMessage.objects.filter(timestamp__gte=since).count(),
    }
