from uuid import UUID

from django.db.models import F, Q
from django.utils import timezone

from reports.models import Ban


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
