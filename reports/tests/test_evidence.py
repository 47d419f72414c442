"""A report keeps its own copy of the transcript, taken server-side at report time."""

import pytest
from django.test import override_settings

from chat.models import ChatMessage
from reports.services import report_create
from reports.tests.factories import pair

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_stores_the_last_messages_oldest_first_with_roles_ids_and_times():
    pairing = pair()
    pairing.say(None, "You are now chatting with a stranger.")
    hello = pairing.say(pairing.first, "hi")
    pairing.say(pairing.second, "send pics")

    report = report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="sexual")

    assert [(line["sender"], line["sender_id"], line["text"]) for line in report.evidence] == [
        ("system", None, "You are now chatting with a stranger."),
        ("reporter", str(pairing.first), "hi"),
        ("reported", str(pairing.second), "send pics"),
    ]
    assert report.evidence[1]["id"] == str(hello.id)
    assert report.evidence[1]["timestamp"] == hello.timestamp.isoformat()


@override_settings(REPORT_EVIDENCE_MESSAGES=50)
def test_it_keeps_only_the_last_fifty_messages():
    pairing = pair()
    for number in range(60):
        pairing.say(pairing.second, f"line {number}")

    report = report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="spam")

    assert [line["text"] for line in report.evidence] == [f"line {number}" for number in range(10, 60)]


def test_the_evidence_survives_the_messages_being_purged():
    pairing = pair()
    pairing.say(pairing.second, "you are worthless")
    report = report_create(reporter_id=pairing.first, room_id=pairing.room_id, reason="harassment")

    ChatMessage.objects.filter(room_id=pairing.room_id).delete()

    report.refresh_from_db()
    assert [line["text"] for line in report.evidence] == ["you are worthless"]
