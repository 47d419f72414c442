"""Mood room writes, used by the HTTP API, the room socket and the housekeeping command.

Lock order, the same in every transaction, so no cycle of waits can form:
1. the caller's visitor row (chat.services.visitor_lock): one person's joins and leaves
   run one at a time;
2. the seeded session of every category involved, by id: the category's lock, so joins
   and openings within a category run one at a time, see each other's committed counts,
   and never both open "Calm 2";
3. the session rows involved, by id, in one statement: current_participants changes
   only under this lock, in the transaction that adds or ends a stay, so it always
   equals the active members and the database's check keeps it <= max_participants;
4. a member's own stay row, then a message row (messages, edits, reactions): these
   never wait for anything of steps 1-3.
Frames about a change are announced to the session's group after the commit.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from chat.events import announce_frame, send_to_group_on_commit, session_group
from chat.models import Visitor
from chat.moderation import active_ban_for
from chat.protocol import clean_client_id, clean_message_text
from chat.selectors import socket_gone
from chat.services import untie_timestamps, visitor_lock
from moodrooms.models import Category, ChatSession, MessageEdit, MessageReaction, SessionMessage, SessionParticipant
from moodrooms.prompts import starter_for
from moodrooms.protocol import (
    EDIT_WINDOW_SECONDS,
    MOOD_CHECK_TEXT,
    MOODS,
    REACTION_EMOJI,
    SYSTEM_SENDER,
    message_edited_frame,
    new_message_frame,
    reaction_frame,
    user_joined_frame,
    user_left_frame,
    user_updated_frame,
)
from moodrooms.selectors import (
    SessionAccess,
    access_session_for,
    active_participation_for,
    reaction_count,
    reactions_of,
    visible_messages,
)
from whimsy_project import metrics
from whimsy_project.errors import (
    Banned,
    EditWindowClosed,
    InvalidInput,
    MessageNotFound,
    NotAuthor,
    NotMember,
    RoomFull,
    SessionClosed,
    SessionNotFound,
    WhimsyError,
)

# How long an opened session may wait for its first member before the sweep closes it.
EMPTY_SESSION_GRACE = timedelta(minutes=10)


def clean_category(category: str) -> str:
    value = category.strip().lower() if isinstance(category, str) else ""
    if value not in Category.values:
        raise InvalidInput(f"category: one of {', '.join(Category.values)}.")
    return value


def clean_mood(mood: str | None) -> str:
    if mood is None or mood == "":
        return ""
    value = mood.strip().lower() if isinstance(mood, str) else ""
    if value not in MOODS:
        raise InvalidInput(f"mood: one of {', '.join(MOODS)}.")
    return value


# --- joining and leaving ----------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    session: ChatSession
    participant: SessionParticipant
    joined: bool  # False: the visitor was already in this session, and nothing changed


def session_join_by_category(*, user_id: UUID, category: str, mood: str | None = "", ip_hash: str = "") -> Joined:
    """Join the fullest open session of this mood with a free place, or open the next one
    ("Calm 2", ...). Already in a session of this mood: stay there."""
    return _join(user_id=user_id, ip_hash=ip_hash, mood=clean_mood(mood), category=clean_category(category))


def session_join(*, user_id: UUID, session_id: UUID, mood: str | None = "", ip_hash: str = "") -> Joined:
    """Join this session (RoomFull when it has no free place); a session the visitor is in
    already is returned as it is. Joining leaves the visitor's other session."""
    return _join(user_id=user_id, ip_hash=ip_hash, mood=clean_mood(mood), session_id=session_id)


