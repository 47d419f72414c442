"""Pairing strangers.

Every pairing decision happens in one short transaction that locks, in this order,
(1) the caller's own Visitor row, which serialises one person's concurrent Start,
Next and Leave calls, and then (2) room rows. A room the caller claims is always
taken with SKIP LOCKED, so a claim never waits on another transaction; the only
blocking waits are on the caller's own rows, which is why no cycle of waits (a
deadlock) can form. Serialisation failures that PostgreSQL still reports are retried.

Two people who start at the same instant each create a waiting room and, under
SKIP LOCKED, cannot see the other's uncommitted room. The settle step repairs that:
after its commit, and again on a timer while waiting, a waiting person looks for
another waiting room and, if it can join one, closes its own.
"""

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import Exists, OuterRef, Q, Subquery, UUIDField
from django.utils import timezone

from chat.events import announce_partner_joined, announce_partner_left
from chat.models import ChatParticipant, ChatRoom, RoomInterest, Visitor
from chat.selectors import participation_open_for, recent_partner_ids, socket_gone
from reports.selectors import ban_active_for
from whimsy_project.errors import AlreadyLeft, Banned, InvalidInput, NotParticipant, RoomNotFound

logger = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATEs worth a second try: serialization_failure, deadlock_detected, and
# unique_violation (two first requests of one new visitor racing to create its row).
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}
_ATTEMPTS = 6
_VISITOR_TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True)
class Match:
    room_id: UUID
    partner_id: UUID | None
    common_interests: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "chatting" if self.partner_id else "searching"


def normalize_interests(raw: Iterable[str]) -> list[str]:
    """Trimmed, lower-case, de-duplicated tags in the order given; blanks are dropped."""
    tags: list[str] = []
    for item in raw:
        if not isinstance(item, str):
            raise InvalidInput("interests: each interest must be a string.")
        tag = " ".join(item.split()).lower()
        if not tag or tag in tags:
            continue
        if len(tag) > settings.MAX_INTEREST_LENGTH:
            raise InvalidInput(
                f"interests: {tag[:40]!r} is longer than {settings.MAX_INTEREST_LENGTH} characters."
            )
        tags.append(tag)
    if len(tags) > settings.MAX_INTERESTS:
        raise InvalidInput(f"interests: at most {settings.MAX_INTERESTS} interests, got {len(tags)}.")
    return tags


def find_available_room(
    *, user_id: UUID, mode: str = ChatRoom.Mode.TEXT, interests: Iterable[str] = (), ip_hash: str = ""
) -> Match:
    """Join the best waiting room for this user, or wait in a new one.

    Idempotent: a user who already has an open room gets that room back.
    """
    tags = normalize_interests(interests)
    match = _retrying(lambda: _join_or_wait(user_id=user_id, mode=mode, tags=tags, ip_hash=ip_hash))
    if match.partner_id is None and _others_are_waiting(mode=mode, own_room_id=match.room_id):
        return settle_waiting_user(user_id=user_id) or match
    return match


def settle_waiting_user(*, user_id: UUID) -> Match | None:
    """If this user is waiting and another waiting room suits them, move them into it."""
    return _retrying(lambda: _settle(user_id=user_id))


def settle_waiting_rooms() -> int:
    """One settle pass over everyone waiting; returns how many were paired."""
    waiting_user_ids = list(
        ChatParticipant.objects.filter(left_at__isnull=True, room__status=ChatRoom.Status.WAITING)
        .order_by("-room__created_at")
        .values_list("user_id", flat=True)
    )
    return sum(1 for user_id in waiting_user_ids if settle_waiting_user(user_id=user_id) is not None)


def leave_room(*, user_id: UUID, room_id: UUID) -> None:
    """End the room for both people; the partner is told at once."""
    _retrying(lambda: _leave(user_id=user_id, room_id=room_id, already_left_ok=False))


def next_room(
    *,
    user_id: UUID,
    room_id: UUID,
    mode: str | None = None,
    interests: Iterable[str] = (),
    ip_hash: str = "",
) -> Match:
    """Leave this room (if the partner has not already ended it) and find a new stranger."""
    tags = normalize_interests(interests)
    # If the partner left first, this user's participation has ended already: Next is
    # exactly what they want now, not an error.
    old_room = _retrying(lambda: _leave(user_id=user_id, room_id=room_id, already_left_ok=True))
    return find_available_room(user_id=user_id, mode=mode or old_room.mode, interests=tags, ip_hash=ip_hash)


