"""POST /api/report: the contract and every error (DESIGN section 10)."""

import uuid

import pytest
from django.test import override_settings

from chat.models import ChatMessage
from reports.models import Report

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_files_a_report_against_the_partner_with_the_transcript(chatting):
    alice, bob, room_id = chatting
    ChatMessage.objects.create(room_id=room_id, sender_id=bob.user_id, message="buy followers at spam.example")

    response = alice.api("post", "/api/report", {"room_id": room_id, "reason": "spam", "details": "a bot"})

    assert response.status_code == 201
    report = Report.objects.get()
    assert response.json() == {"id": report.id, "status": "open"}
    assert str(report.reporter_id) == alice.user_id
    assert str(report.reported_user_id) == bob.user_id
    assert (report.reason, report.details) == ("spam", "a bot")
    assert [(line["sender"], line["text"]) for line in report.evidence] == [
        ("reported", "buy followers at spam.example")
    ]


def test_a_partner_who_already_left_can_still_be_reported(chatting):
    alice, bob, room_id = chatting
    bob.api("post", "/api/chat/leave", {"room_id": room_id})
    alice.api("post", "/api/chat/start")  # alice has moved on to a new search

    response = alice.api("post", "/api/report", {"room_id": room_id, "reason": "harassment"})

    assert response.status_code == 201
    assert str(Report.objects.get().reported_user_id) == bob.user_id


def test_a_second_report_of_the_same_pairing_is_a_conflict(chatting):
    alice, _, room_id = chatting
    alice.api("post", "/api/report", {"room_id": room_id, "reason": "spam"})

    response = alice.api("post", "/api/report", {"room_id": room_id, "reason": "hate"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_reported"
    assert Report.objects.get().reason == "spam"


def test_both_partners_may_report_each_other(chatting):
    alice, bob, room_id = chatting
    assert alice.api("post", "/api/report", {"room_id": room_id, "reason": "spam"}).status_code == 201
    assert bob.api("post", "/api/report", {"room_id": room_id, "reason": "other"}).status_code == 201
    assert {(str(r.reporter_id), str(r.reported_user_id)) for r in Report.objects.all()} == {
        (alice.user_id, bob.user_id),
        (bob.user_id, alice.user_id),
    }


def test_an_unknown_room_is_not_found(visitor):
    response = visitor().api("post", "/api/report", {"room_id": str(uuid.uuid4()), "reason": "spam"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_found"


def test_someone_elses_room_is_forbidden(chatting, visitor):
    _, _, room_id = chatting
    response = visitor().api("post", "/api/report", {"room_id": room_id, "reason": "spam"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_participant"
    assert not Report.objects.exists()


def test_a_room_nobody_joined_has_no_one_to_report(visitor):
    alice = visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]

    response = alice.api("post", "/api/report", {"room_id": room_id, "reason": "spam"})

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "no_partner_to_report",
        "detail": "Nobody joined you in this chat room, so there is no one to report.",
    }


@pytest.mark.parametrize(
    "body, mentions",
    [
        ("not json", "JSON parse error"),
        ([1], "JSON object"),
        ({"reason": "spam"}, "room_id"),
        ({"room_id": "nope", "reason": "spam"}, "room_id"),
        ({"room_id": "ROOM"}, "reason"),
        ({"room_id": "ROOM", "reason": "rude"}, '"rude" is not a valid choice'),
        ({"room_id": "ROOM", "reason": "other", "details": "x" * 1001}, "no more than 1000 characters"),
    ],
)
def test_malformed_reports_get_a_clear_400_and_store_nothing(chatting, body, mentions):
    alice, _, room_id = chatting
    if isinstance(body, dict) and body.get("room_id") == "ROOM":
        body = {**body, "room_id": room_id}

    response = alice.api("post", "/api/report", body)

    assert response.status_code == 400
    assert mentions in response.json()["error"]["detail"]
    assert not Report.objects.exists()


def test_a_report_without_the_csrf_token_is_refused(chatting):
    alice, _, room_id = chatting
    response = alice.api("post", "/api/report", {"room_id": room_id, "reason": "spam"}, csrf=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert not Report.objects.exists()


@override_settings(RATE_LIMIT_REPORT_BURST=2, RATE_LIMIT_REPORT_PER_HOUR=1)
def test_reporting_too_often_is_rate_limited_with_the_wait(visitor):
    alice = visitor()
    for _ in range(2):
        alice.api("post", "/api/report", {"room_id": str(uuid.uuid4()), "reason": "spam"})

    response = alice.api("post", "/api/report", {"room_id": str(uuid.uuid4()), "reason": "spam"})

    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert 3000 <= error["retry_after"] <= 3600  # one token an hour, a fraction of it already refilled
    assert response["Retry-After"] == str(error["retry_after"])