@transaction.atomic
def _join(*, user_id: UUID, ip_hash: str, mood: str, category: str | None = None, session_id: UUID | None = None):
    visitor = visitor_lock(user_id=user_id, ip_hash=ip_hash, create=True)
    ban = active_ban_for(visitor_id=user_id, ip_hash=visitor.ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)
    current = active_participation_for(user_id=user_id)
    if session_id is not None:
        category = ChatSession.objects.filter(id=session_id).values_list("category", flat=True).first()
        if category is None:
            raise SessionNotFound()
        if current is not None and current.session_id == session_id:
            return Joined(session=current.session, participant=current, joined=False)
    elif current is not None and current.session.category == category:
        return Joined(session=current.session, participant=current, joined=False)

    _lock_categories({category} | ({current.session.category} if current else set()))
    target, locked = _lock_target(category=category, session_id=session_id, current=current)
    if not target.is_active:
        raise SessionClosed()
    if target.current_participants >= target.max_participants:
        raise RoomFull()
    if current is not None:
        _end_stay(current, session=locked[current.session_id], visitor=visitor, reason="left")
    participant = SessionParticipant.objects.create(session=target, user=visitor, mood=mood)
    target.current_participants += 1
    target.save(update_fields=["current_participants", "updated_at"])
    announce_frame(group=session_group(target.id), frame=user_joined_frame(participant))
    _post_system(target, f"{visitor.username} joined")
    if not mood:
        # Private: only the joiner sees it (in their history); their answer sets their mood.
        SessionMessage.objects.create(
            session=target,
            recipient=visitor,
            sender_name=SYSTEM_SENDER,
            content=MOOD_CHECK_TEXT,
            message_type=SessionMessage.Type.MOOD_CHECK,
        )
    return Joined(session=target, participant=participant, joined=True)


@transaction.atomic
def session_leave(*, user_id: UUID, session_id: UUID, reason: str = "left") -> None:
    """End the visitor's stay in this session; an emptied overflow session closes."""
    visitor = visitor_lock(user_id=user_id, create=False)
    current = active_participation_for(user_id=user_id) if visitor is not None else None
    if current is None or current.session_id != session_id:
        if not ChatSession.objects.filter(id=session_id).exists():
            raise SessionNotFound()
        raise NotMember()
    session = _lock_sessions({session_id})[session_id]
    _end_stay(current, session=session, visitor=visitor, reason=reason)


def session_leave_any(*, user_id: UUID, reason: str) -> UUID | None:
    """End whatever session stay this visitor has (a ban, a lost socket); the session's id or None."""
    current = active_participation_for(user_id=user_id)
    if current is None:
        return None
    try:
        session_leave(user_id=user_id, session_id=current.session_id, reason=reason)
    except NotMember:  # it ended meanwhile
        return None
    return current.session_id


@transaction.atomic
def session_create(
    *, user_id: UUID, category: str, description: str = "", max_participants: int = 6, ip_hash: str = ""
) -> ChatSession:
    """Open a new session of a listed mood (the caller joins it like any other)."""
    category = clean_category(category)
    visitor = visitor_lock(user_id=user_id, ip_hash=ip_hash, create=True)
    ban = active_ban_for(visitor_id=user_id, ip_hash=visitor.ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)
    _lock_categories({category})
    return _open_session(
        category=category, created_by=visitor, description=description.strip(), max_participants=max_participants
    )


def _lock_categories(categories: set[str]) -> None:
    list(ChatSession.objects.select_for_update().filter(is_seeded=True, category__in=categories).order_by("id"))


def _lock_target(
    *, category: str, session_id: UUID | None, current: SessionParticipant | None
) -> tuple[ChatSession, dict[UUID, ChatSession]]:
    """Lock the session to join (this one, or the mood's pick) and the visitor's current one.

    A leave takes no mood lock, so the last member of a picked overflow session may close it
    between the pick and its lock: then the mood's next pick is taken instead.
    """
    excluding = current.session_id if current else None
    while True:
        target_id = session_id or _fullest_with_a_place(category=category, excluding=excluding)
        if target_id is None:
            target_id = _open_session(category=category, created_by=None).id
        locked = _lock_sessions({target_id} | ({excluding} if excluding else set()))
        if session_id is not None or locked[target_id].is_active:
            return locked[target_id], locked


def _lock_sessions(ids: set[UUID]) -> dict[UUID, ChatSession]:
    locked = ChatSession.objects.select_for_update().filter(id__in=ids).order_by("id")
    return {session.id: session for session in locked}


def _fullest_with_a_place(*, category: str, excluding: UUID | None) -> UUID | None:
    # Read under the category's lock, in a statement of its own: it sees every count
    # committed by the joins before us.
    candidates = ChatSession.objects.filter(category=category, is_active=True)
    if excluding is not None:
        candidates = candidates.exclude(id=excluding)
    return (
        candidates.filter(current_participants__lt=F("max_participants"))
        .order_by("-current_participants", "created_at", "id")
        .values_list("id", flat=True)
        .first()
    )


