"""Chat writes used by both the room socket and the HTTP API."""

from dataclasses import dataclass
from functools import partial
from datetime import datetime, timedelta
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from chat.events import announce_new_message
from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from chat.moderation import active_ban_for
from chat.names import avatar_for, clean_display_name, display_name_for
from chat.protocol import clean_client_id, clean_message_text, message_event
from chat.selectors import access_room_for, raise_why_not_in_open_room
from whimsy_project import metrics
from whimsy_project.errors import Banned, NoPartnerYet, RoomClosed, RoomNotFound, WhimsyError


@dataclass(frozen=True)
class PostedMessage:
    message: ChatMessage
    created: bool  # False: a resend of a client_id already stored, returned as it was


@transaction.atomic
def message_post(*, room_id: UUID, sender_id: UUID, text: str, client_id: str | None = None) -> PostedMessage:
    """Store a message from a participant of an active room (HTTP) and announce it to the room.

    The socket's path with a membership check in front (a socket checked it at connect).
    Idempotent per client_id: a resend returns the stored message and announces it again,
    so one whose announcement failed still reaches the partner (pages merge by id).
    """
    message = NewMessage(
        room_id=room_id, sender_id=sender_id, text=clean_message_text(text), client_id=clean_client_id(client_id)
    )
    access_room_for(room_id=room_id, user_id=sender_id, open_only=False)
    (result,) = messages_store(messages=[message])
    if isinstance(result, WhimsyError):
        raise result
    announce_new_message(room_id=room_id, event=message_event(result.message))
    return result


@dataclass(frozen=True)
class NewMessage:
    """A message to store: its text and client_id already cleaned, its sender a member of the room."""

    room_id: UUID
    sender_id: UUID
    text: str
    client_id: str | None


def messages_store(*, messages: list[NewMessage]) -> list[PostedMessage | WhimsyError]:
    """Store messages in one transaction: a result (or the refusal) for each, in order.

    The one place a message is stored, for the HTTP API (one message) and the sockets'
    writer (a batch). The sender's membership is the caller's to check (message_post checks
    it; a socket was authorised at connect), and a participation only ends by ending the
    room (leave, move, ban, sweep), so an active room under its lock is proof enough: the
    lock waits for a concurrent Leave to commit, and a message is never stored in a room
    that closed. Idempotent per client_id, also within one batch (the later copy is
    answered with the first). Nothing is announced here: the caller announces after the
    commit, resends included.

    On PostgreSQL the batch is one statement: the round trips of a transaction were most of
    the writer's time under load. Elsewhere it is three queries in a transaction.
    """
    rows = [
        ChatMessage(room_id=m.room_id, sender_id=m.sender_id, message=m.text, client_id=m.client_id) for m in messages
    ]
    if connection.vendor == "postgresql":
        return _store_in_one_statement(rows)
    return _store_in_a_transaction(rows)


@transaction.atomic
def _store_in_a_transaction(rows: list[ChatMessage]) -> list:
    room_ids = sorted({row.room_id for row in rows})
    locked = ChatRoom.objects.select_for_update().filter(id__in=room_ids).order_by("id")  # one lock order
    status_of = dict(locked.values_list("id", "status"))
    stored: dict[tuple, ChatMessage] = {}
    client_ids = {row.client_id for row in rows if row.client_id is not None}
    if client_ids:
        for existing in ChatMessage.objects.filter(room_id__in=room_ids, client_id__in=client_ids):
            stored[_client_key(existing)] = existing
    results, created = _posted_or_refused(rows, status_of=status_of, stored=stored)
    ChatMessage.objects.bulk_create(created)
    untie_timestamps(created)
    _count_stored(created)
    return results


