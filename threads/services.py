"""Keep in touch writes: asking, the threads it makes, their messages, ending them.

Locks: an ask locks its chat room row (so the two people's asks are decided one after
the other and make exactly one thread), then the thread row. A thread write locks the
thread row alone. Nothing here locks a visitor row, so no order conflicts with
matchmaking's (own visitor, then rooms); a ban (reports) ends the banned visitor's threads
after locking their visitor row and room, so its order is visitor, room, thread.
"""

from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.events import announce_frame, room_group, send_to_group_on_commit, thread_group
from chat.models import ChatParticipant, ChatRoom
from chat.moderation import active_ban_for
from chat.protocol import clean_client_id
from chat.selectors import access_room_for
from threads.models import ChatThread, KeepRequest, ThreadMessage, thread_id_for
from threads.protocol import clean_body, keep_requested_frame, kept_frame, new_message_frame, thread_closed_frame
from threads.selectors import thread_for_member
from whimsy_project import metrics
from whimsy_project.errors import Banned, InvalidInput, KeepWindowClosed, NoPartnerYet, ThreadEnded

ASKED = "asked"
KEPT = "kept"
THREAD_CLOSED_EVENT = "thread.closed"  # the thread sockets send thread_closed and close


@dataclass(frozen=True)
class KeepOutcome:
    status: str  # ASKED or KEPT
    thread_id: str | None


def _refuse_if_banned(*, user_id: UUID, ip_hash: str) -> None:
    ban = active_ban_for(visitor_id=user_id, ip_hash=ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)


@transaction.atomic
def keep_request(*, room_id: UUID, user_id: UUID, ip_hash: str = "") -> KeepOutcome:
    """This participant asks to keep in touch with the other person of the room.

    Allowed while the chat lasts and KEEP_IN_TOUCH_SECONDS after it ended, and not with
    someone banned (keep_expired, as for a chat that can no longer be kept). The first
    ask is stored and announced to the room (keep_requested); the partner's ask makes the
    thread, or reopens theirs, and announces kept with its id. Asking again changes
    nothing and answers the same.
    """
    _refuse_if_banned(user_id=user_id, ip_hash=ip_hash)
    room = access_room_for(room_id=room_id, user_id=user_id, open_only=False, lock=True).room
    others = ChatParticipant.objects.filter(room=room).exclude(user_id=user_id)
    partner_id = others.values_list("user_id", flat=True).first()  # a room is joined once: one partner at most
    if partner_id is None:
        raise NoPartnerYet()
    if room.status == ChatRoom.Status.CLOSED and room.closed_at < keep_window_start():
        raise KeepWindowClosed()
    if active_ban_for(visitor_id=partner_id) is not None:
        # Their ban ended their threads (threads_end_all); none is made or reopened with them meanwhile.
        raise KeepWindowClosed("This chat can no longer be kept.")
    _, asked_now = KeepRequest.objects.get_or_create(room=room, user_id=user_id)
    if not KeepRequest.objects.filter(room=room, user_id=partner_id).exists():
        if asked_now:
            announce_frame(group=room_group(room.id), frame=keep_requested_frame(room_id=room.id, user_id=user_id))
        return KeepOutcome(status=ASKED, thread_id=None)
    thread_id = thread_id_for(user_id, partner_id)
    if asked_now:  # the second ask: the two agree, now
        thread_open(user_ids=(user_id, partner_id))
        announce_frame(group=room_group(room.id), frame=kept_frame(room_id=room.id, thread_id=thread_id))
    return KeepOutcome(status=KEPT, thread_id=thread_id)


def keep_window_start():
    """A chat that ended before this moment can no longer be kept."""
    return timezone.now() - timedelta(seconds=settings.KEEP_IN_TOUCH_SECONDS)


@transaction.atomic
def thread_open(*, user_ids: tuple[UUID, UUID]) -> ChatThread:
    """Create the two people's thread, or reopen it if one of them had ended it."""
    user_a, user_b = sorted(user_ids, key=str)
    now = timezone.now()
    thread, created = ChatThread.objects.select_for_update().get_or_create(
        thread_id=thread_id_for(user_a, user_b),
        defaults={"user_a_id": user_a, "user_b_id": user_b, "last_message_at": now},
    )
    if not created and thread.closed_at is not None:
        thread.closed_at = None
        thread.last_message_at = max(thread.last_message_at, now)
        thread.save(update_fields=["closed_at", "last_message_at"])
    return thread