def _open_session(
    *, category: str, created_by: Visitor | None, description: str = "", max_participants: int = 6
) -> ChatSession:
    """A new session named after its mood and the lowest free number: "Calm 2", "Calm 3", ..."""
    label = Category(category).label
    seeded = ChatSession.objects.filter(category=category, is_seeded=True).only("description").first()
    used = set()
    for name in ChatSession.objects.filter(category=category, is_active=True, is_seeded=False).values_list(
        "name", flat=True
    ):
        match = re.fullmatch(rf"{re.escape(label)} (\d+)", name)
        if match:
            used.add(int(match.group(1)))
    number = next(n for n in range(2, len(used) + 3) if n not in used)
    return ChatSession.objects.create(
        category=category,
        name=f"{label} {number}",
        description=description or (seeded.description if seeded else ""),
        max_participants=max_participants,
        created_by=created_by,
    )


def _end_stay(participant: SessionParticipant, *, session: ChatSession, visitor: Visitor, reason: str) -> None:
    """End a stay in a locked session: the count follows, an emptied overflow session closes."""
    SessionParticipant.objects.filter(id=participant.id).update(is_active=False, left_at=timezone.now())
    session.current_participants -= 1
    fields = ["current_participants", "updated_at"]
    if session.current_participants == 0 and not session.is_seeded:
        session.is_active = False
        fields.append("is_active")
    session.save(update_fields=fields)
    # Not a bare socket.frame: the leaver's own sockets (other tabs, a move made over HTTP,
    # a moderator's retire) close on it.
    send_to_group_on_commit(
        session_group(session.id),
        {
            "type": "session.member_left",
            "user_id": str(visitor.id),
            "reason": reason,
            "text": user_left_frame(user_id=visitor.id, reason=reason),
        },
    )
    _post_system(session, f"{visitor.username} left")


def _post_system(session: ChatSession, text: str) -> SessionMessage:
    message = SessionMessage.objects.create(
        session=session, sender_name=SYSTEM_SENDER, content=text, message_type=SessionMessage.Type.SYSTEM
    )
    announce_frame(group=session_group(session.id), frame=new_message_frame(message))
    return message


# --- a member's actions -----------------------------------------------------------------


@dataclass(frozen=True)
class PostedMessage:
    message: SessionMessage
    created: bool  # False: a resend of a client_id already stored, returned as it was


@transaction.atomic
def session_message_post(
    *, session_id: UUID, user_id: UUID, text: str, client_id: str | None = None, reply_to: UUID | None = None
) -> PostedMessage:
    """Store a member's message and announce it after the commit; idempotent per client_id
    (a resend returns the stored message and announces nothing)."""
    message = NewSessionMessage(  # the batch matches ids by value: UUIDs, whatever the caller passed
        session_id=UUID(str(session_id)),
        user_id=UUID(str(user_id)),
        text=clean_message_text(text),
        client_id=clean_client_id(client_id),
        reply_to=UUID(str(reply_to)) if reply_to is not None else None,
    )
    (result,) = session_messages_store(messages=[message])
    if isinstance(result, Exception):
        raise result
    if result.created:
        announce_frame(group=session_group(session_id), frame=new_message_frame(result.message))
    return result


@dataclass(frozen=True)
class NewSessionMessage:
    """A member's message to store: its text and client_id already cleaned."""

    session_id: UUID
    user_id: UUID
    text: str
    client_id: str | None
    reply_to: UUID | None = None


