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
from datetime import datetime, timedelta
from typing import TypeVar
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone

from chat.events import announce_partner_joined, announce_partner_left
from chat.models import ChatParticipant, ChatRoom, RoomInterest, Visitor
from chat.moderation import active_ban_for
from chat.selectors import access_room_for, participation_open_for
from chat.services import visitor_lock
from whimsy_project import metrics
from whimsy_project.errors import AlreadyLeft, Banned, InvalidInput, NotParticipant, RoomNotFound

logger = logging.getLogger(__name__)

T = TypeVar("T")

# SQLSTATEs worth a second try: serialization_failure, deadlock_detected, and
# unique_violation (two first requests of one new visitor racing to create its row).
_RETRYABLE_SQLSTATES = {"40001", "40P01", "23505"}
_ATTEMPTS = 6


@dataclass(frozen=True)
class Match:
    room_id: UUID
    partner_id: UUID | None
    common_interests: list[str] = field(default_factory=list)
    # Set only by the call that paired two strangers, for the metrics: the room's mode and
    # how long the one who waited in it had waited since their Start (the room opened then).
    paired_mode: str | None = None
    waited_seconds: float = 0.0

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
    return _after_start(match, user_id=user_id, mode=mode)


def _after_start(match: "Match", *, user_id: UUID, mode: str) -> "Match":
    """After the commit of a Start or Next: count it, and settle a waiting person if others wait."""
    metrics.STARTS.labels(mode=mode).inc()
    _count_pairing(match)
    if match.partner_id is None and _others_are_waiting(mode=mode, own_room_id=match.room_id):
        return settle_waiting_user(user_id=user_id) or match
    return match


def settle_waiting_user(*, user_id: UUID) -> Match | None:
    """If this user is waiting and another waiting room suits them, move them into it."""
    match = _retrying(lambda: _settle(user_id=user_id))
    if match is not None:
        _count_pairing(match)
    return match


def _count_pairing(match: Match) -> None:
    """After the commit: a retried transaction is counted once."""
    if match.paired_mode is not None:
        metrics.PAIRS.labels(mode=match.paired_mode).inc()
        metrics.TIME_TO_MATCH.labels(mode=match.paired_mode).observe(match.waited_seconds)


def leave_room(*, user_id: UUID, room_id: UUID, reason: str = "ended") -> None:
    """End the room for both people; the partner is told at once, and why (partner_left reason:
    ended, banned, lost)."""
    _retrying(lambda: _leave(user_id=user_id, room_id=room_id, already_left_ok=False, reason=reason))


def room_member_lost(*, room_id: UUID, user_id: UUID, since: datetime) -> bool:
    """End the room of a member whose last socket vanished at `since` (closed without leave, or
    its server died) and who did not come back within the grace: the partner is told `lost`.
    False if a socket of theirs connected again since, or the room is over already."""
    return _retrying(lambda: _lose(room_id=room_id, user_id=user_id, since=since))


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
    outcome, mode = _retrying(lambda: _next(user_id=user_id, room_id=room_id, mode=mode, tags=tags, ip_hash=ip_hash))
    if isinstance(outcome, Banned):
        raise outcome  # after the commit: the chat they skipped has ended all the same
    return _after_start(outcome, user_id=user_id, mode=mode)


# --- the transactions -------------------------------------------------------------


@transaction.atomic
def _join_or_wait(*, user_id: UUID, mode: str, tags: list[str], ip_hash: str) -> Match:
    visitor = visitor_lock(user_id=user_id, ip_hash=ip_hash, create=True)
    banned = _banned(visitor)
    if banned is not None:
        raise banned
    return _join_or_wait_locked(visitor=visitor, mode=mode, tags=tags)


@transaction.atomic
def _next(
    *, user_id: UUID, room_id: UUID, mode: str | None, tags: list[str], ip_hash: str
) -> tuple[Match | Banned, str]:
    """Leave and start again in one transaction: one visitor lock and one commit, not two."""
    visitor = visitor_lock(user_id=user_id, ip_hash=ip_hash, create=True)
    # If the partner left first, this user's participation has ended already: Next is
    # exactly what they want now, not an error.
    old_room = _leave_locked(user_id=user_id, room_id=room_id, already_left_ok=True, reason="skipped")
    mode = mode or old_room.mode
    return _banned(visitor) or _join_or_wait_locked(visitor=visitor, mode=mode, tags=tags), mode


