"""A message reaches every socket of its group, also those its sender's socket has not heard of yet.

Announcements go straight to the channels a socket's directory knows. A socket learns the
group's other channels from their `socket.here` answers to its hello, and the others learn it
from the hello; a message announced in between went past the socket not known yet. Once
known, it is told to catch up from the database, so it gets the message after all: exactly
once here, as nothing else was said.
"""

import pytest

from chat.tests.sockets import hold, open_room, pair, receive, release

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_message_sent_before_the_answers_to_its_hello_arrived_reaches_each_socket_once(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    # Bob's new tab says hello (the others learn of it) but their answers do not reach it yet.
    heres = hold(monkeypatch, "socket.here")
    bob_tab, _ = await open_room(bob, room_id)
    await bob_tab.send_json_to({"type": "message", "text": "right away", "client_id": "b-1"})

    frames = {f["type"]: f for f in [await receive(bob_tab), await receive(bob_tab)]}
    assert frames["message_ack"]["client_id"] == "b-1"
    delivered = frames["new_message"]
    assert delivered["message"]["message"] == "right away"
    assert await alice_socket.receive_nothing(timeout=0.2)  # it went past them

    await release(monkeypatch, heres, "socket.here", count=2)  # alice's socket's, bob's first tab's
    assert await receive(bob_tab) == {"type": "partner_connected"}  # (it knows alice's socket now)
    assert await receive(alice_socket) == delivered
    assert await receive(bob_socket) == delivered
    for socket in (alice_socket, bob_socket, bob_tab):
        assert await socket.receive_nothing(timeout=0.3)


async def test_a_message_sent_before_a_newcomers_hello_was_heard_reaches_the_newcomer_once(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    # Bob's new tab is in the group, but alice's and bob's sockets have not heard its hello yet.
    hellos = hold(monkeypatch, "socket.hello")
    bob_tab, _ = await open_room(bob, room_id)
    await alice_socket.send_json_to({"type": "message", "text": "still there?", "client_id": "a-1"})
    frames = {f["type"]: f for f in [await receive(alice_socket), await receive(alice_socket)]}
    delivered = frames["new_message"]
    assert await receive(bob_socket) == delivered
    assert await bob_tab.receive_nothing(timeout=0.2)  # it went past the newcomer

    await release(monkeypatch, hellos, "socket.hello", count=3)  # the tab hears its own too
    assert await receive(bob_tab) == {"type": "partner_connected"}
    assert await receive(bob_tab) == delivered
    for socket in (alice_socket, bob_socket, bob_tab):
        assert await socket.receive_nothing(timeout=0.3)