@transaction.atomic
def session_messages_store(*, messages: list[NewSessionMessage]) -> list[PostedMessage | WhimsyError]:
    """Store members' messages in one transaction: a result (or the refusal) for each, in order.

    The one place a member's message is stored, for session_message_post (one) and the
    sockets' writer (a batch, chat.message_writer). Each sender must hold an active stay in
    the message's session (the stays are locked, in id order, as _lock_stay locks one: a
    concurrent leave commits first or waits); a reply_to must be a message of that session
    the sender may see. Idempotent per client_id, also within one batch (the later copy is
    answered with the first). Nothing is announced here: the caller announces after the commit.
    """
    senders = {(message.session_id, message.user_id) for message in messages}
    stays = {
        (stay.session_id, stay.user_id): stay
        for stay in SessionParticipant.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(
            session_id__in={session_id for session_id, _ in senders},
            user_id__in={user_id for _, user_id in senders},
            is_active=True,
        )
        .order_by("id")
    }
    missing = {session_id for session_id, user_id in senders if (session_id, user_id) not in stays}
    open_sessions = set(
        ChatSession.objects.filter(id__in=missing, is_active=True).values_list("id", flat=True) if missing else []
    )
    reply_ids = {message.reply_to for message in messages if message.reply_to is not None}
    replied = {}  # message id -> (session_id, recipient_id)
    if reply_ids:
        rows = SessionMessage.objects.filter(id__in=reply_ids).values_list("id", "session_id", "recipient_id")
        replied = {id_: (session_id, recipient_id) for id_, session_id, recipient_id in rows}
    stored: dict[tuple, SessionMessage] = {}
    client_ids = {message.client_id for message in messages if message.client_id is not None}
    if client_ids:
        for existing in SessionMessage.objects.filter(
            session_id__in={message.session_id for message in messages}, client_id__in=client_ids
        ):
            stored[(existing.session_id, existing.user_id, existing.client_id)] = existing
    results: list[PostedMessage | WhimsyError] = []
    created: list[SessionMessage] = []
    for message in messages:
        key = (message.session_id, message.user_id, message.client_id)
        stay = stays.get((message.session_id, message.user_id))
        if stay is None:
            results.append(NotMember() if message.session_id in open_sessions else SessionNotFound())
            continue
        if message.client_id is not None and key in stored:
            results.append(PostedMessage(message=stored[key], created=False))
            continue
        # visible_messages' rule: a message of this session, public or addressed to the sender.
        if message.reply_to is not None and replied.get(message.reply_to) not in (
            (message.session_id, None),
            (message.session_id, message.user_id),
        ):
            results.append(InvalidInput("reply_to: there is no such message in this room."))
            continue
        row = SessionMessage(
            session_id=message.session_id,
            user_id=message.user_id,
            sender_name=stay.user.username,
            content=message.text,
            reply_to_id=message.reply_to,
            client_id=message.client_id,
        )
        if message.client_id is not None:
            stored[key] = row
        created.append(row)
        results.append(PostedMessage(message=row, created=True))
    SessionMessage.objects.bulk_create(created)
    untie_timestamps(created, group="session_id", stamp="created_at")
    if created:
        transaction.on_commit(partial(metrics.MESSAGES_STORED.labels(kind="session").inc, len(created)))
    return results


@transaction.atomic
def session_message_edit(*, session_id: UUID, message_id: UUID, user_id: UUID, text: str) -> SessionMessage:
    """The author changes their message within EDIT_WINDOW_SECONDS; the old text is kept."""
    text = clean_message_text(text)
    _lock_stay(session_id=session_id, user_id=user_id)
    message = SessionMessage.objects.select_for_update().filter(id=message_id, session_id=session_id).first()
    if message is None:
        raise MessageNotFound()
    if message.user_id != user_id or message.message_type != SessionMessage.Type.TEXT:
        raise NotAuthor()
    now = timezone.now()
    if now - message.created_at > timedelta(seconds=EDIT_WINDOW_SECONDS):
        raise EditWindowClosed()
    if text == message.content:
        return message
    MessageEdit.objects.create(message=message, previous_content=message.content)
    message.content = text
    message.is_edited = True
    message.edited_at = now
    message.save(update_fields=["content", "is_edited", "edited_at"])
    reactions = reactions_of(message_ids=[message.id], user_id=user_id).get(message.id, [])
    # "mine" is the editor's view; the page keeps its own flags for chips it already shows.
    announce_frame(group=session_group(session_id), frame=message_edited_frame(message, reactions=reactions))
    return message


@dataclass(frozen=True)
class ReactionToggled:
    message_id: UUID
    emoji: str
    user_id: UUID
    added: bool
    count: int


