from datetime import datetime
from uuid import UUID

from django.db.models import F, Q
from django.utils import timezone

from chat.models import ChatMessage, ChatRoom
from reports.models import Ban, Report


def ban_active_for(*, visitor_id: UUID, ip_hash: str = "") -> Ban | None:
    """The ban that keeps this visitor out right now; the longest-lasting if several."""
    targets = Q(visitor_id=visitor_id)
    if ip_hash:
        targets |= Q(ip_hash=ip_hash)
    return (
        Ban.objects.active(now=timezone.now())
        .filter(targets)
        .order_by(F("expires_at").desc(nulls_first=True))
        .first()
    )


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
