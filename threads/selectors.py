"""Reads of keep in touch. `thread_for_member` is the one access check: the API and the
thread socket both authorise through it."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import OuterRef, Q, Subquery

from chat.paging import keyset_page
from threads.models import ChatThread, ThreadMessage
from whimsy_project.errors import InvalidInput, ThreadEnded, ThreadNotFound


def thread_for_member(*, thread_id: str, user_id: UUID, lock: bool = False, ended_too: bool = False) -> ChatThread:
    """The thread if this visitor is one of its two members and it has not been ended.

    Anyone else is told there is no such thread (404), so an id reveals nothing; a member
    of an ended thread is told it ended (410), unless `ended_too` (a report may follow the
    end). `lock` takes the row lock (inside a transaction).
    """
    threads = ChatThread.objects.select_for_update() if lock else ChatThread.objects
    thread = threads.filter(Q(user_a_id=user_id) | Q(user_b_id=user_id), thread_id=thread_id).first()
    if thread is None:
        raise ThreadNotFound()
    if thread.closed_at is not None and not ended_too:
        raise ThreadEnded()
    return thread


@dataclass(frozen=True)
class ThreadSummary:
    thread_id: str
    partner_id: UUID
    partner_name: str
    last_message: ThreadMessage | None
    last_message_at: object  # datetime: the newest activity (last message or (re)opening)
    unread: bool


def threads_of(*, user_id: UUID) -> list[ThreadSummary]:
    """This visitor's open threads, newest activity first, each with its last message.

    Unread: the last message is the partner's and newer than this visitor's last-read marker.
    """
    last_id = ThreadMessage.objects.filter(thread=OuterRef("pk")).order_by("-created_at", "-id").values("id")[:1]
    threads = list(
        ChatThread.objects.filter(Q(user_a_id=user_id) | Q(user_b_id=user_id), closed_at__isnull=True)
        .select_related("user_a", "user_b")
        .annotate(last_id=Subquery(last_id))
        .order_by("-last_message_at", "thread_id")
    )
    last = ThreadMessage.objects.in_bulk([thread.last_id for thread in threads if thread.last_id])
    summaries = []
    for thread in threads:
        mine_a = thread.user_a_id == user_id
        partner = thread.user_b if mine_a else thread.user_a
        read_at = thread.user_a_read_at if mine_a else thread.user_b_read_at
        message = last.get(thread.last_id)
        unread = (
            message is not None and message.sender_id != user_id and (read_at is None or message.created_at > read_at)
        )
        summaries.append(
            ThreadSummary(
                thread_id=thread.thread_id,
                partner_id=partner.id,
                partner_name=partner.username,  # chosen or generated (chat/names.py)
                last_message=message,
                last_message_at=thread.last_message_at,
                unread=unread,
            )
        )
    return summaries


def has_threads(*, user_id: UUID) -> bool:
    """Whether the header links to "Your threads"."""
    return ChatThread.objects.filter(Q(user_a_id=user_id) | Q(user_b_id=user_id), closed_at__isnull=True).exists()


@dataclass(frozen=True)
class ThreadMessagePage:
    messages: list[ThreadMessage]  # oldest to newest
    next_before: UUID | None  # pass as `before` for the older page; None when nothing is older


def thread_messages_page(*, thread_id: str, user_id: UUID, before: UUID | None, limit: int) -> ThreadMessagePage:
    """A page of the thread, newest first, for its members.

    Keyset on (created_at, id) (chat.paging), served by the (thread, created_at, id) index. A message's
    created_at is assigned under the thread's row lock and grows strictly in commit order,
    so a message that commits while someone pages backwards is always newer than every
    page they read: paging never skips nor repeats one.
    """
    thread_for_member(thread_id=thread_id, user_id=user_id)
    messages = ThreadMessage.objects.filter(thread_id=thread_id)
    page = keyset_page(
        messages=messages,
        cursors=messages,
        time_field="created_at",
        before=before,
        after=None,
        limit=limit,
        place="thread",
    )
    return ThreadMessagePage(messages=page.items, next_before=page.items[0].id if page.has_older else None)


def thread_last_messages(*, thread: ChatThread, count: int) -> list[ThreadMessage]:
    """The thread's last `count` messages, oldest first (a report's evidence)."""
    latest = list(ThreadMessage.objects.filter(thread=thread).order_by("-created_at", "-id")[:count])
    latest.reverse()
    return latest
