"""The automatic temporary ban after K distinct reporters within a window."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.events import visitor_group
from reports.models import Ban, Report
from reports.services import ban_lift, ban_visitor, report_create, reports_dismiss
from reports.tests.factories import GroupListener, pair, past_pairings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def auto_ban_rules(settings):
    settings.AUTO_BAN_REPORTERS = 3
    settings.AUTO_BAN_WINDOW_HOURS = 24
    settings.AUTO_BAN_HOURS = 24


def reported_by(target: uuid.UUID, *, reporters: list[uuid.UUID] | None = None, count: int = 0) -> list[Report]:
    """Each reporter meets `target` in a new room, `target` leaves, the reporter reports."""
    pairings = past_pairings(first=target, seconds=reporters or [uuid.uuid4() for _ in range(count)])
    return [report_create(reporter_id=p.second, room_id=p.room_id, reason="harassment") for p in pairings]


def test_it_bans_for_a_day_on_the_third_distinct_reporter_as_the_system():
    target = uuid.uuid4()
    reported_by(target, count=2)
    assert not Ban.objects.exists()
    listener = GroupListener(visitor_group(target))

    reported_by(target, count=1)

    ban = Ban.objects.get()
    assert ban.visitor_id == target and ban.created_by is None
    assert ban.reason == "Automatic: reported by 3 people within 24 h."
    assert timedelta(hours=23, minutes=59) < ban.expires_at - timezone.now() <= timedelta(hours=24)
    assert listener.receive()["type"] == "visitor.banned"
    # a moderator still reviews the automatic decision
    assert set(Report.objects.values_list("status", flat=True)) == {"open"}


def test_the_ban_ends_the_room_the_visitor_is_in_when_it_strikes():
    target = uuid.uuid4()
    reported_by(target, count=2)
    live = pair(first=target)

    report_create(reporter_id=live.second, room_id=live.room_id, reason="hate")

    assert live.room.status == "closed"


def test_one_person_reporting_three_times_counts_once(settings):
    settings.NO_REMATCH_SECONDS = 0  # the same two people meet three times
    target, reporter = uuid.uuid4(), uuid.uuid4()
    reported_by(target, reporters=[reporter, reporter, reporter])
    assert Report.objects.count() == 3
    assert not Ban.objects.exists()


def test_reports_older_than_the_window_do_not_count():
    target = uuid.uuid4()
    old = reported_by(target, count=2)
    Report.objects.filter(id__in=[r.id for r in old]).update(created_at=timezone.now() - timedelta(hours=25))

    reported_by(target, count=1)

    assert not Ban.objects.exists()


def test_dismissed_reports_do_not_count(admin_user):
    target = uuid.uuid4()
    unfounded = reported_by(target, count=2)
    reports_dismiss(report_ids=[r.id for r in unfounded], by=admin_user)

    reported_by(target, count=1)

    assert not Ban.objects.exists()


def test_reports_already_answered_by_a_ban_do_not_count_again(admin_user):
    target = uuid.uuid4()
    reported_by(target, count=2)
    ban = ban_visitor(visitor_id=target, duration=timedelta(hours=1), by=admin_user)
    ban_lift(ban_id=ban.id, by=admin_user)

    reported_by(target, count=1)

    assert Ban.objects.count() == 1


def test_zero_reporters_turns_automatic_bans_off(settings):
    settings.AUTO_BAN_REPORTERS = 0
    target = uuid.uuid4()
    reported_by(target, count=4)
    assert not Ban.objects.exists()


def test_reports_of_earlier_chats_arriving_after_the_ban_do_not_ban_again():
    target = uuid.uuid4()
    pairings = past_pairings(first=target, seconds=[uuid.uuid4() for _ in range(5)])

    for pairing in pairings:
        report_create(reporter_id=pairing.second, room_id=pairing.room_id, reason="spam")

    assert Ban.objects.count() == 1