def _banned(visitor: Visitor) -> Banned | None:
    ban = active_ban_for(visitor_id=visitor.id, ip_hash=visitor.ip_hash)
    return None if ban is None else Banned(ban.expires_at)


def _join_or_wait_locked(*, visitor: Visitor, mode: str, tags: list[str]) -> Match:
    """The caller holds the visitor's lock and has checked for a ban."""
    user_id = visitor.id
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
    visitor = visitor_lock(user_id=user_id, create=False)
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
def _leave(*, user_id: UUID, room_id: UUID, already_left_ok: bool, reason: str) -> ChatRoom:
    visitor_lock(user_id=user_id, create=False)
    return _leave_locked(user_id=user_id, room_id=room_id, already_left_ok=already_left_ok, reason=reason)


def _leave_locked(*, user_id: UUID, room_id: UUID, already_left_ok: bool, reason: str) -> ChatRoom:
    participation = access_room_for(room_id=room_id, user_id=user_id, open_only=False, lock=True)
    room = participation.room
    if participation.left_at is not None:
        if already_left_ok:
            return room
        raise AlreadyLeft()
    _end_room(room)
    announce_partner_left(room_id=room.id, user_id=user_id, reason=reason)
    return room


@transaction.atomic
def _lose(*, room_id: UUID, user_id: UUID, since: datetime) -> bool:
    visitor_lock(user_id=user_id, create=False)
    try:
        participation = access_room_for(room_id=room_id, user_id=user_id, open_only=True, lock=True)
    except (NotParticipant, RoomNotFound):
        return False
    if participation.heartbeat_at is not None and participation.heartbeat_at > since:
        return False  # a socket of theirs connected (and vouched) after the last one vanished
    _end_room(participation.room)
    announce_partner_left(room_id=room_id, user_id=user_id, reason="lost")
    return True


# --- steps inside those transactions ----------------------------------------------


def _claim_waiting_room(*, user_id: UUID, mode: str, tags: list[str], fallback_open: bool) -> ChatRoom | None:
    """Lock the oldest waiting room this user may join, preferring a shared interest.

    A room whose occupant has interests is open to strangers without a shared one
    only after that occupant has waited INTEREST_FALLBACK_SECONDS; so is the caller.
    One statement, which also reads who is waiting there (`waiting_user_id`). It is
    written in SQL because building it through the ORM cost more CPU than the rest of a
    Start together (see docs/decisions.md); `vendor` adds the PostgreSQL row lock.
    """
    if not tags and not fallback_open:
        return None
    now = timezone.now()
    pk = ChatRoom._meta.pk
    at = connection.ops.adapt_datetimefield_value
    me = pk.get_db_prep_value(user_id, connection)
    tag_list = ", ".join(["%s"] * len(tags))
    shared = f"EXISTS (SELECT 1 FROM chat_room_interests i WHERE i.room_id = r.id AND i.tag IN ({tag_list}))"
    eligible = []
    if tags:
        eligible.append(shared)
    if fallback_open:
        eligible.append("(NOT EXISTS (SELECT 1 FROM chat_room_interests i WHERE i.room_id = r.id) OR r.created_at <= %s)")
    lock = ""
    if connection.features.has_select_for_update_skip_locked:
        lock = "FOR UPDATE OF r SKIP LOCKED" if connection.features.has_select_for_update_of else "FOR UPDATE SKIP LOCKED"
    sql = f"""
        SELECT r.id, r.created_at, r.status, r.closed_at, r.mode, r.common_interests,
               (SELECT p.user_id FROM chat_participants p WHERE p.room_id = r.id AND p.left_at IS NULL LIMIT 1)
                 AS waiting_user_id
        FROM chat_rooms r
        WHERE r.status = %s AND r.mode = %s
          AND NOT EXISTS (
            SELECT 1 FROM chat_participants p WHERE p.room_id = r.id AND (
              p.user_id = %s
              OR p.user_id IN (
                SELECT other.user_id FROM chat_participants other
                WHERE other.user_id <> %s AND other.room_id IN (
                  SELECT mine.room_id FROM chat_participants mine WHERE mine.user_id = %s AND mine.left_at >= %s))
              OR (p.left_at IS NULL AND (p.heartbeat_at < %s OR (p.heartbeat_at IS NULL AND p.joined_at < %s)))))
          AND ({" OR ".join(eligible)})
        ORDER BY {f"CASE WHEN {shared} THEN 0 ELSE 1 END, " if tags else ""}r.created_at, r.id
        LIMIT 1
        {lock}
    """
    params = [
        ChatRoom.Status.WAITING, mode, me, me, me,
        at(now - timedelta(seconds=settings.NO_REMATCH_SECONDS)),
        # The occupant's socket is gone: no heartbeat for three beats, or never connected in time.
        at(now - timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)),
        at(now - timedelta(seconds=settings.SOCKET_CONNECT_GRACE_SECONDS)),
        *(tags if tags else []),
        *([at(now - timedelta(seconds=settings.INTEREST_FALLBACK_SECONDS))] if fallback_open else []),
        *(tags if tags else []),
    ]  # fmt: skip
    room = next(iter(ChatRoom.objects.raw(sql, params)), None)
    if room is not None:
        room.waiting_user_id = pk.to_python(room.waiting_user_id)
    return room


