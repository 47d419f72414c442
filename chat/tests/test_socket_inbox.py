"""With the Redis layer, one reader per process hands every socket its events (chat.sockets.inbox).

Channels' own receive per consumer lost an event now and then: a socket closing had its receive
cancelled while that receive was popping the process's messages, and one meant for another
socket went with it (django/channels_redis#366). Sockets closing must cost the others nothing.
"""

import asyncio
from uuid import UUID

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

from chat.events import room_group
from chat.sockets import frame
from chat.sockets.inbox import inbox_for
from chat.tests.sockets import communicator, open_room, pair, receive

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: the in-memory layer keeps Channels' receive"),
]

EVENTS = 60


async def test_sockets_closing_while_events_flow_cost_another_socket_none_of_them(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    layer = get_channel_layer()
    reader = inbox_for(layer).reader

    async def come_and_go():
        for _ in range(EVENTS // 2):
            socket, _ = await open_room(alice, room_id)  # another tab of alice's, closing at once
            await socket.disconnect()

    async def announce():
        for number in range(EVENTS):
            await layer.group_send(room_group(UUID(room_id)), {"type": "socket.frame", "text": frame("tick", n=number)})
            await asyncio.sleep(0.005)

    await asyncio.gather(come_and_go(), announce())

    ticks = []
    while len(ticks) < EVENTS:
        received = await receive(bob_socket)
        if received["type"] == "tick":  # (alice's tabs coming and going are told too)
            ticks.append(received["n"])
    assert ticks == list(range(EVENTS))  # every one, in order
    assert inbox_for(layer).reader is reader and not reader.done()  # the closes never touched it


async def test_when_redis_fails_under_the_reader_every_socket_is_told_and_closed(visitor, monkeypatch):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    layer = get_channel_layer()
    inbox = inbox_for(layer)

    async def redis_gone(channel):
        raise RedisConnectionError("Connection refused")

    monkeypatch.setattr(layer, "receive_single", redis_gone)
    inbox.reader.cancel()  # it was waiting on Redis when it went: the next one meets the outage
    await asyncio.wait([inbox.reader])
    tab = communicator(f"/ws/chat/{room_id}/", bob)  # a socket opening starts the reader again
    assert (await tab.connect())[0]
    for socket in (alice_socket, bob_socket, tab):
        frames = []
        while not frames or frames[-1]["type"] != "error":
            frames.append(await receive(socket))  # (room_state, the tab's arrival, ... may come first)
        assert frames[-1]["code"] == "service_unavailable"
        closed = await socket.receive_output(timeout=5)
        assert closed["type"] == "websocket.close" and closed["code"] == 4503