@transaction.atomic
def session_reaction_toggle(*, session_id: UUID, message_id: UUID, user_id: UUID, emoji: str) -> ReactionToggled:
    """Add this member's reaction, or take it back; everyone sees the new count."""
    if emoji not in REACTION_EMOJI:
        raise InvalidInput(f"emoji: one of {' '.join(REACTION_EMOJI)}.")
    _lock_stay(session_id=session_id, user_id=user_id)
    # The message's lock orders toggles of one message, so each announced count is the
    # count after that toggle.
    message = (
        visible_messages(session_id=session_id, user_id=user_id)
        .filter(id=message_id, message_type__in=[SessionMessage.Type.TEXT, SessionMessage.Type.AI_PROMPT])
        .select_for_update()
        .first()
    )
    if message is None:
        raise MessageNotFound()
    deleted, _ = MessageReaction.objects.filter(message=message, user_id=user_id, emoji=emoji).delete()
    added = not deleted
    if added:
        MessageReaction.objects.create(message=message, user_id=user_id, emoji=emoji)
    toggled = ReactionToggled(
        message_id=message.id,
        emoji=emoji,
        user_id=user_id,
        added=added,
        count=reaction_count(message_id=message.id, emoji=emoji),
    )
    announce_frame(
        group=session_group(session_id),
        frame=reaction_frame(message_id=message.id, emoji=emoji, user_id=user_id, added=added, count=toggled.count),
    )
    return toggled


@transaction.atomic
def session_mood_set(*, session_id: UUID, user_id: UUID, mood: str) -> SessionParticipant:
    """A member's answer to the mood-check (or a change of heart); the room sees it."""
    mood = clean_mood(mood)
    if not mood:
        raise InvalidInput(f"mood: one of {', '.join(MOODS)}.")
    participant = _lock_stay(session_id=session_id, user_id=user_id)
    if participant.mood != mood:
        participant.mood = mood
        participant.save(update_fields=["mood"])
        announce_frame(group=session_group(session_id), frame=user_updated_frame(participant))
    return participant


@transaction.atomic
def session_participant_mute(*, session_id: UUID, user_id: UUID, is_muted: bool) -> SessionParticipant:
    """Store a member's mute, so it outlives a resume and shows in room_joined. The voice
    socket announces the change with the live voice state (moodrooms.voice)."""
    participant = _lock_stay(session_id=session_id, user_id=user_id)
    if participant.is_muted != is_muted:
        participant.is_muted = is_muted
        participant.save(update_fields=["is_muted"])
    return participant


def session_member_connect(*, session_id: UUID, user_id: UUID, ip_hash: str) -> SessionAccess:
    """Authorise a session socket: not banned, and a member of this open session. Counts
    as a heartbeat (so a member lost before this reconnect is not ended: session_member_lost)."""
    ban = active_ban_for(visitor_id=user_id, ip_hash=ip_hash)
    if ban is not None:
        raise Banned(ban.expires_at)
    access = access_session_for(session_id=session_id, user_id=user_id)
    session_members_heartbeat(participant_ids=[access.participant.id])
    return access


@transaction.atomic
def session_member_lost(*, session_id: UUID, user_id: UUID, since: datetime) -> bool:
    """End a member whose sockets went without leaving at `since` and did not come back
    within the grace; nothing if they reconnected after `since` or left already."""
    visitor = visitor_lock(user_id=user_id, create=False)
    participant = (
        SessionParticipant.objects.filter(session_id=session_id, user_id=user_id, is_active=True)
        .exclude(heartbeat_at__gt=since)
        .first()
    )
    if visitor is None or participant is None:
        return False
    session = _lock_sessions({session_id})[session_id]
    _end_stay(participant, session=session, visitor=visitor, reason="lost")
    return True


def session_members_heartbeat(*, participant_ids: list[UUID]) -> None:
    """Live sockets vouch for their members' stays; the stale-membership sweep spares them."""
    SessionParticipant.objects.filter(id__in=participant_ids, is_active=True).update(heartbeat_at=timezone.now())


def _lock_stay(*, session_id: UUID, user_id: UUID) -> SessionParticipant:
    participant = (
        SessionParticipant.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(session_id=session_id, user_id=user_id, is_active=True)
        .first()
    )
    if participant is not None:
        return participant
    if not ChatSession.objects.filter(id=session_id, is_active=True).exists():
        raise SessionNotFound()
    raise NotMember()


# --- prompts and housekeeping -----------------------------------------------------------


