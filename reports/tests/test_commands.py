"""manage.py expire_bans and moderation_stats."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from matchmaking.services import find_available_room
from reports.models import Ban
from reports.services import ban_visitor, report_create
from reports.tests.factories import pair

pytestmark = pytest.mark.django_db(transaction=True)


def run(name, *args) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_expire_bans_removes_the_address_hash_of_ended_bans_only(admin_user):
    expired, lifted, current = (uuid.uuid4() for _ in range(3))
    for visitor_id in (expired, lifted, current):
        find_available_room(user_id=visitor_id, ip_hash=visitor_id.hex * 2)
        ban_visitor(visitor_id=visitor_id, duration=timedelta(hours=1), by=admin_user)
    Ban.objects.filter(visitor_id=expired).update(expires_at=timezone.now() - timedelta(seconds=1))
    Ban.objects.filter(visitor_id=lifted).update(lifted_at=timezone.now())
    address_only = Ban.objects.create(ip_hash="a" * 64, expires_at=timezone.now() - timedelta(days=1))

    assert run("expire_bans", "--dry-run").strip() == "Would mark 2 ended bans (hashed address removed)."
    assert Ban.objects.exclude(ip_hash="").count() == 4

    assert run("expire_bans").strip() == "Marked 2 ended bans (hashed address removed)."
    hashes = dict(Ban.objects.filter(visitor__isnull=False).values_list("visitor_id", "ip_hash"))
    assert hashes == {expired: "", lifted: "", current: current.hex * 2}
    assert Ban.objects.get(id=address_only.id).ip_hash == "a" * 64
    assert run("expire_bans").strip() == "Marked 0 ended bans (hashed address removed)."


def test_moderation_stats_prints_the_days_figures(admin_user):
    pairing = pair()
    pairing.say(pairing.first, "hi")
    report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="spam")
    find_available_room(user_id=uuid.uuid4())  # someone waiting
    ban_visitor(visitor_id=pairing.second, duration=None, by=admin_user)

    lines = dict(line.split() for line in run("moderation_stats").strip().splitlines())

    assert lines == {
        "open_reports": "0",
        "reports_last_24h": "1",
        "active_bans": "1",
        "bans_last_24h": "1",
        "automatic_bans_last_24h": "0",
        "waiting_rooms": "1",
        "active_rooms": "0",
        "rooms_last_24h": "2",
        "messages_last_24h": "1",
    }