# --- the transactions -------------------------------------------------------------


@transaction.atomic
def _join_or_wait(*, user_id: UUID, mode: str, tags: list[str], ip_hash: str) -> Match:
    visitor = _lock_visitor(user_id=user_id, ip_hash=ip_hash, create=True)
    ban = ban_active_for(visitor_id=user_id, ip_hash=visitor.ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)
    existing = participation_open_for(user_id=user_id)
    if existing is not None:
        return _match_of(existing.room, user_id=user_id)
    room = _claim_waiting_room(
        user_id=user_id, mode=mode, tags=tags, fallback_open=not tags or settings.INTEREST_FALLBACK_SECONDS == 0
    )
    if room is not None:
        return _join(room, visitor=visitor, tags=tags)
    return _open_waiting_room(visitor=visitor, mode=mode, tags=tags)


@transaction.atomic
def _settle(*, user_id: UUID) -> Match | None:
    visitor = _lock_visitor(user_id=user_id, create=False)
    if visitor is None:
        return None
    participation = participation_open_for(user_id=user_id)
    if participation is None or participation.room.status != ChatRoom.Status.WAITING:
        return None
    # Skip our own room if it is locked: someone is joining it right now.
    own_room = (
        ChatRoom.objects.select_for_update(skip_locked=True)
        .filter(id=participation.room_id, status=ChatRoom.Status.WAITING)
        .first()
    )
    if own_room is None:
        return None
    tags = list(own_room.interests.values_list("tag", flat=True))
    waited = timezone.now() - own_room.created_at
    fallback_open = not tags or waited >= timedelta(seconds=settings.INTEREST_FALLBACK_SECONDS)
    other_room = _claim_waiting_room(user_id=user_id, mode=own_room.mode, tags=tags, fallback_open=fallback_open)
    if other_room is None:
        return None
    _end_room(own_room)
    return _join(other_room, visitor=visitor, tags=tags, moved=True)


@transaction.atomic
def _leave(*, user_id: UUID, room_id: UUID, already_left_ok: bool) -> ChatRoom:
    visitor = _lock_visitor(user_id=user_id, create=False)
    room = ChatRoom.objects.select_for_update().filter(id=room_id).first()
    if room is None:
        raise RoomNotFound()
    participations = list(room.participants.filter(user_id=user_id)) if visitor is not None else []
    if not participations:
        raise NotParticipant()
    if all(p.left_at is not None for p in participations):
        if already_left_ok:
            return room
        raise AlreadyLeft()
    _end_room(room)
    announce_partner_left(room_id=room.id, user_id=user_id)
    return room


# --- steps inside those transactions ----------------------------------------------


def _lock_visitor(*, user_id: UUID, ip_hash: str = "", create: bool) -> Visitor | None:
    visitor = Visitor.objects.select_for_update().filter(id=user_id).first()
    now = timezone.now()
    if visitor is None:
        # A concurrent first request may create the same row; the unique violation
        # is retried by _retrying and then finds the row.
        return Visitor.objects.create(id=user_id, ip_hash=ip_hash) if create else None
    if create and (now - visitor.last_seen > _VISITOR_TOUCH_INTERVAL or (ip_hash and ip_hash != visitor.ip_hash)):
        visitor.last_seen = now
        visitor.ip_hash = ip_hash or visitor.ip_hash
        visitor.save(update_fields=["last_seen", "ip_hash"])
    return visitor


