"""The socket machinery counts open sockets by kind and writes one line per socket
lifetime; stored messages are counted once they are committed."""

import asyncio
import json
import logging

import pytest
from prometheus_client import REGISTRY

from chat.tests.sockets import TIMEOUT, communicator, new_visitors, pair, receive
from moodrooms.tests.sockets import connect, join
from whimsy_project.logs import visitor_hash

pytestmark = pytest.mark.django_db(transaction=True)


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_open_sockets_go_up_and_down_by_kind_and_each_lifetime_is_one_log_line(visitor, caplog):
    rooms_before = value("whimsy_open_sockets", kind="room")
    presence_before = value("whimsy_open_sockets", kind="presence")
    stored_before = value("whimsy_messages_stored_total", kind="room")
    caplog.set_level(logging.INFO, logger="whimsy.sockets")

    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    presence = communicator("/ws/presence/", alice)
    assert (await presence.connect(timeout=TIMEOUT))[0]
    await receive(presence)
    assert value("whimsy_open_sockets", kind="room") == rooms_before + 2
    assert value("whimsy_open_sockets", kind="presence") == presence_before + 1

    await alice_socket.send_to(text_data=json.dumps({"type": "message", "text": "secret words", "client_id": "c1"}))
    while (await receive(alice_socket))["type"] != "message_ack":
        pass
    await presence.disconnect()
    await alice_socket.disconnect()
    await bob_socket.disconnect()
    await asyncio.sleep(0.1)

    assert value("whimsy_open_sockets", kind="room") == rooms_before
    assert value("whimsy_open_sockets", kind="presence") == presence_before
    assert value("whimsy_messages_stored_total", kind="room") == stored_before + 1
    lines = [record for record in caplog.records if record.name == "whimsy.sockets"]
    assert sorted(record.fields["kind"] for record in lines) == ["presence", "room", "room"]
    room_lines = [record.fields for record in lines if record.fields["kind"] == "room"]
    assert {line["route"] for line in room_lines} == {f"/ws/chat/{room_id}/"}
    assert all(line["duration_s"] >= 0 and line["close_code"] is not None for line in room_lines)
    assert {line["visitor"] for line in room_lines} == {visitor_hash(alice.user_id), visitor_hash(bob.user_id)}
    assert "secret words" not in caplog.text


async def test_a_mood_room_member_counts_while_connected(visitor):
    before = value("whimsy_mood_room_members")
    (alice,) = await new_visitors(visitor, 1)
    session = await join(alice)

    socket, _ = await connect(alice, session["id"])
    assert value("whimsy_mood_room_members") == before + 1
    assert value("whimsy_open_sockets", kind="session") >= 1

    await socket.disconnect()
    assert value("whimsy_mood_room_members") == before
