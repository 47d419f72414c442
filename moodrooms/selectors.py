"""Mood room reads: the session list, access checks, history and members."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db.models import Count, Q
from django.utils import timezone

from chat.paging import keyset_page
from chat.selectors import CATCH_UP_LIMIT
from moodrooms.models import Category, ChatSession, MessageReaction, SessionMessage, SessionParticipant
from moodrooms.protocol import REACTION_EMOJI
from whimsy_project.errors import InvalidInput, NotMember, SessionNotFound


def sessions_list() -> list[ChatSession]:
    """The open sessions, by mood (in the seed's order), the seeded one first, then by name."""
    order = {value: index for index, value in enumerate(Category.values)}
    sessions = list(ChatSession.objects.filter(is_active=True))
    return sorted(sessions, key=lambda s: (order[s.category], not s.is_seeded, s.created_at, s.id))


@dataclass(frozen=True)
class SessionAccess:
    session: ChatSession
    participant: SessionParticipant  # the caller's active stay, with .user loaded


def access_session_for(*, session_id: UUID, user_id: UUID) -> SessionAccess:
    """The caller's active membership of this open session, or why there is none."""
    participant = (
        SessionParticipant.objects.select_related("session", "user")
        .filter(session_id=session_id, user_id=user_id, is_active=True, session__is_active=True)
        .first()
    )
    if participant is not None:
        return SessionAccess(session=participant.session, participant=participant)
    if not ChatSession.objects.filter(id=session_id, is_active=True).exists():
        raise SessionNotFound()
    raise NotMember()


def active_participation_for(*, user_id: UUID) -> SessionParticipant | None:
    return SessionParticipant.objects.select_related("session").filter(user_id=user_id, is_active=True).first()


def session_participants(*, session_id: UUID, user_id: UUID) -> list[SessionParticipant]:
    access_session_for(session_id=session_id, user_id=user_id)
    return members_of(session_id=session_id)


def members_of(*, session_id: UUID) -> list[SessionParticipant]:
    return list(
        SessionParticipant.objects.select_related("user")
        .filter(session_id=session_id, is_active=True)
        .order_by("joined_at", "id")
    )


def visible_messages(*, session_id: UUID, user_id: UUID):
    """The session's messages this member may see: everything but other people's mood-checks."""
    return SessionMessage.objects.filter(session_id=session_id).filter(
        Q(recipient__isnull=True) | Q(recipient_id=user_id)
    )


@dataclass(frozen=True)
class MessagePage:
    messages: list[SessionMessage]  # oldest to newest
    reactions: dict[UUID, list[dict]]  # message id -> [{"emoji", "count", "mine"}]
    next_before: UUID | None


def session_messages_page(
    *, session_id: UUID, user_id: UUID, before: UUID | None = None, after: UUID | None = None, limit: int = 50
) -> MessagePage:
    """A page of history for a member: the newest `limit` (before a message, keyset on
    (created_at, id)), or what came after a message (a resumed socket's catch-up)."""
    access_session_for(session_id=session_id, user_id=user_id)
    page = keyset_page(
        messages=visible_messages(session_id=session_id, user_id=user_id),
        cursors=SessionMessage.objects.filter(session_id=session_id),
        time_field="created_at",
        before=before,
        after=after,
        limit=limit,
        place="room",
    )
    return MessagePage(
        messages=page.items,
        reactions=reactions_of(message_ids=[message.id for message in page.items], user_id=user_id),
        # A catch-up after a message pages forwards only: nothing older is offered.
        next_before=page.items[0].id if page.has_older and after is None else None,
    )


def session_messages_since(*, session_id: UUID, user_id: UUID, since: datetime) -> MessagePage:
    """The messages of the session this member may see stored since `since`, oldest first (at
    most the newest CATCH_UP_LIMIT): what a member's socket may have missed while its peers
    did not know it yet."""
    newest = visible_messages(session_id=session_id, user_id=user_id).filter(created_at__gte=since)
    messages = newest.order_by("-created_at", "-id")[:CATCH_UP_LIMIT][::-1]
    return MessagePage(
        messages=messages,
        reactions=reactions_of(message_ids=[message.id for message in messages], user_id=user_id),
        next_before=None,
    )


def reactions_of(*, message_ids: list[UUID], user_id: UUID) -> dict[UUID, list[dict]]:
    """Each message's reaction chips in the offered order: emoji, how many, whether one is mine."""
    if not message_ids:
        return {}
    rows = (
        MessageReaction.objects.filter(message_id__in=message_ids)
        .values("message_id", "emoji")
        .annotate(count=Count("id"), mine=Count("id", filter=Q(user_id=user_id)))
    )
    order = {emoji: index for index, emoji in enumerate(REACTION_EMOJI)}
    chips: dict[UUID, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda row: order.get(row["emoji"], len(order))):
        chips[row["message_id"]].append({"emoji": row["emoji"], "count": row["count"], "mine": row["mine"] > 0})
    return dict(chips)


def reaction_count(*, message_id: UUID, emoji: str) -> int:
    return MessageReaction.objects.filter(message_id=message_id, emoji=emoji).count()


def recently_shared_session(*, reporter_id: UUID, reported_id: UUID, session_id: UUID, within_seconds: int) -> bool:
    """Whether the two were members of this session at the same time within the last
    `within_seconds` (what a report about a mood room needs)."""
    since = timezone.now() - timedelta(seconds=within_seconds)
    stays = SessionParticipant.objects.filter(session_id=session_id).filter(
        Q(left_at__isnull=True) | Q(left_at__gte=since)
    )
    mine = list(stays.filter(user_id=reporter_id).values_list("joined_at", "left_at"))
    theirs = list(stays.filter(user_id=reported_id).values_list("joined_at", "left_at"))
    now = timezone.now()
    return any(
        max(a_join, b_join) <= min(a_left or now, b_left or now) and min(a_left or now, b_left or now) >= since
        for a_join, a_left in mine
        for b_join, b_left in theirs
    )


def session_evidence(*, session_id: UUID, count: int) -> list[SessionMessage]:
    """The session's last `count` public messages, oldest first, each with its edits
    (`.edits.all()`, the texts before each edit) prefetched: what a report keeps."""
    latest = (
        SessionMessage.objects.filter(session_id=session_id, recipient__isnull=True)
        .prefetch_related("edits")
        .order_by("-created_at", "-id")[:count]
    )
    return list(reversed(latest))
