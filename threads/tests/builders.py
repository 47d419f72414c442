"""Builders for thread tests, through the HTTP paths pages use (not a test module)."""

from uuid import UUID

from threads.models import ChatThread


def keep(visitor, room_id) -> dict:
    response = visitor.api("post", "/api/chat/keep", {"room_id": room_id})
    assert response.status_code == 200, response.content
    return response.json()


def kept_thread(alice, bob, room_id) -> str:
    """Both people of the room press Keep in touch: the thread's id."""
    assert keep(alice, room_id) == {"status": "asked", "thread_id": None}
    outcome = keep(bob, room_id)
    assert outcome["status"] == "kept"
    return outcome["thread_id"]


def post(visitor, thread_id: str, body: str, client_id: str):
    return visitor.api("post", f"/api/threads/{thread_id}/messages", {"body": body, "client_id": client_id})


def page(visitor, thread_id: str, **query):
    response = visitor.get(f"/api/threads/{thread_id}/messages", query)
    assert response.status_code == 200, response.content
    return response.json()


def expected_thread_id(*user_ids) -> str:
    return "__".join(sorted(str(UUID(user_id)) for user_id in user_ids))


def thread_row(thread_id: str) -> ChatThread:
    return ChatThread.objects.get(thread_id=thread_id)
