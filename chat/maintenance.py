"""Housekeeping the purge_messages command runs from cron (the stale-room sweep is matchmaking's)."""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from chat.models import ChatMessage, ChatRoom


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


# Purges of the apps above chat (threads), which chat may not import: each app registers
# them at start-up and purge_messages runs them after its own, with its --batch-size and
# --dry-run; each keeps by its own retention setting. purge(*, batch_size, dry_run) -> rows.
_more_purges: dict[str, Callable[..., int]] = {}


def register_purge(*, noun: str, purge: Callable[..., int]) -> None:
    _more_purges[noun] = purge


def more_purges() -> list[tuple[str, Callable[..., int]]]:
    return list(_more_purges.items())
