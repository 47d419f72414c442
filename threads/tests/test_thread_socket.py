"""The thread socket over the full ASGI application: members only, new_message after the commit,
typing relayed to the other member, thread_closed to both, a ban closes it."""

import pytest
from asgiref.sync import sync_to_async

from chat.tests.sockets import MOVE_HANDLED, communicator, expect_close, receive, tell_of_a_move
from threads.tests.builders import kept_thread, post

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def thread(chatting):
    alice, bob, room_id = chatting
    return alice, bob, kept_thread(alice, bob, room_id)


async def open_thread(visitor, thread_id):
    socket = communicator(f"/ws/threads/{thread_id}/", visitor)
    connected, _ = await socket.connect(timeout=5)
    assert connected
    state = await receive(socket)
    assert state["type"] == "thread_state", state
    return socket, state


async def refused(visitor, path, code: int) -> dict:
    socket = communicator(path, visitor)
    connected, _ = await socket.connect(timeout=5)
    assert connected  # accepted, told why, then closed
    error = await receive(socket)
    await expect_close(socket, code)
    return error


async def test_members_connect_and_learn_who_is_who(thread):
    alice, bob, thread_id = thread
    socket, state = await open_thread(alice, thread_id)
    assert state == {"type": "thread_state", "thread_id": thread_id, "user_id": alice.user_id, "partner_id": bob.user_id}
    await socket.disconnect()


async def test_an_outsider_a_stranger_without_session_and_a_made_up_id_are_refused(thread, visitor):
    alice, bob, thread_id = thread
    outsider = await sync_to_async(visitor)()

    error = await refused(outsider, f"/ws/threads/{thread_id}/", 4004)
    assert error["type"] == "error" and error["code"] == "thread_not_found"
    assert (await refused(None, f"/ws/threads/{thread_id}/", 4003))["code"] == "no_session"
    assert (await refused(alice, "/ws/threads/nothing-here/", 4004))["code"] == "thread_not_found"


async def test_a_message_posted_over_http_reaches_both_members_sockets_once(thread):
    alice, bob, thread_id = thread
    alice_socket, _ = await open_thread(alice, thread_id)
    bob_socket, _ = await open_thread(bob, thread_id)

    response = await sync_to_async(post)(alice, thread_id, "hello over there", "c-1")
    assert response.status_code == 201

    for socket in (bob_socket, alice_socket):
        delivered = await receive(socket)
        assert delivered == {"type": "new_message", "message": response.json()}
    resend = await sync_to_async(post)(alice, thread_id, "hello over there", "c-1")
    assert resend.status_code == 200
    assert await bob_socket.receive_nothing(timeout=0.3)
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_typing_reaches_the_other_member_only(thread):
    alice, bob, thread_id = thread
    alice_socket, _ = await open_thread(alice, thread_id)
    bob_socket, _ = await open_thread(bob, thread_id)
    await alice_socket.receive_nothing(timeout=0.2)  # let the two sockets find each other

    await alice_socket.send_json_to({"type": "typing", "is_typing": True})

    assert await receive(bob_socket) == {"type": "typing", "is_typing": True}
    assert await alice_socket.receive_nothing(timeout=0.2)
    await alice_socket.send_json_to({"type": "message", "text": "no"})
    assert (await receive(alice_socket))["code"] == "unknown_type"  # messages go over HTTP
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_move_into_another_chat_leaves_the_thread_socket_open(thread):
    alice, bob, thread_id = thread
    alice_socket, _ = await open_thread(alice, thread_id)
    bob_socket, _ = await open_thread(bob, thread_id)
    await alice_socket.receive_nothing(timeout=0.2)  # let the two sockets find each other

    await tell_of_a_move(alice.user_id)  # her 1:1 chat in another tab found someone new

    assert await receive(alice_socket) == MOVE_HANDLED
    await alice_socket.send_json_to({"type": "typing", "is_typing": True})
    assert await receive(bob_socket) == {"type": "typing", "is_typing": True}
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_ending_the_thread_tells_both_members_and_closes_their_sockets(thread):
    alice, bob, thread_id = thread
    alice_socket, _ = await open_thread(alice, thread_id)
    bob_socket, _ = await open_thread(bob, thread_id)

    assert (await sync_to_async(bob.api)("delete", f"/api/threads/{thread_id}")).status_code == 204

    for socket in (alice_socket, bob_socket):
        assert await receive(socket) == {"type": "thread_closed", "thread_id": thread_id}
        await expect_close(socket, 4004)
    # 4004: does not exist or has ended (the refusal's 410).
    assert (await refused(alice, f"/ws/threads/{thread_id}/", 4004))["code"] == "thread_ended"
