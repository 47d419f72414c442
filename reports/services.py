"""Reports and bans: every moderation write goes through here.

Lock order, shared with matchmaking: the reported visitor's row first, then room rows
(through matchmaking.services.leave_room). Locking the reported visitor also serialises
concurrent reports against one person, so the automatic ban is decided once.
"""

from collections.abc import Iterable
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import Group, Permission
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from chat.events import announce_visitor_banned
from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from chat.selectors import access_room_for, participation_open_for
from matchmaking.services import leave_room
from moodrooms.selectors import recently_shared_session, session_evidence
from moodrooms.services import session_leave_any
from reports.models import Ban, Report
from reports.selectors import ban_active_for
from threads.selectors import thread_for_member, thread_last_messages
from threads.services import threads_end_all
from whimsy_project import metrics
from whimsy_project.errors import AlreadyLeft, AlreadyReported, InvalidInput, NoPartnerToReport, NotRoommate

BAN_24_HOURS = timedelta(hours=24)
BAN_7_DAYS = timedelta(days=7)


@transaction.atomic
def report_create(*, reporter_id: UUID, room_id: UUID, reason: str, details: str = "") -> Report:
    """Report the stranger the reporter was paired with in this room, once per pairing.

    The room's last messages are copied into the report, so purging messages later
    does not erase what the moderator needs to see.
    """
    room = access_room_for(room_id=room_id, user_id=reporter_id, open_only=False).room
    others = ChatParticipant.objects.filter(room=room).exclude(user_id=reporter_id)
    partners = set(others.values_list("user_id", flat=True))
    if not partners:
        raise NoPartnerToReport()
    (reported_id,) = partners  # a room is joined once: it never holds more than two people
    reported = Visitor.objects.select_for_update(no_key=True).get(id=reported_id)
    if Report.objects.filter(reporter_id=reporter_id, room=room).exists():
        raise AlreadyReported()
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter_id=reporter_id,
                reported_user=reported,
                room=room,
                reason=reason,
                details=details,
                evidence=_evidence(room=room, reporter_id=reporter_id, reported_id=reported_id),
            )
    except IntegrityError:
        # The same person's two simultaneous reports: the unique constraint kept one.
        raise AlreadyReported() from None
    transaction.on_commit(metrics.REPORTS.inc)
    _auto_ban_if_reported_enough(visitor=reported)
    return report


@transaction.atomic
def report_thread_create(*, reporter_id: UUID, thread_id: str, reason: str, details: str = "") -> Report:
    """Report the other member of a keep-in-touch thread (also after it ended), once per thread.

    The thread's last messages are copied into the report, as for a room.
    """
    thread = thread_for_member(thread_id=thread_id, user_id=reporter_id, ended_too=True)
    reported = Visitor.objects.select_for_update(no_key=True).get(id=thread.partner_of(reporter_id))
    if Report.objects.filter(reporter_id=reporter_id, thread=thread).exists():
        raise AlreadyReported("You have already reported this person's thread.")
    roles = {reporter_id: "reporter", reported.id: "reported"}
    evidence = [
        {
            "id": str(message.id),
            "sender": roles.get(message.sender_id, "unknown"),
            "sender_id": str(message.sender_id) if message.sender_id else None,
            "text": message.body,
            "timestamp": message.created_at.isoformat(),
        }
        for message in thread_last_messages(thread=thread, count=settings.REPORT_EVIDENCE_MESSAGES)
    ]
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter_id=reporter_id, reported_user=reported, thread=thread, reason=reason, details=details,
                evidence=evidence,
            )
    except IntegrityError:
        raise AlreadyReported("You have already reported this person's thread.") from None
    transaction.on_commit(metrics.REPORTS.inc)
    _auto_ban_if_reported_enough(visitor=reported)
    return report


SHARED_SESSION_SECONDS = 10 * 60


