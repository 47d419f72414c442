"""GET /api/chat/rooms/<id>/messages?after=<message_id>: what a resumed page missed."""

import uuid

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def _post(client, room_id, text):
    return client.api("post", "/api/chat/message", {"room_id": room_id, "text": text}).json()["id"]


def test_it_returns_only_the_messages_after_the_given_one_oldest_first(chatting, settings):
    settings.MESSAGE_RATE_BURST = 100
    alice, bob, room_id = chatting
    sent = [_post(alice if i % 2 == 0 else bob, room_id, f"m{i}") for i in range(7)]

    body = bob.get(f"/api/chat/rooms/{room_id}/messages?after={sent[2]}").json()

    assert [m["id"] for m in body["results"]] == sent[3:]
    assert body["next_before"] == sent[3]


def test_it_pages_forward_with_the_limit_and_gives_nothing_after_the_newest(chatting, settings):
    settings.MESSAGE_RATE_BURST = 100
    alice, bob, room_id = chatting
    sent = [_post(alice, room_id, f"m{i}") for i in range(5)]

    first = bob.get(f"/api/chat/rooms/{room_id}/messages?after={sent[0]}&limit=2").json()["results"]
    second = bob.get(f"/api/chat/rooms/{room_id}/messages?after={first[-1]['id']}&limit=2").json()["results"]
    last = bob.get(f"/api/chat/rooms/{room_id}/messages?after={sent[-1]}").json()

    assert [m["id"] for m in first + second] == sent[1:]
    assert last["results"] == []


@pytest.mark.parametrize("query", ["?after=nope", f"?after={uuid.uuid4()}", "?after={id}&before={id}"])
def test_bad_after_queries_are_400(chatting, query):
    alice, bob, room_id = chatting
    message_id = _post(alice, room_id, "hi")

    response = bob.get(f"/api/chat/rooms/{room_id}/messages{query.format(id=message_id)}")

    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
