"""Who may open a room socket: an allowed Origin, a session, and an open place in that room."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.tests.sockets import communicator, expect_close, new_visitors, open_room, receive, start
from reports.models import Ban

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("origin", [None, "https://evil.example", "http://127.0.0.1.evil.example"])
async def test_a_missing_or_foreign_origin_is_refused_before_the_handshake(visitor, origin):
    (alice,) = await new_visitors(visitor, 1)
    room_id = (await start(alice))["room_id"]

    for path in (f"/ws/chat/{room_id}/", "/ws/presence/"):
        socket = communicator(path, alice, origin=origin)
        connected, _ = await socket.connect()
        assert not connected


async def test_without_a_session_the_room_socket_is_closed_with_4003(visitor):
    (alice,) = await new_visitors(visitor, 1)
    room_id = (await start(alice))["room_id"]
    socket = communicator(f"/ws/chat/{room_id}/")  # no cookie

    connected, _ = await socket.connect()

    assert connected
    assert (await receive(socket))["code"] == "no_session"
    await expect_close(socket, 4003)


async def test_a_forged_session_cookie_is_no_session(visitor):
    (alice,) = await new_visitors(visitor, 1)
    room_id = (await start(alice))["room_id"]
    alice.cookies["sessionid"] = alice.cookies["sessionid"].value[:-3] + "abc"
    socket = communicator(f"/ws/chat/{room_id}/", alice)

    await socket.connect()

    assert (await receive(socket))["code"] == "no_session"
    await expect_close(socket, 4003)


@pytest.mark.parametrize("room_id", ["not-a-uuid", str(uuid.uuid4())])
async def test_an_unknown_room_is_closed_with_4004(visitor, room_id):
    (alice,) = await new_visitors(visitor, 1)
    await start(alice)
    socket = communicator(f"/ws/chat/{room_id}/", alice)

    await socket.connect()

    assert (await receive(socket))["code"] == "room_not_found"
    await expect_close(socket, 4004)


async def test_an_ended_room_is_closed_with_4004(visitor):
    (alice,) = await new_visitors(visitor, 1)
    room_id = (await start(alice))["room_id"]
    first, _ = await open_room(alice, room_id)
    await first.send_json_to({"type": "leave"})
    assert (await receive(first))["type"] == "chat_ended"
    await expect_close(first, 1000)

    socket = communicator(f"/ws/chat/{room_id}/", alice)
    await socket.connect()

    assert (await receive(socket))["code"] == "room_not_found"
    await expect_close(socket, 4004)


async def test_a_stranger_to_an_open_room_is_closed_with_4003(visitor):
    alice, mallory = await new_visitors(visitor, 2)
    room_id = (await start(alice))["room_id"]
    alice_socket, _ = await open_room(alice, room_id)

    socket = communicator(f"/ws/chat/{room_id}/", mallory)
    await socket.connect()

    assert (await receive(socket))["code"] == "not_participant"
    await expect_close(socket, 4003)
    assert await alice_socket.receive_nothing(timeout=0.2)  # nobody joined her room
    await alice_socket.disconnect()


async def test_a_banned_visitor_is_closed_with_4003(visitor):
    (alice,) = await new_visitors(visitor, 1)
    room_id = (await start(alice))["room_id"]
    await Ban.objects.acreate(visitor_id=alice.user_id, expires_at=timezone.now() + timedelta(hours=1))
    socket = communicator(f"/ws/chat/{room_id}/", alice)

    await socket.connect()

    error = await receive(socket)
    assert error["code"] == "banned" and "banned" in error["detail"]
    await expect_close(socket, 4003)
