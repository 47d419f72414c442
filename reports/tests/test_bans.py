"""Bans by moderators: what they create, end, announce and settle."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from chat.events import room_group, visitor_group
from chat.models import ChatParticipant, ChatRoom
from matchmaking.services import find_available_room
from reports.models import Ban, Report
from reports.selectors import ban_active_for
from reports.services import BAN_24_HOURS, ban_lift, ban_visitor, report_create, reports_dismiss
from reports.tests.factories import GroupListener, pair, past_pairings
from whimsy_project.errors import Banned

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def moderator():
    return get_user_model().objects.create_user("mod", password="x", is_staff=True)


def test_it_bans_the_visitor_and_their_address_for_the_duration(moderator):
    pairing = pair(ip_hash="f" * 64)
    before = timezone.now()

    ban = ban_visitor(visitor_id=pairing.first, duration=BAN_24_HOURS, by=moderator, reason="spam")

    assert (ban.visitor_id, ban.ip_hash, ban.created_by, ban.reason) == (pairing.first, "f" * 64, moderator, "spam")
    assert before + BAN_24_HOURS <= ban.expires_at <= timezone.now() + BAN_24_HOURS
    assert ban_active_for(visitor_id=uuid.uuid4(), ip_hash="f" * 64) == ban


def test_a_permanent_ban_has_no_end(moderator):
    pairing = pair()
    ban = ban_visitor(visitor_id=pairing.first, duration=None, by=moderator)
    with pytest.raises(Banned) as caught:
        find_available_room(user_id=pairing.first)
    assert ban.expires_at is None
    assert "permanently" in caught.value.detail


def test_it_ends_the_open_room_and_tells_the_partner_and_every_tab(moderator):
    pairing = pair()
    room_events = GroupListener(room_group(pairing.room_id))
    own_events = GroupListener(visitor_group(pairing.second))

    ban = ban_visitor(visitor_id=pairing.second, duration=BAN_24_HOURS, by=moderator)

    assert pairing.room.status == ChatRoom.Status.CLOSED
    assert not ChatParticipant.objects.filter(room_id=pairing.room_id, left_at__isnull=True).exists()
    assert room_events.receive() == {
        "type": "partner.left",
        "room_id": str(pairing.room_id),
        "user_id": str(pairing.second),
        "reason": "banned",
    }
    assert own_events.receive() == {"type": "visitor.banned", "until": ban.expires_at.isoformat()}


def test_a_banned_visitor_cannot_start_and_is_told_until_when(moderator):
    pairing = pair()
    ban = ban_visitor(visitor_id=pairing.second, duration=BAN_24_HOURS, by=moderator)

    with pytest.raises(Banned) as caught:
        find_available_room(user_id=pairing.second)

    assert caught.value.until == ban.expires_at
    assert f"until {ban.expires_at:%Y-%m-%d %H:%M} UTC" in caught.value.detail


def test_banning_settles_every_open_report_against_the_visitor(moderator):
    target = uuid.uuid4()
    reports = [
        report_create(reporter_id=p.second, room_id=p.room_id, reason="spam")
        for p in past_pairings(first=target, seconds=[uuid.uuid4(), uuid.uuid4()])
    ]
    unrelated = pair()
    other = report_create(reporter_id=unrelated.first, room_id=unrelated.room_id, reason="spam")

    ban = ban_visitor(visitor_id=target, duration=None, by=moderator)

    for report in reports:
        report.refresh_from_db()
        assert (report.status, report.handled_by, report.handled_at) == ("actioned", moderator, ban.created_at)
    other.refresh_from_db()
    assert (other.status, other.handled_by) == ("open", None)


def test_dismissing_closes_only_open_reports_and_records_who(moderator):
    pairing = pair()
    report = report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="other")

    assert reports_dismiss(report_ids=[report.id], by=moderator) == 1
    assert reports_dismiss(report_ids=[report.id], by=moderator) == 0

    report.refresh_from_db()
    assert (report.status, report.handled_by) == ("dismissed", moderator)
    assert report.handled_at is not None


def test_lifting_a_ban_lets_the_visitor_back_and_records_who(moderator):
    pairing = pair()
    ban = ban_visitor(visitor_id=pairing.first, duration=None, by=moderator)

    assert ban_lift(ban_id=ban.id, by=moderator) is True
    assert ban_lift(ban_id=ban.id, by=moderator) is False

    ban.refresh_from_db()
    assert ban.lifted_by == moderator and ban.lifted_at is not None
    assert find_available_room(user_id=pairing.first).room_id != pairing.room_id


def test_an_expired_ban_no_longer_keeps_anyone_out():
    visitor_id = uuid.uuid4()
    find_available_room(user_id=visitor_id)
    Ban.objects.create(visitor_id=visitor_id, expires_at=timezone.now() - timedelta(seconds=1))
    assert ban_active_for(visitor_id=visitor_id) is None


def test_a_report_row_survives_its_room_being_deleted():
    pairing = pair()
    report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="spam")
    ChatRoom.objects.filter(id=pairing.room_id).delete()
    assert Report.objects.get().room_id is None