# The transaction's three queries as one statement. The rooms are locked in id order and
# their status is read from the locked rows, so a Leave that committed first is seen. The
# stamps are the database clock's once every room is locked (`locked`), plus a microsecond
# per message in arrival order: a batch that waited for another writer's lock is stamped
# after that writer's messages, so history's (stamp, id) order is the order stored. Ids are
# made in Python, so RETURNING tells which rows went in; a client_id stored by someone else
# meanwhile fails the unique constraint, as a bulk insert would.
_STORE_SQL = """
WITH rooms AS (
    SELECT id, status FROM chat_rooms WHERE id = ANY(%(room_ids)s::uuid[]) ORDER BY id FOR UPDATE
), locked AS (
    SELECT clock_timestamp() AS at FROM (SELECT count(*) FROM rooms) AS every_room_locked
), existing AS (
    SELECT id, room_id, sender_id, message, timestamp, is_system, client_id FROM chat_messages
    WHERE room_id = ANY(%(room_ids)s::uuid[]) AND client_id = ANY(%(client_ids)s::varchar[])
), inserted AS (
    INSERT INTO chat_messages (id, room_id, sender_id, message, timestamp, is_system, client_id)
    SELECT new.id, new.room_id, new.sender_id, new.message, locked.at + new.ord * interval '1 microsecond',
           false, new.client_id
    FROM unnest(%(ids)s::uuid[], %(rooms)s::uuid[], %(senders)s::uuid[], %(texts)s::text[],
                %(client_ids_of_rows)s::varchar[]) WITH ORDINALITY
         AS new(id, room_id, sender_id, message, client_id, ord)
    CROSS JOIN locked
    JOIN rooms ON rooms.id = new.room_id AND rooms.status = 'active'
    WHERE NOT EXISTS (
        SELECT FROM existing WHERE existing.room_id = new.room_id AND existing.client_id = new.client_id
        AND existing.sender_id IS NOT DISTINCT FROM new.sender_id
    )
    RETURNING id, timestamp
)
SELECT 'room', id, status, NULL::uuid, NULL::uuid, NULL::timestamptz, NULL::boolean, NULL::varchar FROM rooms
UNION ALL
SELECT 'stored', id, message, room_id, sender_id, timestamp, is_system, client_id FROM existing
UNION ALL
SELECT 'inserted', id, NULL, NULL, NULL, timestamp, NULL, NULL FROM inserted
"""


def _store_in_one_statement(rows: list[ChatMessage]) -> list:
    # Only a client_id's first copy in the batch goes in; the later ones are answered with it.
    firsts = {}
    for row in rows:
        firsts.setdefault(_client_key(row) if row.client_id is not None else id(row), row)
    candidates = list(firsts.values())
    status_of: dict[UUID, str] = {}
    stored: dict[tuple, ChatMessage] = {}
    stamp_of: dict[UUID, datetime] = {}
    with connection.cursor() as cursor:
        cursor.execute(_STORE_SQL, {
            "room_ids": sorted({row.room_id for row in rows}),
            "client_ids": sorted({row.client_id for row in rows if row.client_id is not None}),
            "ids": [row.id for row in candidates],
            "rooms": [row.room_id for row in candidates],
            "senders": [row.sender_id for row in candidates],
            "texts": [row.message for row in candidates],
            "client_ids_of_rows": [row.client_id for row in candidates],
        })  # fmt: skip
        for what, id_, text, room_id, sender_id, stamp, is_system, client_id in cursor.fetchall():
            if what == "room":
                status_of[id_] = text
            elif what == "stored":
                existing = ChatMessage(
                    id=id_, room_id=room_id, sender_id=sender_id, message=text, timestamp=stamp,
                    is_system=is_system, client_id=client_id,
                )  # fmt: skip
                stored[_client_key(existing)] = existing
            else:
                stamp_of[id_] = stamp
    results, created = _posted_or_refused(rows, status_of=status_of, stored=stored)
    if {row.id for row in created} != stamp_of.keys():
        # Committed already: an ack must never stand for a message that is not stored.
        raise RuntimeError("the statement stored other messages than the batch's rule says")
    for row in created:
        row.timestamp = stamp_of[row.id]
    _count_stored(created)
    return results


def _client_key(message: ChatMessage) -> tuple:
    return (message.room_id, message.sender_id, message.client_id)


def _posted_or_refused(rows: list[ChatMessage], *, status_of: dict, stored: dict):
    """Each message's result, in order, and the rows that are new: a client_id stored already
    (or earlier in the batch) answers with its message; an active room takes the message;
    any other status refuses it."""
    results: list[PostedMessage | WhimsyError] = []
    created: list[ChatMessage] = []
    for row in rows:
        key = _client_key(row)
        if row.client_id is not None and key in stored:
            results.append(PostedMessage(message=stored[key], created=False))
            continue
        status = status_of.get(row.room_id)
        if status is None:
            results.append(RoomNotFound())
        elif status == ChatRoom.Status.CLOSED:
            results.append(RoomClosed())
        elif status == ChatRoom.Status.WAITING:
            results.append(NoPartnerYet())
        else:
            if row.client_id is not None:
                stored[key] = row
            created.append(row)
            results.append(PostedMessage(message=row, created=True))
    return results, created


