"""Keep-in-touch housekeeping, run by purge_messages (registered in ThreadsConfig.ready):
old thread messages, ended threads, and lone keep requests whose window has passed."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from chat.models import ChatRoom
from threads.models import ChatThread, KeepRequest, ThreadMessage
from threads.services import keep_window_start


def _delete_in_batches(rows: QuerySet, *, batch_size: int, dry_run: bool) -> int:
    """Small batches keep each delete short, so the threads in use never wait on it."""
    if dry_run:
        return rows.count()
    model = rows.model
    deleted = 0
    while batch := list(rows.values_list("pk", flat=True)[:batch_size]):
        model.objects.filter(pk__in=batch).delete()
        deleted += len(batch)
    return deleted


def thread_messages_purge(*, batch_size: int = 1000, dry_run: bool = False) -> int:
    """Thread messages older than THREAD_MESSAGE_RETENTION_DAYS, in open and ended threads alike."""
    cutoff = timezone.now() - timedelta(days=settings.THREAD_MESSAGE_RETENTION_DAYS)
    return _delete_in_batches(
        ThreadMessage.objects.filter(created_at__lt=cutoff), batch_size=batch_size, dry_run=dry_run
    )


def ended_threads_purge(*, batch_size: int = 1000, dry_run: bool = False) -> int:
    """Threads ended more than THREAD_ENDED_RETENTION_DAYS ago, with their messages (reports keep
    their own copy). The same two people keeping in touch again later start a new thread."""
    cutoff = timezone.now() - timedelta(days=settings.THREAD_ENDED_RETENTION_DAYS)
    ended = ChatThread.objects.filter(closed_at__lt=cutoff)
    if not dry_run:
        _delete_in_batches(ThreadMessage.objects.filter(thread__in=ended), batch_size=batch_size, dry_run=False)
    return _delete_in_batches(ended, batch_size=batch_size, dry_run=dry_run)


def keep_requests_purge(*, batch_size: int = 1000, dry_run: bool = False) -> int:
    """Asks in chats that ended longer than KEEP_IN_TOUCH_SECONDS ago: they can never be answered."""
    expired = KeepRequest.objects.filter(room__status=ChatRoom.Status.CLOSED, room__closed_at__lt=keep_window_start())
    return _delete_in_batches(expired, batch_size=batch_size, dry_run=dry_run)
