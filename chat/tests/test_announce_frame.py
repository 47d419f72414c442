"""A service's ready frame reaches the group's sockets, and only once its transaction commits."""

import uuid

import pytest
from asgiref.sync import sync_to_async
from django.db import transaction

from chat.events import announce_frame, room_group
from chat.sockets import frame
from chat.tests.sockets import pair, receive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_announced_frame_reaches_every_socket_of_the_group_after_the_commit(visitor):
    _, _, room_id, alice_socket, bob_socket = await pair(visitor)
    text = frame("keep_requested", room_id=room_id)

    def announce_then_fail():
        with transaction.atomic():
            announce_frame(group=room_group(uuid.UUID(room_id)), frame=frame("never"))
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        await sync_to_async(announce_then_fail)()
    await sync_to_async(transaction.atomic(announce_frame))(group=room_group(uuid.UUID(room_id)), frame=text)

    assert await receive(alice_socket) == {"type": "keep_requested", "room_id": room_id}
    assert await receive(bob_socket) == {"type": "keep_requested", "room_id": room_id}
    for socket in (alice_socket, bob_socket):
        await socket.disconnect()
