"""Reports arriving at once, on PostgreSQL with real threads and separate connections."""

import uuid

import pytest

from conftest import run_concurrently
from reports.models import Ban, Report
from reports.services import report_create
from reports.tests.factories import pair, past_pairings
from whimsy_project.errors import AlreadyReported

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_reports_by_many_people_ban_once(settings):
    settings.AUTO_BAN_REPORTERS = 3
    target = uuid.uuid4()
    pairings = past_pairings(first=target, seconds=[uuid.uuid4() for _ in range(6)])

    run_concurrently(
        lambda i: report_create(reporter_id=pairings[i].second, room_id=pairings[i].room_id, reason="spam"), 6
    )

    assert Report.objects.filter(reported_user_id=target).count() == 6
    assert Ban.objects.filter(visitor_id=target).count() == 1


def test_the_same_report_sent_twice_at_once_is_stored_once():
    pairing = pair()

    def report(_):
        try:
            return report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="spam").id
        except AlreadyReported:
            return "already_reported"

    outcomes = run_concurrently(report, 8)

    assert Report.objects.count() == 1
    assert sorted(map(str, outcomes)) == sorted([str(Report.objects.get().id)] + ["already_reported"] * 7)
