"""The room socket over the full ASGI application: pairing, messages, typing, signals, leaving."""

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.exceptions import ChannelFull

from chat.models import ChatMessage, ChatParticipant, ChatRoom
from chat.sockets import GroupSocket
from chat.tests.sockets import api, communicator, expect_close, new_visitors, open_room, pair, receive, start

pytestmark = pytest.mark.django_db(transaction=True)


async def test_two_visitors_chat_both_ways_stored_once_acked_and_in_order(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    for sender, sender_socket, receiver_socket, text, client_id in [
        (alice, alice_socket, bob_socket, "hi there", "a-1"),
        (bob, bob_socket, alice_socket, "  hello!  ", "b-1"),
        (alice, alice_socket, bob_socket, "how are you?", "a-2"),
    ]:
        await sender_socket.send_json_to({"type": "message", "text": text, "client_id": client_id})
        frames = [await receive(sender_socket), await receive(sender_socket)]
        ack = next(f for f in frames if f["type"] == "message_ack")
        echo = next(f for f in frames if f["type"] == "new_message")
        delivered = await receive(receiver_socket)
        assert delivered == echo
        assert delivered["type"] == "new_message"
        assert delivered["message"]["message"] == text.strip()
        assert delivered["message"]["sender_id"] == sender.user_id
        assert delivered["message"]["client_id"] == client_id
        assert ack == {"type": "message_ack", "client_id": client_id, "id": delivered["message"]["id"]}

    stored = await sync_to_async(list)(
        ChatMessage.objects.filter(room_id=room_id).order_by("timestamp", "id").values_list("message", "client_id")
    )
    assert stored == [("hi there", "a-1"), ("hello!", "b-1"), ("how are you?", "a-2")]
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_resend_with_the_same_client_id_is_acked_again_and_announced_again_but_not_stored_twice(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    await alice_socket.send_json_to({"type": "message", "text": "once", "client_id": "same"})
    first = {f["type"]: f for f in [await receive(alice_socket), await receive(alice_socket)]}
    assert await receive(bob_socket) == first["new_message"]

    await alice_socket.send_json_to({"type": "message", "text": "once", "client_id": "same"})

    # Announced again (its first announcement may have failed): the same message, which pages merge by id.
    again = {f["type"]: f for f in [await receive(alice_socket), await receive(alice_socket)]}
    assert again == first
    assert await receive(bob_socket) == first["new_message"]
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 1
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_message_whose_delivery_failed_reaches_the_partner_when_resent(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    real_send_to_group = GroupSocket.send_to_group
    failures = iter([ChannelFull()])

    async def send_to_group_failing_once(socket, event):
        failure = next(failures, None)
        if failure is not None:
            raise failure  # the channel layer could not take the announcement
        await real_send_to_group(socket, event)

    monkeypatch.setattr(GroupSocket, "send_to_group", send_to_group_failing_once)
    await alice_socket.send_json_to({"type": "message", "text": "lost on the way", "client_id": "f-1"})
    error = await receive(alice_socket)
    assert error["code"] == "delivery_failed" and error["client_id"] == "f-1"
    assert await bob_socket.receive_nothing(timeout=0.2)

    await alice_socket.send_json_to({"type": "message", "text": "lost on the way", "client_id": "f-1"})

    delivered = await receive(bob_socket)
    assert delivered["type"] == "new_message" and delivered["message"]["client_id"] == "f-1"
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 1
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_typing_reaches_the_partner_only_and_clears_when_a_message_arrives(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    await alice_socket.send_json_to({"type": "typing", "is_typing": True})
    assert await receive(bob_socket) == {"type": "typing", "is_typing": True}
    assert await alice_socket.receive_nothing(timeout=0.2)

    await alice_socket.send_json_to({"type": "message", "text": "done typing", "client_id": "t-1"})
    assert await receive(bob_socket) == {"type": "typing", "is_typing": False}
    assert (await receive(bob_socket))["type"] == "new_message"
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 1  # typing is never stored
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_typing_clears_when_the_partner_leaves(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    await alice_socket.send_json_to({"type": "typing", "is_typing": True})
    assert await receive(bob_socket) == {"type": "typing", "is_typing": True}

    await alice_socket.send_json_to({"type": "leave"})

    assert await receive(bob_socket) == {"type": "typing", "is_typing": False}
    assert await receive(bob_socket) == {"type": "partner_left", "reason": "ended"}
    await bob_socket.disconnect()


@pytest.mark.parametrize("kind", ["video-offer", "video-answer", "ice-candidate", "video-stop"])
async def test_each_signal_kind_is_relayed_to_the_partner_only_and_never_stored(visitor, kind):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    payload = {"sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1", "nested": {"n": [1, 2.5, None, True]}, "text": "é✓"}

    await alice_socket.send_json_to({"type": "signal", "kind": kind, "payload": payload})
    assert await receive(bob_socket) == {"type": "signal", "kind": kind, "payload": payload}
    await bob_socket.send_json_to({"type": "signal", "kind": kind, "payload": {"back": 1}})
    assert await receive(alice_socket) == {"type": "signal", "kind": kind, "payload": {"back": 1}}

    assert await alice_socket.receive_nothing(timeout=0.2)
    assert await bob_socket.receive_nothing(timeout=0.2)
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 0
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_signal_before_the_partner_connects_is_refused_not_lost(visitor):
    alice, bob = await new_visitors(visitor, 2)
    room_id = (await start(alice))["room_id"]
    await start(bob)
    alice_socket, _ = await open_room(alice, room_id)

    await alice_socket.send_json_to({"type": "signal", "kind": "video-offer", "payload": {}})

    error = await receive(alice_socket)
    assert error["type"] == "error" and error["code"] == "partner_not_connected" and error["kind"] == "video-offer"
    await alice_socket.disconnect()


async def test_leave_ends_the_chat_for_both_and_the_partner_is_told_at_once(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    await alice_socket.send_json_to({"type": "leave"})

    assert await receive(bob_socket) == {"type": "partner_left", "reason": "ended"}
    assert await receive(alice_socket) == {"type": "chat_ended", "room_id": room_id}
    await expect_close(alice_socket, 1000)
    room = await ChatRoom.objects.aget(id=room_id)
    assert room.status == "closed"
    assert not await ChatParticipant.objects.filter(room_id=room_id, left_at__isnull=True).aexists()

    await bob_socket.send_json_to({"type": "message", "text": "still there?", "client_id": "late"})
    error = await receive(bob_socket)
    assert error["code"] == "room_closed" and error["client_id"] == "late"
    await bob_socket.disconnect()


async def test_a_third_visitor_can_neither_join_nor_overhear_the_room(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    (mallory,) = await new_visitors(visitor, 1)
    await start(mallory)  # in a room of her own

    intruder = communicator(f"/ws/chat/{room_id}/", mallory)
    connected, _ = await intruder.connect()
    assert connected  # accepted only to be told why, then closed
    error = await receive(intruder)
    assert error["type"] == "error" and error["code"] == "not_participant"
    await expect_close(intruder, 4003)

    await alice_socket.send_json_to({"type": "message", "text": "private", "client_id": "p"})
    await alice_socket.send_json_to({"type": "signal", "kind": "video-offer", "payload": {"sdp": "x"}})
    assert (await receive(bob_socket))["type"] == "new_message"
    assert (await receive(bob_socket))["type"] == "signal"
    assert await intruder.receive_nothing(timeout=0.3)
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_a_waiting_socket_hears_when_someone_joins(visitor):
    alice, bob = await new_visitors(visitor, 2)
    room_id = (await start(alice, interests=["chess"]))["room_id"]
    alice_socket, state = await open_room(alice, room_id)
    assert state == {
        "type": "room_state",
        "room_id": room_id,
        "user_id": alice.user_id,
        "partner_id": None,
        "status": "waiting",
        "common_interests": [],
    }

    await start(bob, interests=["Chess"])

    assert await receive(alice_socket) == {
        "type": "partner_joined",
        "room_id": room_id,
        "partner_id": bob.user_id,
        "common_interests": ["chess"],
    }
    bob_socket, bob_state = await open_room(bob, room_id)
    assert bob_state["partner_id"] == alice.user_id and bob_state["status"] == "active"
    assert await receive(alice_socket) == {"type": "partner_connected"}
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_two_waiting_sockets_are_paired_by_the_settle_step_and_the_mover_is_told_the_new_room(visitor):
    alice, bob = await new_visitors(visitor, 2)
    # As if both started at the same instant: two waiting rooms that never saw each other.
    alice_room, bob_room = await sync_to_async(_two_waiting_rooms)(alice.user_id, bob.user_id)
    alice_socket, _ = await open_room(alice, alice_room)
    bob_socket, _ = await open_room(bob, bob_room)

    # One of them settles first and moves into the other's room; both are told.
    first = json.loads(await alice_socket.receive_from(timeout=5))
    second = json.loads(await bob_socket.receive_from(timeout=5))
    assert first["type"] == second["type"] == "partner_joined"
    assert first["room_id"] == second["room_id"] in {str(alice_room), str(bob_room)}
    assert first["partner_id"] == bob.user_id and second["partner_id"] == alice.user_id
    new_room = first["room_id"]
    assert await ChatParticipant.objects.filter(room_id=new_room, left_at__isnull=True).acount() == 2

    mover_socket, mover = (alice_socket, alice) if new_room == str(bob_room) else (bob_socket, bob)
    await mover_socket.disconnect()  # the page reconnects to the new room
    reconnected, state = await open_room(mover, new_room)
    assert state["status"] == "active"
    await reconnected.disconnect()
    await (bob_socket if mover is alice else alice_socket).disconnect()


def _two_waiting_rooms(*user_ids):
    from chat.models import Visitor

    rooms = []
    for user_id in user_ids:
        room = ChatRoom.objects.create(mode="text")
        ChatParticipant.objects.create(room=room, user=Visitor.objects.get_or_create(id=user_id)[0])
        rooms.append(room.id)
    return rooms


async def test_the_http_api_message_reaches_the_sockets_the_same_way(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    response = await api(alice, "post", "/api/chat/message", {"room_id": room_id, "text": "via http", "client_id": "h1"})

    assert response.status_code == 201
    body = response.json()
    assert await receive(bob_socket) == {"type": "new_message", "message": body}
    assert await receive(alice_socket) == {"type": "new_message", "message": body}
    await alice_socket.disconnect()
    await bob_socket.disconnect()
    await asyncio.sleep(0)



async def test_signals_reach_every_tab_of_the_partner_in_the_order_sent(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    bob_second_tab, _ = await open_room(bob, room_id)
    # Told once alice's socket has answered its hello, so alice's socket knows this tab.
    assert await receive(bob_second_tab) == {"type": "partner_connected"}
    kinds = ["video-offer", "ice-candidate", "ice-candidate", "video-stop"]

    for number, kind in enumerate(kinds):
        await alice_socket.send_json_to({"type": "signal", "kind": kind, "payload": {"n": number}})

    expected = [{"type": "signal", "kind": kind, "payload": {"n": n}} for n, kind in enumerate(kinds)]
    assert [await receive(bob_socket) for _ in kinds] == expected
    assert [await receive(bob_second_tab) for _ in kinds] == expected
    assert await alice_socket.receive_nothing(timeout=0.2)  # nothing refused, nothing echoed
    for socket in (alice_socket, bob_socket, bob_second_tab):
        await socket.disconnect()
