"""The questions `chat` (and the apps beside it) ask moderation, answered by `reports`.

`chat` sits below `reports` and may not import it; `reports` registers the real answers
at start-up (its AppConfig.ready), and everything below it asks through here.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from uuid import UUID


class ActiveBan(Protocol):
    expires_at: datetime | None  # None: permanent


BanCheck = Callable[..., ActiveBan | None]

_ban_check: BanCheck | None = None


def register_ban_check(check: BanCheck) -> None:
    """Called once by reports at start-up with `check(*, visitor_id, ip_hash="")`."""
    global _ban_check
    _ban_check = check


def active_ban_for(*, visitor_id: UUID, ip_hash: str = "") -> ActiveBan | None:
    """The ban that keeps this visitor (or this address) out right now, or None."""
    if _ban_check is None:
        # Failing loudly beats letting banned people in because an app was left out.
        raise RuntimeError("No ban check registered: is 'reports' in INSTALLED_APPS?")
    return _ban_check(visitor_id=visitor_id, ip_hash=ip_hash)
