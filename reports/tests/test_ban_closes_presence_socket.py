"""The presence socket hears its visitor's ban like their other sockets: `banned`, then 4003."""

import uuid

import pytest
from asgiref.sync import sync_to_async

from chat.tests.sockets import MOVE_HANDLED, communicator, expect_close, new_visitors, receive, start, tell_of_a_move
from reports.services import BAN_24_HOURS, ban_visitor

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_presence_key(settings):
    settings.PRESENCE_REDIS_KEY = f"whimsy:presence:test:{uuid.uuid4().hex}"  # others may share this Redis


async def presence_socket(visitor):
    socket = communicator("/ws/presence/", visitor)
    assert (await socket.connect(timeout=5))[0]
    assert (await receive(socket))["type"] == "presence"
    return socket


async def still_served(socket) -> None:
    """The socket is open and its consumer alive: a frame it does not take is answered."""
    await socket.send_json_to({"type": "ping"})
    answer = await receive(socket)
    while answer["type"] == "presence":  # a count pushed meanwhile
        answer = await receive(socket)
    assert answer["type"] == "error" and answer["code"] == "unknown_type", answer


async def test_a_ban_closes_the_banned_visitors_presence_socket_and_no_other(visitor):
    alice, bob = await new_visitors(visitor, 2)
    await start(bob)  # a visitor is stored once they do something
    alice_socket = await presence_socket(alice)
    bob_socket = await presence_socket(bob)
    anonymous_socket = await presence_socket(None)

    ban = await sync_to_async(ban_visitor)(visitor_id=uuid.UUID(bob.user_id), duration=BAN_24_HOURS, by=None)

    error = await receive(bob_socket)
    assert error["type"] == "error" and error["code"] == "banned"
    assert f"until {ban.expires_at:%Y-%m-%d %H:%M} UTC" in error["detail"]
    await expect_close(bob_socket, 4003)
    for socket in (alice_socket, anonymous_socket):
        await still_served(socket)
        await socket.disconnect()


async def test_a_move_announced_on_the_visitors_group_leaves_the_presence_socket_open(visitor):
    (alice,) = await new_visitors(visitor, 1)
    socket = await presence_socket(alice)

    await tell_of_a_move(alice.user_id)

    assert await receive(socket) == MOVE_HANDLED
    await still_served(socket)
    await socket.disconnect()
