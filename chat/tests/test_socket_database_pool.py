"""Sockets' database work runs on a pool of its own (chat.sockets.database), not on
Channels' one thread-sensitive database thread, and hands its connections back."""

import asyncio
import threading

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection

from chat.sockets import database
from chat.sockets.database import run_in_database
from chat.tests.sockets import new_visitors, open_room, receive, start

pytestmark = pytest.mark.django_db(transaction=True)


async def test_room_sockets_connect_and_leave_while_channels_database_thread_is_busy(visitor):
    alice, bob = await new_visitors(visitor, 2)
    room_id = (await start(alice))["room_id"]
    assert (await start(bob))["room_id"] == room_id
    release = threading.Event()
    busy = asyncio.ensure_future(database_sync_to_async(release.wait)(10))  # holds that thread
    try:
        alice_socket, alice_state = await open_room(alice, room_id)
        bob_socket, _ = await open_room(bob, room_id)
        assert alice_state["status"] == "active"
        assert await receive(alice_socket) == {"type": "partner_connected"}
        await bob_socket.send_json_to({"type": "leave"})
        assert await receive(alice_socket) == {"type": "partner_left", "reason": "ended"}
        assert not busy.done()  # the thread was held the whole time
    finally:
        release.set()
        await busy
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.postgres
async def test_every_thread_of_the_pool_works_at_once_and_keeps_no_connection():
    threads = settings.SOCKET_DB_THREADS
    assert threads >= 2
    all_in = threading.Barrier(threads, timeout=5)  # broken (an error) unless every thread is in a call

    def query_then_meet() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        all_in.wait()

    await asyncio.gather(*(run_in_database(query_then_meet) for _ in range(threads)))

    # Each thread ran a query; looked at from each, straight on its executor (no close around it):
    all_in_again = threading.Barrier(threads, timeout=5)

    def holds_a_connection() -> bool:
        all_in_again.wait()
        return connection.connection is not None

    loop = asyncio.get_running_loop()
    held = await asyncio.gather(*(loop.run_in_executor(database._executor(), holds_a_connection) for _ in range(threads)))
    assert held == [False] * threads  # each handed its connection back to the pool after its call
