"""manage.py purge_messages: old messages of closed rooms go, in batches; evidence stays."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.management.commands.purge_messages import Command
from chat.models import ChatMessage
from matchmaking.services import leave_room
from reports.services import report_create
from reports.tests.factories import pair

pytestmark = pytest.mark.django_db(transaction=True)


def aged(message, days):
    ChatMessage.objects.filter(id=message.id).update(timestamp=timezone.now() - timedelta(days=days))


def test_it_deletes_old_messages_of_closed_rooms_in_batches_and_keeps_the_rest():
    closed, live = pair(), pair()
    old = [closed.say(closed.first, f"old {n}") for n in range(5)]
    for message in old:
        aged(message, 8)
    recent = closed.say(closed.second, "yesterday")
    aged(recent, 1)
    old_but_live = live.say(live.first, "still chatting")
    aged(old_but_live, 8)
    leave_room(user_id=closed.first, room_id=closed.room_id)
    out = StringIO()

    Command(stdout=out).handle(older_than=timedelta(days=7), batch_size=2, dry_run=False)

    assert out.getvalue().splitlines()[0] == "Deleted 5 messages."
    assert set(ChatMessage.objects.values_list("message", flat=True)) == {"yesterday", "still chatting"}


def test_dry_run_counts_and_deletes_nothing():
    pairing = pair()
    aged(pairing.say(pairing.first, "old"), 30)
    leave_room(user_id=pairing.first, room_id=pairing.room_id)
    out = StringIO()

    call_command("purge_messages", "--older-than", "7d", "--dry-run", stdout=out)

    assert out.getvalue().splitlines()[0] == "Would delete 1 messages."
    assert ChatMessage.objects.count() == 1


def test_report_evidence_outlives_the_purge():
    pairing = pair()
    aged(pairing.say(pairing.second, "threat"), 10)
    leave_room(user_id=pairing.first, room_id=pairing.room_id)
    report = report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="harassment")

    call_command("purge_messages", "--older-than", "7d", stdout=StringIO())

    report.refresh_from_db()
    assert not ChatMessage.objects.exists()
    assert [line["text"] for line in report.evidence] == ["threat"]


def test_the_age_is_required_and_checked():
    with pytest.raises(CommandError, match="--older-than"):
        call_command("purge_messages")
    with pytest.raises(CommandError, match="'7 days' is not a duration"):
        call_command("purge_messages", "--older-than", "7 days")
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("purge_messages", "--older-than", "7d", "--batch-size", "0")
