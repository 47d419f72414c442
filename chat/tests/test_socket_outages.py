"""An outage met while a socket handles a channel-layer event (not a frame of its page): the
page is told and the socket closes with 4503, so the page reconnects; nothing is left behind."""

from uuid import UUID

import pytest
from channels.layers import get_channel_layer
from django.db import OperationalError

from chat.events import room_group
from chat.sockets import directory
from chat.tests.sockets import pair, receive
from matchmaking.consumers import RoomConsumer

pytestmark = pytest.mark.django_db(transaction=True)


async def test_an_outage_met_by_an_event_handler_tells_the_page_and_closes_the_socket(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    local_sockets = len(directory.sockets_here())

    async def database_gone(self, event):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(RoomConsumer, "relay_typing", database_gone)  # any event's handler
    await get_channel_layer().group_send(room_group(UUID(room_id)), {"type": "relay.typing", "is_typing": True})
    for socket in (alice_socket, bob_socket):
        error = await receive(socket)
        assert error["type"] == "error" and error["code"] == "service_unavailable"
        closed = await socket.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4503
        await socket.disconnect(code=4503)
    assert len(directory.sockets_here()) == local_sockets - 2  # both ran their disconnect
