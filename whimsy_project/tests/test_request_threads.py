"""HTTP requests of one process run side by side: Django's ASGI handler gives each request a
thread-sensitive context (a thread) of its own, so one request waiting on the database holds up
no other. Channel-layer sends from threads the server did not start share one event loop."""

import asyncio
import json
import threading
import time

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, transaction

from chat.events import group_send
from chat.models import Visitor
from conftest import wait_for_a_lock_wait
from whimsy_project.tests import servers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_request_waiting_on_the_database_does_not_hold_up_the_next_one(tmp_path):
    with servers.daphne(servers.server_env(), tmp_path / "daphne.log") as url:
        held, other = servers.Browser(url), servers.Browser(url)
        assert held.post("/api/chat/start")[0] == 200
        held_id = json.loads(servers.get(url + "/api/me", {"Cookie": f"sessionid={held.cookie('sessionid')}"})[1])[
            "user_id"
        ]
        answers = {}
        with transaction.atomic():
            Visitor.objects.select_for_update().get(id=held_id)  # as a long transaction of theirs would
            waiting = threading.Thread(target=lambda: answers.setdefault("held", held.post("/api/chat/start")))
            waiting.start()
            wait_for_a_lock_wait()
            # Served while the first request of the same process still waits for the row.
            status, body = other.post("/api/chat/start")
            assert status == 200, body
            assert waiting.is_alive()
        waiting.join(timeout=15)
        assert answers["held"][0] == 200


def test_sends_from_a_thread_of_our_own_share_one_event_loop_and_arrive():
    if not settings.REDIS_URL:
        pytest.skip("the in-memory layer sends on the caller's loop; the shared loop serves Redis (set REDIS_URL)")
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)("test.thread-sends", channel)
    loops = []
    send = layer.group_send

    async def recording_send(group, event):
        loops.append(asyncio.get_running_loop())
        await send(group, event)

    layer.group_send = recording_send
    outside_the_server = threading.Thread(
        target=lambda: [group_send("test.thread-sends", {"type": "test.event", "n": n}) for n in range(2)]
    )
    outside_the_server.start()
    outside_the_server.join(timeout=10)

    assert len(loops) == 2 and loops[0] is loops[1]
    received = [async_to_sync(layer.receive)(channel)["n"] for _ in range(2)]
    assert received == [0, 1]