def thread_connect(*, thread_id: str, user_id: UUID, ip_hash: str = "") -> ChatThread:
    """Authorise a thread socket: a member of this open thread, not banned."""
    _refuse_if_banned(user_id=user_id, ip_hash=ip_hash)
    return thread_for_member(thread_id=thread_id, user_id=user_id)


@dataclass(frozen=True)
class PostedThreadMessage:
    message: ThreadMessage
    created: bool  # False: a resend of a client_id already stored, returned as it was


@transaction.atomic
def thread_message_post(
    *, thread_id: str, sender_id: UUID, body: str, client_id: str | None, ip_hash: str = ""
) -> PostedThreadMessage:
    """Store a member's message and announce new_message to the thread after the commit.

    Idempotent per client_id: a resend returns the stored message and announces nothing.
    created_at is assigned under the thread's row lock, strictly after the thread's last
    message, so created_at order is commit order (what keyset paging relies on).
    """
    body = clean_body(body)
    client_id = clean_client_id(client_id)
    if client_id is not None:
        existing = ThreadMessage.objects.filter(thread_id=thread_id, sender_id=sender_id, client_id=client_id).first()
        if existing is not None:
            return PostedThreadMessage(message=existing, created=False)
    _refuse_if_banned(user_id=sender_id, ip_hash=ip_hash)
    thread = thread_for_member(thread_id=thread_id, user_id=sender_id, lock=True)
    if client_id is not None:
        # Asked again under the lock: the first copy of a resend racing itself may have committed.
        existing = ThreadMessage.objects.filter(thread=thread, sender_id=sender_id, client_id=client_id).first()
        if existing is not None:
            return PostedThreadMessage(message=existing, created=False)
    created_at = max(timezone.now(), thread.last_message_at + timedelta(microseconds=1))
    message = ThreadMessage.objects.create(
        thread=thread, sender_id=sender_id, body=body, client_id=client_id, created_at=created_at
    )
    ChatThread.objects.filter(pk=thread.pk).update(last_message_at=created_at)
    announce_frame(group=thread_group(thread.thread_id), frame=new_message_frame(message))
    transaction.on_commit(metrics.MESSAGES_STORED.labels(kind="thread").inc)
    return PostedThreadMessage(message=message, created=True)


@transaction.atomic
def thread_end(*, thread_id: str, user_id: UUID) -> None:
    """Either member ends the thread for both: it leaves both lists, and its sockets close."""
    thread = thread_for_member(thread_id=thread_id, user_id=user_id, lock=True)
    thread.closed_at = timezone.now()
    thread.save(update_fields=["closed_at"])
    send_to_group_on_commit(
        thread_group(thread.thread_id),
        {"type": THREAD_CLOSED_EVENT, "text": thread_closed_frame(thread_id=thread.thread_id)},
    )


@transaction.atomic
def threads_end_all(*, user_id: UUID) -> None:
    """End every open thread of this visitor (they were banned), each as their own thread_end:
    the partner's sockets hear thread_closed, and the messages stay."""
    open_ids = ChatThread.objects.filter(Q(user_a_id=user_id) | Q(user_b_id=user_id), closed_at__isnull=True)
    for thread_id in open_ids.values_list("thread_id", flat=True):
        try:
            thread_end(thread_id=thread_id, user_id=user_id)
        except ThreadEnded:
            pass  # the partner ended it a moment ago


@transaction.atomic
def thread_mark_read(*, thread_id: str, user_id: UUID, message_id: UUID) -> None:
    """Move this member's last-read marker up to that message (never back)."""
    thread = thread_for_member(thread_id=thread_id, user_id=user_id)
    seen = ThreadMessage.objects.filter(thread=thread, id=message_id).values_list("created_at", flat=True).first()
    if seen is None:
        raise InvalidInput("message_id: no such message in this thread.")
    field = "user_a_read_at" if user_id == thread.user_a_id else "user_b_read_at"
    ChatThread.objects.filter(pk=thread.pk).exclude(**{f"{field}__gte": seen}).update(**{field: seen})