@transaction.atomic
def report_session_create(
    *, reporter_id: UUID, session_id: UUID, reported_user_id: UUID, reason: str, details: str = ""
) -> Report:
    """Report someone who shared a mood room with the reporter within the last 10 minutes,
    once per (session, person). The session's last messages, with the text before each
    edit, are copied into the report."""
    if reported_user_id == reporter_id:
        raise InvalidInput("reported_user_id: you cannot report yourself.")
    shared = recently_shared_session(
        reporter_id=reporter_id,
        reported_id=reported_user_id,
        session_id=session_id,
        within_seconds=SHARED_SESSION_SECONDS,
    )
    if not shared:
        raise NotRoommate()
    reported = Visitor.objects.select_for_update(no_key=True).get(id=reported_user_id)
    if Report.objects.filter(reporter_id=reporter_id, session_id=session_id, reported_user=reported).exists():
        raise AlreadyReported("You have already reported this person in this room.")
    roles = {reporter_id: "reporter", reported.id: "reported"}
    evidence = [
        {
            "id": str(message.id),
            "sender": "system" if message.user_id is None else roles.get(message.user_id, "member"),
            "sender_id": str(message.user_id) if message.user_id else None,
            "text": message.content,
            "edits": [edit.previous_content for edit in message.edits.all()],
            "timestamp": message.created_at.isoformat(),
        }
        for message in session_evidence(session_id=session_id, count=settings.REPORT_EVIDENCE_MESSAGES)
    ]
    try:
        with transaction.atomic():
            report = Report.objects.create(
                reporter_id=reporter_id, reported_user=reported, session_id=session_id, reason=reason,
                details=details, evidence=evidence,
            )
    except IntegrityError:
        raise AlreadyReported("You have already reported this person in this room.") from None
    transaction.on_commit(metrics.REPORTS.inc)
    _auto_ban_if_reported_enough(visitor=reported)
    return report


@transaction.atomic
def ban_visitor(
    *, visitor_id: UUID, duration: timedelta | None, by: AbstractBaseUser | None, reason: str = ""
) -> Ban:
    """A moderator's ban (duration None = permanent); the visitor's open reports are settled by it."""
    visitor = Visitor.objects.select_for_update(no_key=True).get(id=visitor_id)
    ban = _impose_ban(visitor=visitor, duration=duration, by=by, reason=reason)
    Report.objects.filter(reported_user=visitor, status=Report.Status.OPEN).update(
        status=Report.Status.ACTIONED, handled_by=by, handled_at=ban.created_at
    )
    return ban


@transaction.atomic
def reports_dismiss(*, report_ids: Iterable[int], by: AbstractBaseUser) -> int:
    """Close open reports as unfounded; returns how many were open."""
    return Report.objects.filter(id__in=list(report_ids), status=Report.Status.OPEN).update(
        status=Report.Status.DISMISSED, handled_by=by, handled_at=timezone.now()
    )


@transaction.atomic
def ban_lift(*, ban_id: int, by: AbstractBaseUser) -> bool:
    """End a ban now; False if it had already been lifted."""
    return bool(
        Ban.objects.filter(id=ban_id, lifted_at__isnull=True).update(lifted_at=timezone.now(), lifted_by=by)
    )


def bans_scrub_ended(*, dry_run: bool = False) -> int:
    """Forget the hashed address of bans that are over (expired or lifted).

    The address hash is kept only while it keeps someone out; the ban itself stays as
    the visitor's history. Bans on an address alone keep their only target.
    """
    ended = Ban.objects.ended(now=timezone.now()).filter(visitor__isnull=False).exclude(ip_hash="")
    if dry_run:
        return ended.count()
    return ended.update(ip_hash="")


MODERATORS_GROUP = "Moderators"
# Exactly what moderation needs: read the queue, visitors, rooms and threads; act on reports; make
# and lift bans. Nothing deletes, and nothing edits a transcript.
MODERATOR_PERMISSIONS = (
    ("reports", "view_report"),
    ("reports", "change_report"),
    ("reports", "view_ban"),
    ("reports", "add_ban"),
    ("reports", "change_ban"),
    ("chat", "view_visitor"),
    ("chat", "view_chatroom"),
    ("chat", "view_chatparticipant"),
    ("chat", "view_chatmessage"),
    ("threads", "view_chatthread"),
    ("threads", "view_threadmessage"),
)


