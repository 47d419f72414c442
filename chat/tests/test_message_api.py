"""POST /api/chat/message (the socket's service over HTTP) and the room history pages."""

import uuid

import pytest

from chat.models import ChatMessage

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_stores_a_message_and_returns_it(chatting):
    alice, bob, room_id = chatting

    response = alice.api("post", "/api/chat/message", {"room_id": room_id, "text": "  hi  ", "client_id": "c1"})

    assert response.status_code == 201
    body = response.json()
    stored = ChatMessage.objects.get()
    assert body == {
        "id": str(stored.id),
        "room_id": room_id,
        "sender_id": alice.user_id,
        "message": "hi",
        "timestamp": body["timestamp"],
        "is_system": False,
        "client_id": "c1",
    }
    assert body["timestamp"].endswith("Z")


def test_a_resend_returns_the_stored_message_with_200(chatting):
    alice, bob, room_id = chatting
    first = alice.api("post", "/api/chat/message", {"room_id": room_id, "text": "hi", "client_id": "c1"})
    again = alice.api("post", "/api/chat/message", {"room_id": room_id, "text": "hi", "client_id": "c1"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ChatMessage.objects.count() == 1


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"text": "   "}, "empty"),
        ({"text": "x" * 2001}, "2000"),
        ({"text": 42}, "text"),
        ({"text": "hi", "client_id": "c" * 65}, "client_id"),
        ({"text": "hi", "client_id": 7}, "client_id"),
    ],
)
def test_it_applies_the_socket_rules(chatting, body, fragment):
    alice, bob, room_id = chatting
    response = alice.api("post", "/api/chat/message", {"room_id": room_id, **body})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid" and fragment in response.json()["error"]["detail"]
    assert not ChatMessage.objects.exists()


def test_outsiders_and_closed_rooms_are_refused(chatting, visitor):
    alice, bob, room_id = chatting
    mallory = visitor()
    refused = mallory.api("post", "/api/chat/message", {"room_id": room_id, "text": "hi"})
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_participant")
    missing = alice.api("post", "/api/chat/message", {"room_id": str(uuid.uuid4()), "text": "hi"})
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "room_not_found")

    bob.api("post", "/api/chat/leave", {"room_id": room_id})
    closed = alice.api("post", "/api/chat/message", {"room_id": room_id, "text": "hi"})
    assert (closed.status_code, closed.json()["error"]["code"]) == (409, "room_closed")
    assert not ChatMessage.objects.exists()


def test_a_waiting_room_has_nobody_to_talk_to(visitor):
    alice = visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    response = alice.api("post", "/api/chat/message", {"room_id": room_id, "text": "anyone?"})
    assert (response.status_code, response.json()["error"]["code"]) == (409, "no_partner")


def test_the_history_returns_every_message_once_across_pages_newest_page_first(chatting, settings):
    settings.MESSAGE_RATE_BURST = 100
    alice, bob, room_id = chatting
    sent = []
    for i in range(23):
        sender = alice if i % 2 == 0 else bob
        sent.append(sender.api("post", "/api/chat/message", {"room_id": room_id, "text": f"m{i}"}).json()["id"])

    pages, before = [], None
    while True:
        query = f"?limit=10&before={before}" if before else "?limit=10"
        body = bob.get(f"/api/chat/rooms/{room_id}/messages{query}").json()
        pages.append([message["id"] for message in body["results"]])
        before = body["next_before"]
        if before is None:
            break

    assert [len(page) for page in pages] == [10, 10, 3]
    assert [message_id for page in reversed(pages) for message_id in page] == sent
    first_page = bob.get(f"/api/chat/rooms/{room_id}/messages").json()["results"]
    assert [m["message"] for m in first_page] == [f"m{i}" for i in range(23)]  # default limit 50


def test_past_participants_may_read_a_closed_room_but_nobody_else(chatting, visitor):
    alice, bob, room_id = chatting
    alice.api("post", "/api/chat/message", {"room_id": room_id, "text": "bye"})
    alice.api("post", "/api/chat/leave", {"room_id": room_id})

    assert [m["message"] for m in bob.get(f"/api/chat/rooms/{room_id}/messages").json()["results"]] == ["bye"]
    refused = visitor().get(f"/api/chat/rooms/{room_id}/messages")
    assert (refused.status_code, refused.json()["error"]["code"]) == (403, "not_participant")


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?limit=x", "?before=nope", f"?before={uuid.uuid4()}"])
def test_bad_history_queries_are_400(chatting, query):
    alice, bob, room_id = chatting
    response = alice.get(f"/api/chat/rooms/{room_id}/messages{query}")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