def _others_are_waiting(*, mode: str, own_room_id: UUID) -> bool:
    """A cheap look, without locks, before the settle step's transaction: usually nobody is."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM chat_rooms WHERE status = %s AND mode = %s AND id <> %s LIMIT 1",
            [ChatRoom.Status.WAITING, mode, ChatRoom._meta.pk.get_db_prep_value(own_room_id, connection)],
        )
        return cursor.fetchone() is not None


def _join(room: ChatRoom, *, visitor: Visitor, tags: list[str], moved: bool = False) -> Match:
    """Join a room claimed by _claim_waiting_room, which also read who is waiting in it."""
    partner_id = room.waiting_user_id
    room.status = ChatRoom.Status.ACTIVE
    if tags:
        room.common_interests = sorted(set(tags) & set(room.interests.values_list("tag", flat=True)))
    _write_together(
        _insert(ChatParticipant(room=room, user=visitor)),
        _update(ChatRoom.objects.filter(id=room.id), status=room.status, common_interests=room.common_interests),
    )
    announce_partner_joined(
        room_id=room.id,
        user_ids=(partner_id, visitor.id),
        common_interests=room.common_interests,
        moved_user_id=visitor.id if moved else None,
    )
    return Match(
        room_id=room.id,
        partner_id=partner_id,
        common_interests=room.common_interests,
        paired_mode=room.mode,
        waited_seconds=(timezone.now() - room.created_at).total_seconds(),
    )


def _open_waiting_room(*, visitor: Visitor, mode: str, tags: list[str]) -> Match:
    room = ChatRoom(mode=mode)
    _write_together(
        _insert(room),
        _insert(ChatParticipant(room=room, user=visitor)),
        *(_insert(RoomInterest(room=room, tag=tag)) for tag in tags),
    )
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
    room.status = ChatRoom.Status.CLOSED
    room.closed_at = timezone.now()
    _write_together(
        _update(room.participants.filter(left_at__isnull=True), left_at=room.closed_at),
        _update(ChatRoom.objects.filter(id=room.id), status=room.status, closed_at=room.closed_at),
    )


def _write_together(*writes: tuple[str, tuple]) -> None:
    """These writes in one round trip on PostgreSQL (data-modifying CTEs of one statement), one
    by one elsewhere. They must not need each other's effects: the parts of one PostgreSQL
    statement share its snapshot (foreign keys are checked at the commit, Django makes them
    deferred)."""
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for sql, params in writes:
                cursor.execute(sql, params)
            return
        *first, (last_sql, _) = writes
        cursor.execute(
            "WITH " + ", ".join(f"w{n} AS ({sql})" for n, (sql, _) in enumerate(first)) + " " + last_sql,
            [param for _, params in writes for param in params],
        )


def _insert(row) -> tuple[str, tuple]:
    """The INSERT that Model.save() would send for this new row (defaults and auto_now_add applied)."""
    meta = type(row)._meta
    fields = [f for f in meta.local_concrete_fields if not (f is meta.auto_field and row.pk is None)]
    query = InsertQuery(type(row))
    query.insert_values(fields, [row])
    return query.get_compiler(connection=connection).as_sql()[0]


def _update(rows, **values) -> tuple[str, tuple]:
    """The UPDATE that rows.update(**values) would send."""
    query = rows.query.chain(UpdateQuery)
    query.add_update_values(values)
    return query.get_compiler(connection=connection).as_sql()


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
