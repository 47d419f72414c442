"""A socket that is closing sends nothing more: daphne raises on a send after the close and
the consumer would die before its disconnect clean-up (presence counts left too high)."""

from uuid import UUID

import pytest
from channels.layers import get_channel_layer

from chat.events import room_group, visitor_group
from chat.sockets import frame
from chat.tests.sockets import pair, receive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_frame_announced_after_the_close_is_not_sent_on_the_closing_connection(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    layer = get_channel_layer()

    await layer.group_send(visitor_group(UUID(alice.user_id)), {"type": "visitor.banned", "until": None})
    assert (await receive(alice_socket))["code"] == "banned"
    closed = await alice_socket.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4003, "reason": "banned"}

    # The page has not answered the close yet: the socket is still in its group.
    await layer.group_send(room_group(UUID(room_id)), {"type": "socket.frame", "text": frame("late")})
    assert await receive(bob_socket) == {"type": "late"}
    assert await alice_socket.receive_nothing(timeout=0.3)