def _claim_waiting_room(*, user_id: UUID, mode: str, tags: list[str], fallback_open: bool) -> ChatRoom | None:
    """Lock the oldest waiting room this user may join, preferring a shared interest.

    A room whose occupant has interests is open to strangers without a shared one
    only after that occupant has waited INTEREST_FALLBACK_SECONDS; so is the caller.
    """
    candidates = ChatRoom.objects.filter(status=ChatRoom.Status.WAITING, mode=mode).exclude(
        Q(participants__user_id=user_id)
        | Q(participants__user_id__in=recent_partner_ids(user_id=user_id))
        | Exists(_occupants_without_socket())
    )
    if tags:
        shared = candidates.filter(id__in=RoomInterest.objects.filter(tag__in=tags).values("room_id"))
        room = _lock_oldest(shared)
        if room is not None:
            return room
    if not fallback_open:
        return None
    cutoff = timezone.now() - timedelta(seconds=settings.INTEREST_FALLBACK_SECONDS)
    has_interests = Exists(RoomInterest.objects.filter(room_id=OuterRef("pk")))
    return _lock_oldest(candidates.filter(~has_interests | Q(created_at__lte=cutoff)))


def _occupants_without_socket():
    """The occupant of a waiting room whose page closed before its socket connected, or whose
    server died: nobody would be there to greet whoever joined."""
    gone = socket_gone(
        stale_after=timedelta(seconds=3 * settings.HEARTBEAT_SECONDS),
        connect_grace=timedelta(seconds=settings.SOCKET_CONNECT_GRACE_SECONDS),
    )
    return ChatParticipant.objects.filter(gone, room_id=OuterRef("pk"), left_at__isnull=True)


def _lock_oldest(rooms) -> ChatRoom | None:
    waiting_user = ChatParticipant.objects.filter(room_id=OuterRef("pk"), left_at__isnull=True).values("user_id")
    return (
        rooms.annotate(waiting_user_id=Subquery(waiting_user[:1], output_field=UUIDField()))
        .order_by("created_at", "id")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )


def _others_are_waiting(*, mode: str, own_room_id: UUID) -> bool:
    """A cheap look, without locks, before the settle step's transaction: usually nobody is."""
    return ChatRoom.objects.filter(status=ChatRoom.Status.WAITING, mode=mode).exclude(id=own_room_id).exists()


def _join(room: ChatRoom, *, visitor: Visitor, tags: list[str], moved: bool = False) -> Match:
    """Join a room claimed by _lock_oldest, which also read who is waiting in it."""
    partner_id = room.waiting_user_id
    ChatParticipant.objects.create(room=room, user=visitor)
    room.status = ChatRoom.Status.ACTIVE
    if tags:
        room.common_interests = sorted(set(tags) & set(room.interests.values_list("tag", flat=True)))
    room.save(update_fields=["status", "common_interests"])
    announce_partner_joined(
        room_id=room.id,
        user_ids=(partner_id, visitor.id),
        common_interests=room.common_interests,
        moved_user_id=visitor.id if moved else None,
    )
    return Match(room_id=room.id, partner_id=partner_id, common_interests=room.common_interests)


def _open_waiting_room(*, visitor: Visitor, mode: str, tags: list[str]) -> Match:
    room = ChatRoom.objects.create(mode=mode)
    ChatParticipant.objects.create(room=room, user=visitor)
    RoomInterest.objects.bulk_create([RoomInterest(room=room, tag=tag) for tag in tags])
    return Match(room_id=room.id, partner_id=None)


def _match_of(room: ChatRoom, *, user_id: UUID) -> Match:
    partner_id = (
        room.participants.filter(left_at__isnull=True)
        .exclude(user_id=user_id)
        .values_list("user_id", flat=True)
        .first()
    )
    return Match(room_id=room.id, partner_id=partner_id, common_interests=room.common_interests)


def _end_room(room: ChatRoom) -> None:
    now = timezone.now()
    room.participants.filter(left_at__isnull=True).update(left_at=now)
    room.status = ChatRoom.Status.CLOSED
    room.closed_at = now
    room.save(update_fields=["status", "closed_at"])


def _retrying(operation: Callable[[], T]) -> T:
    attempt = 1
    while True:
        try:
            return operation()
        except (OperationalError, IntegrityError) as exc:
            if attempt >= _ATTEMPTS or not _is_transient(exc):
                raise
            logger.info("matchmaking: retrying after %s (attempt %d)", type(exc).__name__, attempt)
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
            attempt += 1


def _is_transient(exc: Exception) -> bool:
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate in _RETRYABLE_SQLSTATES
    return "database is locked" in str(exc)  # SQLite's busy timeout ran out
