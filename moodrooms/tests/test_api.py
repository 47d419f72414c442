"""The mood room HTTP API (DESIGN section 12) through the paths browsers use."""

import pytest

from moodrooms.models import ChatSession, SessionParticipant
from moodrooms.services import session_message_post, session_reaction_toggle
from moodrooms.tests.factories import BOOKS_ID, CALM_ID, calm, members

pytestmark = pytest.mark.django_db


def join(client, category="calm", **body):
    response = client.api("post", "/api/sessions/join", {"category": category, **body})
    assert response.status_code == 200, response.content
    return response.json()["session"]


def test_the_list_shows_every_mood_with_its_count(visitor):
    members(2)
    body = visitor().get("/api/sessions").json()
    names = [s["name"] for s in body["results"]]
    assert names == ["Motivated", "Hopeful", "Lonely", "Joyful", "Calm", "Loving", "Books"]
    calm_row = next(s for s in body["results"] if s["category"] == "calm")
    assert calm_row == {
        "id": str(CALM_ID), "category": "calm", "name": "Calm", "description": calm().description,
        "max_participants": 6, "current_participants": 2, "is_active": True,
    }


def test_join_by_mood_then_read_members_and_history(visitor):
    alice, bob = visitor(), visitor()
    session = join(alice, mood="tired")
    assert join(bob, "calm")["id"] == session["id"] == str(CALM_ID)
    participants = alice.get(f"/api/sessions/{CALM_ID}/participants").json()["results"]
    assert [p["user_id"] for p in participants] == [alice.user_id, bob.user_id]
    assert participants[0]["mood"] == "tired" and participants[1]["mood"] == ""
    assert set(participants[0]) == {"user_id", "username", "avatar", "mood", "is_muted", "is_speaking", "joined_at"}
    posted = session_message_post(session_id=CALM_ID, user_id=alice.user_id, text="hello", client_id="a1").message
    session_reaction_toggle(session_id=CALM_ID, message_id=posted.id, user_id=bob.user_id, emoji="🤗")
    history = bob.get(f"/api/sessions/{CALM_ID}/messages").json()
    hello = history["results"][-1]
    assert hello["content"] == "hello" and hello["user_id"] == alice.user_id and hello["reply_to"] is None
    assert hello["reactions"] == [{"emoji": "🤗", "count": 1, "mine": True}]
    assert [m["message_type"] for m in history["results"]].count("mood-check") == 1  # bob's own
    assert history["next_before"] is None


def test_outsiders_cannot_read_members_or_history(visitor):
    join(visitor())
    outsider = visitor()
    for path in (f"/api/sessions/{CALM_ID}/participants", f"/api/sessions/{CALM_ID}/messages"):
        response = outsider.get(path)
        assert response.status_code == 403 and response.json()["error"]["code"] == "not_member"
    response = outsider.get("/api/sessions/00000000-0000-4000-8000-000000000000/messages")
    assert response.status_code == 404 and response.json()["error"]["code"] == "session_not_found"


def test_a_full_room_answers_409_room_full(visitor):
    members(6)
    response = visitor().api("post", f"/api/sessions/{CALM_ID}/join", {})
    assert response.status_code == 409
    assert response.json()["error"] == {"code": "room_full", "detail": "This room is full."}


def test_a_fourth_finds_the_small_room_full_and_lands_in_calm_2(visitor):
    ChatSession.objects.filter(id=CALM_ID).update(max_participants=3)
    for client in (visitor(), visitor(), visitor()):
        join(client)
    fourth = visitor()
    assert fourth.api("post", f"/api/sessions/{CALM_ID}/join", {}).status_code == 409
    assert join(fourth)["name"] == "Calm 2"


def test_leave_then_leave_again(visitor):
    alice = visitor()
    join(alice)
    response = alice.api("post", f"/api/sessions/{CALM_ID}/leave")
    assert response.status_code == 200 and response.json() == {"status": "left"}
    assert alice.api("post", f"/api/sessions/{CALM_ID}/leave").status_code == 403
    assert calm().current_participants == 0


def test_joining_another_room_by_id_moves_you(visitor):
    alice = visitor()
    join(alice)
    response = alice.api("post", f"/api/sessions/{BOOKS_ID}/join", {"mood": "curious"})
    assert response.status_code == 200 and response.json()["session"]["current_participants"] == 1
    assert SessionParticipant.objects.get(user_id=alice.user_id, is_active=True).session_id == BOOKS_ID


def test_opening_a_room_checks_the_size_and_is_rate_limited(visitor, settings):
    settings.MOOD_ROOM_CREATE_BURST = 2
    alice = visitor()
    for size in (1, 7):
        response = alice.api("post", "/api/sessions", {"category": "books", "max_participants": size})
        assert response.status_code == 400, size
    assert alice.api("post", "/api/sessions", {"category": "pets"}).status_code == 400
    first = alice.api("post", "/api/sessions", {"category": "books", "max_participants": 2})
    assert first.status_code == 201
    assert first.json()["name"] == "Books 2" and first.json()["max_participants"] == 2
    assert alice.api("post", "/api/sessions", {"category": "books"}).json()["name"] == "Books 3"
    limited = alice.api("post", "/api/sessions", {"category": "books"})
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"


def test_the_mood_check_answer_is_saved(visitor):
    alice = visitor()
    join(alice)
    response = alice.api("post", f"/api/sessions/{CALM_ID}/mood", {"mood": "hopeful"})
    assert response.status_code == 200 and response.json()["mood"] == "hopeful"
    assert alice.api("post", f"/api/sessions/{CALM_ID}/mood", {"mood": "meh"}).status_code == 400


def test_joining_needs_the_csrf_token(visitor):
    response = visitor().api("post", "/api/sessions/join", {"category": "calm"}, csrf=False)
    assert response.status_code == 403
    assert calm().current_participants == 0


def test_the_schema_lists_the_mood_room_endpoints(visitor):
    schema = visitor().get("/api/schema/?format=json").json()
    for path in (
        "/api/sessions", "/api/sessions/join", "/api/sessions/{session_id}/join", "/api/sessions/{session_id}/leave",
        "/api/sessions/{session_id}/messages", "/api/sessions/{session_id}/participants", "/api/me",
    ):
        assert path in schema["paths"], path
    sizes = schema["components"]["schemas"]["MoodSessionInput"]["properties"]["max_participants"]
    assert (sizes["minimum"], sizes["maximum"]) == (2, 6)
