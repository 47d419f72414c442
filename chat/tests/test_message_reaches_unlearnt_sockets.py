"""A message reaches every socket of its group, also those its sender's socket has not heard of yet.

A socket learns the group's other channels from their `socket.here` answers to its hello;
a message sent before one of them arrived (right after connecting) must still reach it,
exactly once, as its sender got `message_ack`.
"""

import pytest

from chat.sockets import GroupSocket
from chat.tests.sockets import open_room, pair, receive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_message_from_a_socket_that_has_not_learnt_the_others_reaches_each_of_them_once(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    async def here_not_arrived_yet(socket, event):
        pass

    # Bob's new tab says hello (the others learn of it) but none of their answers reaches it.
    monkeypatch.setattr(GroupSocket, "socket_here", here_not_arrived_yet)
    bob_tab, _ = await open_room(bob, room_id)
    await bob_tab.send_json_to({"type": "message", "text": "right away", "client_id": "b-1"})

    frames = {f["type"]: f for f in [await receive(bob_tab), await receive(bob_tab)]}
    assert frames["message_ack"]["client_id"] == "b-1"
    delivered = frames["new_message"]
    assert delivered["message"]["message"] == "right away"
    assert await receive(alice_socket) == delivered
    assert await receive(bob_socket) == delivered
    for socket in (alice_socket, bob_socket, bob_tab):
        assert await socket.receive_nothing(timeout=0.3)
