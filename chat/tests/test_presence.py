"""The online count: distinct visitors with a live socket, pushed on change, also over HTTP."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from chat.tests.sockets import communicator, new_visitors, open_room, receive, start

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_presence_key(settings):
    # Other runs may share this Redis; count only this test's visitors.
    settings.PRESENCE_REDIS_KEY = f"whimsy:presence:test:{uuid.uuid4().hex}"


async def online_over_http() -> int:
    response = await sync_to_async(Client().get)("/api/presence")
    assert response.status_code == 200
    return response.json()["online"]


async def presence_socket(visitor):
    socket = communicator("/ws/presence/", visitor)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def next_count(socket) -> int:
    frame = await receive(socket, timeout=5)
    assert frame["type"] == "presence"
    return frame["online"]


async def test_it_counts_distinct_visitors_and_falls_when_they_go(visitor):
    alice, bob = await new_visitors(visitor, 2)
    base = await online_over_http()

    alice_tab_1 = await presence_socket(alice)
    assert await next_count(alice_tab_1) == base + 1
    alice_tab_2 = await presence_socket(alice)
    assert await next_count(alice_tab_2) == base + 1  # two tabs are one visitor

    room_id = (await start(bob))["room_id"]
    bob_room_socket, _ = await open_room(bob, room_id)  # a room socket counts too
    assert await next_count(alice_tab_1) == base + 2  # pushed on change
    assert await next_count(alice_tab_2) == base + 2
    assert await online_over_http() == base + 2

    await bob_room_socket.disconnect()
    assert await next_count(alice_tab_1) == base + 1

    await alice_tab_2.disconnect()
    assert await alice_tab_1.receive_nothing(timeout=1.5)  # alice is still here: no change, no push
    await alice_tab_1.disconnect()
    assert await eventually_online(base)  # written out by the next tick


async def eventually_online(expected: int, *, within: float = 5.0) -> bool:
    for _ in range(int(within / 0.1)):
        if await online_over_http() == expected:
            return True
        await asyncio.sleep(0.1)
    return False


async def test_a_page_without_a_session_may_watch_but_is_not_counted(visitor):
    (alice,) = await new_visitors(visitor, 1)
    base = await online_over_http()
    anonymous = communicator("/ws/presence/")
    connected, _ = await anonymous.connect()
    assert connected
    assert await next_count(anonymous) == base

    alice_socket = await presence_socket(alice)
    assert await next_count(alice_socket) == base + 1
    assert await next_count(anonymous) == base + 1
    await alice_socket.disconnect()
    await anonymous.disconnect()
