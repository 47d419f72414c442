"""A ban ends every keep-in-touch thread of the banned visitor, as if they had ended it: the
partners' sockets hear thread_closed, the API answers 410, and the messages stay for reports."""

import uuid

import pytest
from asgiref.sync import sync_to_async

from chat.events import thread_group
from chat.tests.sockets import communicator, expect_close, receive
from reports.models import Ban, Report
from reports.services import BAN_24_HOURS, ban_visitor
from reports.tests.factories import GroupListener
from chat.models import Visitor
from threads.models import ChatThread, ThreadMessage
from threads.tests.builders import keep, kept_thread, post

pytestmark = pytest.mark.django_db(transaction=True)


def own_address(visitor) -> None:
    """The test clients share one address: a ban of this visitor must keep out only them."""
    Visitor.objects.filter(id=visitor.user_id).update(ip_hash=visitor.user_id.replace("-", "") * 2)


def kept_after_chat(first, second) -> str:
    """`first` waits, `second` joins, both keep in touch, then the chat ends: their thread's id."""
    room_id = first.api("post", "/api/chat/start").json()["room_id"]
    assert second.api("post", "/api/chat/start").json()["room_id"] == room_id
    thread_id = kept_thread(first, second, room_id)
    assert first.api("post", "/api/chat/leave", {"room_id": room_id}).status_code == 200
    return thread_id


@pytest.fixture
def threads(visitor):
    """bob kept in touch with alice and with carol; alice and carol with each other."""
    alice, bob, carol = visitor(), visitor(), visitor()
    with_alice = kept_after_chat(alice, bob)
    with_carol = kept_after_chat(carol, bob)
    apart = kept_after_chat(alice, carol)
    post(alice, with_alice, "hi bob", "a-1")
    post(bob, with_alice, "hi alice", "b-1")
    own_address(bob)
    return alice, bob, carol, with_alice, with_carol, apart


async def open_thread(member, thread_id):
    socket = communicator(f"/ws/threads/{thread_id}/", member)
    assert (await socket.connect(timeout=5))[0]
    assert (await receive(socket))["type"] == "thread_state"
    return socket


async def test_a_moderators_ban_ends_the_visitors_threads_and_their_partners_are_told(threads):
    alice, bob, carol, with_alice, with_carol, apart = threads
    alice_socket = await open_thread(alice, with_alice)
    carol_socket = await open_thread(carol, with_carol)
    bob_socket = await open_thread(bob, with_alice)
    apart_socket = await open_thread(alice, apart)

    await sync_to_async(ban_visitor)(visitor_id=uuid.UUID(bob.user_id), duration=BAN_24_HOURS, by=None)

    for socket, thread_id in ((alice_socket, with_alice), (carol_socket, with_carol)):
        assert await receive(socket) == {"type": "thread_closed", "thread_id": thread_id}
        await expect_close(socket, 4004)
    # The banned member's own socket is told of the ban, not of an ordinary end.
    assert (await receive(bob_socket))["code"] == "banned"
    await expect_close(bob_socket, 4003)
    assert await apart_socket.receive_nothing(timeout=0.3)  # a thread without bob goes on
    await apart_socket.disconnect()


def test_the_partner_finds_the_thread_ended_its_messages_kept_and_can_still_report_it(threads):
    alice, bob, carol, with_alice, with_carol, apart = threads

    ban_visitor(visitor_id=uuid.UUID(bob.user_id), duration=None, by=None, reason="test")

    for response in (alice.get(f"/api/threads/{with_alice}/messages"), post(alice, with_alice, "bob?", "a-2")):
        assert response.status_code == 410 and response.json()["error"]["code"] == "thread_ended"
    assert [thread["thread_id"] for thread in alice.get("/api/threads").json()["results"]] == [apart]
    assert carol.get("/api/threads").json()["results"][0]["thread_id"] == apart
    assert ChatThread.objects.get(thread_id=apart).closed_at is None
    assert ThreadMessage.objects.filter(thread_id=with_alice).count() == 2

    reported = alice.api("post", "/api/report", {"thread_id": with_alice, "reason": "harassment"})

    assert reported.status_code == 201
    assert [line["text"] for line in Report.objects.get(id=reported.json()["id"]).evidence] == ["hi bob", "hi alice"]


def test_an_automatic_ban_ends_the_threads_too(threads, settings):
    settings.AUTO_BAN_REPORTERS = 2
    alice, bob, carol, with_alice, with_carol, apart = threads
    listener = GroupListener(thread_group(with_carol))
    assert alice.api("post", "/api/report", {"thread_id": with_alice, "reason": "spam"}).status_code == 201
    assert ChatThread.objects.get(thread_id=with_alice).closed_at is None

    assert carol.api("post", "/api/report", {"thread_id": with_carol, "reason": "spam"}).status_code == 201

    assert Ban.objects.get().visitor_id == uuid.UUID(bob.user_id)
    assert set(ChatThread.objects.filter(closed_at__isnull=False).values_list("thread_id", flat=True)) == {
        with_alice,
        with_carol,
    }
    assert listener.receive()["type"] == "thread.closed"
    response = carol.get(f"/api/threads/{with_carol}/messages")
    assert response.status_code == 410 and response.json()["error"]["code"] == "thread_ended"


def test_no_thread_is_made_with_someone_banned_after_the_chat(chatting):
    alice, bob, room_id = chatting
    assert keep(bob, room_id) == {"status": "asked", "thread_id": None}
    own_address(bob)
    ban_visitor(visitor_id=uuid.UUID(bob.user_id), duration=None, by=None, reason="test")  # the chat ends too

    response = alice.api("post", "/api/chat/keep", {"room_id": room_id})

    assert response.status_code == 409 and response.json()["error"]["code"] == "keep_expired"
    assert not ChatThread.objects.exists()
