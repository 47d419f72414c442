"""The HTTP contract of start, next and leave (DESIGN section 10)."""

import uuid

import pytest

from chat.models import ChatParticipant, ChatRoom
from reports.models import Ban

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_issues_a_session_and_a_csrf_cookie(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "sessionid" in response.cookies and response.cookies["sessionid"]["httponly"]
    assert response.cookies["sessionid"]["samesite"] == "Lax"
    assert "csrftoken" in response.cookies
    uuid.UUID(client.session["user_id"])


def test_start_then_a_second_visitor_is_paired(visitor):
    alice, bob = visitor(), visitor()

    first = alice.api("post", "/api/chat/start", {"interests": ["Music"], "mode": "text"})
    second = bob.api("post", "/api/chat/start", {"interests": ["music"]})

    assert first.status_code == 200
    assert first.json() == {
        "room_id": first.json()["room_id"],
        "partner_id": None,
        "status": "searching",
        "common_interests": [],
    }
    assert second.json() == {
        "room_id": first.json()["room_id"],
        "partner_id": alice.user_id,
        "status": "chatting",
        "common_interests": ["music"],
    }


def test_identity_comes_from_the_session_not_the_body(visitor):
    alice = visitor()
    response = alice.api("post", "/api/chat/start", {"user_id": str(uuid.uuid4())})
    room_id = response.json()["room_id"]
    assert ChatParticipant.objects.get(room_id=room_id).user_id == uuid.UUID(alice.user_id)


def test_next_returns_a_new_search_and_closes_the_old_room(visitor):
    alice, bob = visitor(), visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    bob.api("post", "/api/chat/start")

    response = alice.api("post", "/api/chat/next", {"room_id": room_id})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "searching" and body["room_id"] != room_id
    assert ChatRoom.objects.get(id=room_id).status == "closed"


def test_leave_answers_left(visitor):
    alice = visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    response = alice.api("post", "/api/chat/leave", {"room_id": room_id})
    assert response.status_code == 200 and response.json() == {"status": "left"}


def test_leave_twice_is_a_conflict(visitor):
    alice = visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    alice.api("post", "/api/chat/leave", {"room_id": room_id})

    response = alice.api("post", "/api/chat/leave", {"room_id": room_id})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_left"


def test_leave_of_a_room_you_are_not_in_is_forbidden_and_changes_nothing(visitor):
    alice, mallory = visitor(), visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]

    response = mallory.api("post", "/api/chat/leave", {"room_id": room_id})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_participant"
    assert ChatRoom.objects.get(id=room_id).status == "waiting"


def test_unknown_room_is_not_found(visitor):
    alice = visitor()
    for path in ("/api/chat/leave", "/api/chat/next"):
        response = alice.api("post", path, {"room_id": str(uuid.uuid4())})
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "room_not_found"


@pytest.mark.parametrize(
    "path, body, mentions",
    [
        ("/api/chat/start", "not json", "JSON parse error"),
        ("/api/chat/start", [1, 2], "JSON object"),
        ("/api/chat/start", {"mode": "telepathy"}, "mode"),
        ("/api/chat/start", {"interests": "music"}, "interests"),
        ("/api/chat/start", {"interests": ["x" * 31]}, "longer than 30"),
        ("/api/chat/start", {"interests": list("abcdef")}, "at most 5"),
        ("/api/chat/leave", {}, "room_id"),
        ("/api/chat/leave", {"room_id": "not-a-uuid"}, "room_id"),
        ("/api/chat/next", {"room_id": 5}, "room_id"),
    ],
)
def test_malformed_bodies_get_a_clear_400_and_change_nothing(visitor, path, body, mentions):
    alice = visitor()
    response = alice.api("post", path, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"invalid", "parse_error"}
    assert mentions in error["detail"]
    assert ChatRoom.objects.count() == 0


def test_missing_csrf_token_is_refused_and_changes_nothing(visitor):
    alice = visitor()
    response = alice.api("post", "/api/chat/start", {}, csrf=False)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "csrf_failed"
    assert ChatRoom.objects.count() == 0


def test_a_banned_visitor_gets_a_clear_403(visitor):
    alice = visitor()
    alice.api("post", "/api/chat/start")
    Ban.objects.create(visitor_id=uuid.UUID(alice.user_id))
    room_id = ChatParticipant.objects.get(user_id=alice.user_id).room_id
    alice.api("post", "/api/chat/leave", {"room_id": str(room_id)})

    response = alice.api("post", "/api/chat/start")

    assert response.status_code == 403
    assert response.json()["error"] == {
        "code": "banned",
        "detail": "You are banned from Whimsy permanently for breaking the rules.",
    }


def test_only_post_is_allowed(visitor):
    response = visitor().get("/api/chat/start")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
