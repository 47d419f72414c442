"""The 1:1 room sockets hear the asks: keep_requested once, then kept with the thread id, to both."""

import pytest

from chat.tests.sockets import api, pair, receive
from threads.tests.builders import expected_thread_id

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_partner_hears_the_first_ask_once_and_both_hear_kept(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    assert (await api(alice, "post", "/api/chat/keep", {"room_id": room_id})).json()["status"] == "asked"
    requested = {"type": "keep_requested", "room_id": room_id, "user_id": alice.user_id}
    assert await receive(bob_socket) == requested
    assert await receive(alice_socket) == requested  # the asker's page knows it is its own ask
    await api(alice, "post", "/api/chat/keep", {"room_id": room_id})
    assert await bob_socket.receive_nothing(timeout=0.3)  # asking again announces nothing

    assert (await api(bob, "post", "/api/chat/keep", {"room_id": room_id})).json()["status"] == "kept"
    kept = {"type": "kept", "room_id": room_id, "thread_id": expected_thread_id(alice.user_id, bob.user_id)}
    assert await receive(alice_socket) == kept
    assert await receive(bob_socket) == kept
    await alice_socket.disconnect()
    await bob_socket.disconnect()