@transaction.atomic
def moderators_group_sync() -> Group:
    """Create the Moderators group, or reset its permissions to exactly MODERATOR_PERMISSIONS."""
    group, _ = Group.objects.get_or_create(name=MODERATORS_GROUP)
    wanted = Q()
    for app_label, codename in MODERATOR_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    permissions = list(Permission.objects.filter(wanted))
    if len(permissions) != len(MODERATOR_PERMISSIONS):
        raise LookupError("Some moderator permissions do not exist yet: run migrate first.")
    group.permissions.set(permissions)
    return group


# --- steps ------------------------------------------------------------------------


def _impose_ban(*, visitor: Visitor, duration: timedelta | None, by: AbstractBaseUser | None, reason: str) -> Ban:
    """Create the ban, end the visitor's open room, mood room and threads (the others are told)
    and close their sockets."""
    now = timezone.now()
    ban = Ban.objects.create(
        visitor=visitor,
        ip_hash=visitor.ip_hash,
        reason=reason,
        created_by=by,
        expires_at=now + duration if duration is not None else None,
    )
    transaction.on_commit(metrics.BANS.labels(how="moderator" if by is not None else "automatic").inc)
    # Announced first (on-commit callbacks run in order), so the banned visitor's sockets
    # hear "banned" before the room's partner_left or the thread's thread_closed and close
    # with 4003, not as a plain leave.
    announce_visitor_banned(user_id=visitor.id, until=ban.expires_at.isoformat() if ban.expires_at else None)
    participation = participation_open_for(user_id=visitor.id)
    if participation is not None:
        try:
            leave_room(user_id=visitor.id, room_id=participation.room_id, reason="banned")
        except AlreadyLeft:
            pass  # the partner ended the room a moment ago: nothing left to end
    session_leave_any(user_id=visitor.id, reason="banned")  # the mood room is told
    # Nobody could answer the partner any more; the messages stay, for reports of the thread.
    threads_end_all(user_id=visitor.id)
    return ban


def _auto_ban_if_reported_enough(*, visitor: Visitor) -> Ban | None:
    """Ban for AUTO_BAN_HOURS once AUTO_BAN_REPORTERS distinct people reported within the window.

    Someone already banned is not banned again. Reports about chats that began before
    the visitor's latest ban were answered by it (even when they arrive after it), as were
    mood room and thread reports filed before it, and dismissed ones were judged
    unfounded: none of them counts. The reports stay open so that
    a moderator reviews the automatic decision.
    """
    threshold = settings.AUTO_BAN_REPORTERS
    if not threshold or ban_active_for(visitor_id=visitor.id) is not None:
        return None
    now = timezone.now()
    counted = Report.objects.filter(
        reported_user=visitor, created_at__gte=now - timedelta(hours=settings.AUTO_BAN_WINDOW_HOURS)
    ).exclude(status=Report.Status.DISMISSED)
    last_ban = Ban.objects.filter(visitor=visitor).aggregate(at=Max("created_at"))["at"]
    if last_ban is not None:
        # A 1:1 report is about a chat with a start; a mood room or thread report (no room)
        # is about the recent conduct it was filed on, so its own time decides.
        counted = counted.filter(Q(room__created_at__gt=last_ban) | Q(room__isnull=True, created_at__gt=last_ban))
    reporters = counted.values("reporter_id").distinct().count()
    if reporters < threshold:
        return None
    return _impose_ban(
        visitor=visitor,
        duration=timedelta(hours=settings.AUTO_BAN_HOURS),
        by=None,
        reason=f"Automatic: reported by {reporters} people within {settings.AUTO_BAN_WINDOW_HOURS} h.",
    )


def _evidence(*, room: ChatRoom, reporter_id: UUID, reported_id: UUID) -> list[dict]:
    """The room's last messages, oldest first, each sender named by role and id."""
    roles = {reporter_id: "reporter", reported_id: "reported"}
    latest = (
        ChatMessage.objects.filter(room=room)
        .order_by("-timestamp", "-id")
        .values("id", "sender_id", "message", "timestamp", "is_system")[: settings.REPORT_EVIDENCE_MESSAGES]
    )
    return [
        {
            "id": str(message["id"]),
            "sender": "system" if message["is_system"] else roles.get(message["sender_id"], "unknown"),
            "sender_id": str(message["sender_id"]) if message["sender_id"] else None,
            "text": message["message"],
            "timestamp": message["timestamp"].isoformat(),
        }
        for message in reversed(latest)
    ]
