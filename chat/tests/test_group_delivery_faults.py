"""A group keeps delivering when one of its channels misbehaves.

Answers to a newcomer's hello (`socket.here`) are sent straight to its channel; in a connect
storm that channel can be full. The sender of a message gets its own copy first; its socket
can be closing meanwhile. Neither may cost anyone else their frames, nor kill a consumer.
"""

import pytest
from channels.exceptions import ChannelFull
from channels.layers import get_channel_layer

from chat.sockets import GroupSocket, directory
from chat.tests.sockets import new_visitors, open_room, pair, receive, start

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_answer_to_a_hello_that_finds_the_newcomer_full_is_sent_once_it_drains(visitor, monkeypatch):
    alice, bob = await new_visitors(visitor, 2)
    room_id = (await start(alice))["room_id"]
    assert (await start(bob))["room_id"] == room_id
    alice_socket, _ = await open_room(alice, room_id)
    # Every answer through the channel layer, as between processes; Bob's inbox is full once.
    monkeypatch.setattr(directory, "socket_here", lambda channel: None)
    layer = get_channel_layer()
    real_send = layer.send
    refused = []

    async def send_full_once(channel, message):
        if message["type"] == "socket.here" and not refused:
            refused.append(channel)
            raise ChannelFull()
        await real_send(channel, message)

    monkeypatch.setattr(layer, "send", send_full_once)

    bob_socket, _ = await open_room(bob, room_id)

    assert await receive(alice_socket) == {"type": "partner_connected"}
    assert await receive(bob_socket) == {"type": "partner_connected"}  # Alice's answer, retried
    assert refused
    await bob_socket.send_json_to({"type": "signal", "kind": "video-offer", "payload": {"sdp": "x"}})
    assert await receive(alice_socket) == {"type": "signal", "kind": "video-offer", "payload": {"sdp": "x"}}
    await alice_socket.send_json_to({"type": "signal", "kind": "video-answer", "payload": {"sdp": "y"}})
    assert await receive(bob_socket) == {"type": "signal", "kind": "video-answer", "payload": {"sdp": "y"}}


async def test_a_message_reaches_the_partner_when_the_senders_own_copy_fails(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    real_dispatch = GroupSocket.dispatch

    async def failing_for_the_sender(socket, event):
        if event["type"] == "chat.message" and str(socket.visitor_id) == alice.user_id:
            raise RuntimeError("the sender's connection is closing")
        await real_dispatch(socket, event)

    monkeypatch.setattr(GroupSocket, "dispatch", failing_for_the_sender)

    await alice_socket.send_json_to({"type": "message", "text": "still delivered", "client_id": "c-1"})

    delivered = await receive(bob_socket)
    assert delivered["type"] == "new_message" and delivered["message"]["message"] == "still delivered"
    assert await receive(alice_socket) == {"type": "message_ack", "client_id": "c-1", "id": delivered["message"]["id"]}