@transaction.atomic
def session_prompt_if_quiet(*, session_id: UUID) -> SessionMessage | None:
    """Post a conversation starter that fits the mood if this session has members and no
    message for MOOD_ROOM_QUIET_SECONDS; never two starters in a row."""
    session = (
        ChatSession.objects.select_for_update(skip_locked=True)
        .filter(id=session_id, is_active=True, current_participants__gt=0)
        .first()
    )
    if session is None:
        return None
    public = SessionMessage.objects.filter(session=session, recipient__isnull=True)
    last = public.order_by("-created_at", "-id").only("created_at", "message_type").first()
    if last is not None and last.message_type == SessionMessage.Type.AI_PROMPT:
        return None
    quiet_since = last.created_at if last is not None else session.created_at
    if timezone.now() - quiet_since < timedelta(seconds=settings.MOOD_ROOM_QUIET_SECONDS):
        return None
    recent = set(
        public.filter(message_type=SessionMessage.Type.AI_PROMPT)
        .order_by("-created_at")
        .values_list("content", flat=True)[:3]
    )
    message = SessionMessage.objects.create(
        session=session,
        sender_name=SYSTEM_SENDER,
        content=starter_for(category=session.category, avoid=recent),
        message_type=SessionMessage.Type.AI_PROMPT,
    )
    announce_frame(group=session_group(session.id), frame=new_message_frame(message))
    return message


def sessions_prompt_quiet() -> int:
    """One pass over the sessions with members; returns how many got a starter."""
    ids = ChatSession.objects.filter(is_active=True, current_participants__gt=0).values_list("id", flat=True)
    return sum(1 for session_id in list(ids) if session_prompt_if_quiet(session_id=session_id) is not None)


def session_members_sweep(*, stale_after: timedelta, connect_grace: timedelta, dry_run: bool = False) -> int:
    """End the stays whose socket is gone without a goodbye (a crashed server process):
    its heartbeat is older than `stale_after`, or it never connected within `connect_grace`."""
    stale = SessionParticipant.objects.filter(
        socket_gone(stale_after=stale_after, connect_grace=connect_grace), is_active=True
    ).values_list("user_id", "session_id")
    if dry_run:
        return stale.count()
    ended = 0
    for user_id, session_id in list(stale):
        try:
            session_leave(user_id=user_id, session_id=session_id, reason="lost")
            ended += 1
        except (NotMember, SessionNotFound):  # left meanwhile
            pass
    return ended


def sessions_close_empty(*, older_than: timedelta = EMPTY_SESSION_GRACE, dry_run: bool = False) -> int:
    """Close overflow sessions nobody has been in for `older_than` (seeded ones stay)."""
    cutoff = timezone.now() - older_than
    empty = ChatSession.objects.filter(is_active=True, is_seeded=False, current_participants=0, updated_at__lt=cutoff)
    if dry_run:
        return empty.count()
    closed = 0
    for session_id in list(empty.values_list("id", flat=True)):
        with transaction.atomic():
            session = _lock_sessions({session_id})[session_id]
            if session.is_active and session.current_participants == 0:
                session.is_active = False
                session.save(update_fields=["is_active", "updated_at"])
                closed += 1
    return closed


# --- moderators (admin) -----------------------------------------------------------------


@transaction.atomic
def session_update(*, session_id: UUID, description: str, max_participants: int) -> ChatSession:
    """A moderator changes a session's description or size; never below who is in it now."""
    session = _lock_sessions({session_id}).get(session_id)
    if session is None:
        raise SessionNotFound()
    if max_participants < session.current_participants:
        raise InvalidInput(
            f"max_participants: {session.current_participants} people are in this room now; it cannot be smaller."
        )
    session.description = description
    session.max_participants = max_participants
    session.save(update_fields=["description", "max_participants", "updated_at"])
    return session


def session_retire(*, session_id: UUID) -> int:
    """A moderator closes a session: everyone in it leaves (reason "closed"); how many did."""
    ended = 0
    for user_id in list(
        SessionParticipant.objects.filter(session_id=session_id, is_active=True).values_list("user_id", flat=True)
    ):
        try:
            session_leave(user_id=user_id, session_id=session_id, reason="closed")
            ended += 1
        except NotMember:  # left meanwhile
            pass
    with transaction.atomic():
        session = _lock_sessions({session_id})[session_id]
        if session.current_participants == 0:  # nobody joined meanwhile
            session.is_active = False
            session.save(update_fields=["is_active", "updated_at"])
    return ended