def _count_stored(created: list[ChatMessage]) -> None:
    if created:
        transaction.on_commit(partial(metrics.MESSAGES_STORED.labels(kind="room").inc, len(created)))


def untie_timestamps(created: list, *, group: str = "room_id", stamp: str = "timestamp") -> None:
    """History is ordered by (stamp, id) and ids are random: one group's messages of a batch
    (bulk-created rows of one model; a 1:1 room's, a mood room's) must have strictly increasing
    stamps in the order they arrived. The clock gives non-decreasing ones; a tie (same
    microsecond) moves the later message 1 µs on."""
    last: dict[UUID, object] = {}
    moved = []
    for row in created:
        key, previous = getattr(row, group), last.get(getattr(row, group))
        if previous is not None and getattr(row, stamp) <= previous:
            setattr(row, stamp, previous + timedelta(microseconds=1))
            moved.append(row)
        last[key] = getattr(row, stamp)
    if moved:
        type(moved[0]).objects.bulk_update(moved, [stamp])


def participant_connect(*, room_id: UUID, user_id: UUID, ip_hash: str) -> None:
    """Authorise a room socket: not banned, and in this open room. Counts as a heartbeat.

    The heartbeat is the check: one UPDATE finds the open participation in the open room;
    only when it finds none are the reasons read (every connect of a reconnect storm pays
    two statements, not five).
    """
    ban = active_ban_for(visitor_id=user_id, ip_hash=ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)
    uuid_field = ChatParticipant._meta.pk
    with connection.cursor() as cursor:  # by hand, as room_state_for: the ORM's build cost more than the UPDATE
        cursor.execute(
            "UPDATE chat_participants SET heartbeat_at = %s"
            " WHERE room_id = %s AND user_id = %s AND left_at IS NULL"
            " AND EXISTS (SELECT 1 FROM chat_rooms WHERE id = %s AND status <> %s)",
            [connection.ops.adapt_datetimefield_value(timezone.now()), uuid_field.get_db_prep_value(room_id, connection),
             uuid_field.get_db_prep_value(user_id, connection), uuid_field.get_db_prep_value(room_id, connection),
             ChatRoom.Status.CLOSED],
        )  # fmt: skip
        vouched = cursor.rowcount
    if not vouched:
        raise_why_not_in_open_room(room_id=room_id, user_id=user_id)


def participants_heartbeat(*, participant_ids: list[UUID]) -> None:
    """Live sockets vouch for their participations; the stale-room sweep spares them."""
    ChatParticipant.objects.filter(id__in=participant_ids, left_at__isnull=True).update(heartbeat_at=timezone.now())


def visitor_lock(*, user_id: UUID, ip_hash: str = "", create: bool) -> Visitor | None:
    """Lock this visitor's row (it serialises one person's concurrent actions), creating it on
    the first Start or mood room join (`create`), with a generated name and avatar.

    With `create`, one upsert inserts the row or touches it (last seen, address) and locks it,
    in one round trip: two first requests of one new visitor racing here both end up holding
    (in turn) the one row, with no unique-violation to retry.
    """
    if not create:
        return Visitor.objects.select_for_update(no_key=True).filter(id=user_id).first()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    upsert = Visitor.objects.raw(
        "INSERT INTO visitors (id, first_seen, last_seen, ip_hash, display_name, avatar)"
        " VALUES (%s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,"
        " ip_hash = CASE WHEN excluded.ip_hash = '' THEN visitors.ip_hash ELSE excluded.ip_hash END"
        " RETURNING id, first_seen, last_seen, ip_hash, display_name, avatar",
        [Visitor._meta.pk.get_db_prep_value(user_id, connection), now, now, ip_hash,
         display_name_for(user_id), avatar_for(user_id)],
    )  # fmt: skip
    return next(iter(upsert))


@transaction.atomic
def visitor_rename(*, user_id: UUID, username: str, ip_hash: str = "") -> Visitor:
    """Change this visitor's display name (PATCH /api/me); their row is created if need be."""
    username = clean_display_name(username)
    visitor = visitor_lock(user_id=user_id, ip_hash=ip_hash, create=True)
    if visitor.display_name != username:
        visitor.display_name = username
        visitor.save(update_fields=["display_name"])
    return visitor
