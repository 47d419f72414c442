"""Moderation of keep-in-touch threads: a report carries the thread's last 50 messages, a ban
stops posting, closes the banned member's thread sockets and ends the thread for the other."""

import uuid

import pytest
from asgiref.sync import sync_to_async

from chat.tests.sockets import communicator, expect_close, receive
from reports.models import Report
from reports.services import ban_visitor
from threads.models import ThreadMessage
from threads.tests.builders import kept_thread, post


@pytest.fixture
def thread(chatting):
    alice, bob, room_id = chatting
    return alice, bob, kept_thread(alice, bob, room_id)


def report(visitor, body):
    return visitor.api("post", "/api/report", body)


@pytest.mark.django_db
def test_a_member_reports_the_other_with_the_threads_last_50_messages_as_evidence(thread, settings):
    settings.MESSAGE_RATE_BURST = 100
    alice, bob, thread_id = thread
    for i in range(55):
        post(bob if i % 2 else alice, thread_id, f"m{i}", f"c{i}")
    alice.api("delete", f"/api/threads/{thread_id}")  # ending it first does not stop the report

    response = report(alice, {"thread_id": thread_id, "reason": "harassment", "details": "rude"})

    assert response.status_code == 201
    stored = Report.objects.get(id=response.json()["id"])
    assert stored.thread_id == thread_id and stored.room_id is None
    assert str(stored.reported_user_id) == bob.user_id and str(stored.reporter_id) == alice.user_id
    assert [line["text"] for line in stored.evidence] == [f"m{i}" for i in range(5, 55)]
    assert {line["sender"] for line in stored.evidence} == {"reporter", "reported"}
    ThreadMessage.objects.all().delete()  # a purge later keeps the report's copy
    stored.refresh_from_db()
    assert len(stored.evidence) == 50


@pytest.mark.django_db
def test_a_thread_is_reported_once_per_member_and_only_by_its_members(thread, visitor):
    alice, bob, thread_id = thread
    assert report(alice, {"thread_id": thread_id, "reason": "spam"}).status_code == 201

    again = report(alice, {"thread_id": thread_id, "reason": "spam"})
    outsider = report(visitor(), {"thread_id": thread_id, "reason": "spam"})

    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    assert outsider.status_code == 404 and outsider.json()["error"]["code"] == "thread_not_found"
    assert report(bob, {"thread_id": thread_id, "reason": "spam"}).status_code == 201
    assert Report.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("target", [{}, {"room_id": str(uuid.uuid4()), "thread_id": "x__y"}])
def test_a_report_names_exactly_one_room_or_thread(visitor, target):
    response = report(visitor(), {"reason": "spam", **target})
    assert response.status_code == 400
    assert "exactly one" in response.json()["error"]["detail"]


@pytest.mark.django_db
def test_a_banned_member_cannot_post_nor_keep_in_touch(thread):
    alice, bob, thread_id = thread
    ban_visitor(visitor_id=uuid.UUID(alice.user_id), duration=None, by=None, reason="test")

    response = post(alice, thread_id, "still here", "b-1")

    assert response.status_code == 403 and response.json()["error"]["code"] == "banned"
    assert not ThreadMessage.objects.exists()
    refused = alice.api("post", "/api/chat/keep", {"room_id": str(uuid.uuid4())})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "banned"


@pytest.mark.django_db(transaction=True)
async def test_a_ban_closes_the_banned_members_thread_socket_and_ends_the_thread_for_the_other(thread):
    alice, bob, thread_id = thread
    sockets = []
    for member in (alice, bob):
        socket = communicator(f"/ws/threads/{thread_id}/", member)
        assert (await socket.connect(timeout=5))[0]
        assert (await receive(socket))["type"] == "thread_state"
        sockets.append(socket)
    alice_socket, bob_socket = sockets

    await sync_to_async(ban_visitor)(visitor_id=uuid.UUID(alice.user_id), duration=None, by=None, reason="test")

    error = await receive(alice_socket)
    assert error["type"] == "error" and error["code"] == "banned"
    await expect_close(alice_socket, 4003)
    assert await receive(bob_socket) == {"type": "thread_closed", "thread_id": thread_id}
    await expect_close(bob_socket, 4004)
