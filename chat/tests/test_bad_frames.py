"""Every bad frame gets an error frame with a code; the socket survives (except an
oversized frame or a flood); nothing is stored and nothing reaches the partner."""

import json

import pytest
from django.test import override_settings

from chat.models import ChatMessage
from chat.protocol import MAX_SIGNAL_PAYLOAD_CHARS
from chat.sockets.frames import MAX_FRAME_CHARS
from chat.tests.sockets import expect_close, pair, receive

pytestmark = pytest.mark.django_db(transaction=True)

BAD_FRAMES = [
    ("not json", "invalid_json"),
    ("[1, 2]", "invalid_frame"),
    ('"message"', "invalid_frame"),
    ("{}", "invalid_frame"),
    ('{"type": 7}', "invalid_frame"),
    ('{"type": "shout", "text": "hi"}', "unknown_type"),
    ('{"type": "chat.message", "message": {}}', "unknown_type"),  # not a channel-layer type
    ('{"type": "message", "client_id": "c"}', "invalid_frame"),
    ('{"type": "message", "text": 42, "client_id": "c"}', "invalid_frame"),
    ('{"type": "message", "text": "   ", "client_id": "c"}', "invalid"),
    (json.dumps({"type": "message", "text": "x" * 2001, "client_id": "c"}), "invalid"),
    ('{"type": "message", "text": "hi", "client_id": 5}', "invalid"),
    (json.dumps({"type": "message", "text": "hi", "client_id": "c" * 65}), "invalid"),
    ('{"type": "typing"}', "invalid_frame"),
    ('{"type": "typing", "is_typing": "yes"}', "invalid_frame"),
    ('{"type": "signal", "kind": "video-call", "payload": {}}', "invalid_frame"),
    ('{"type": "signal", "kind": "video-offer", "payload": "sdp"}', "invalid_frame"),
    ('{"type": "signal", "kind": "video-offer", "payload": {"n": NaN}}', "invalid"),
    (json.dumps({"type": "signal", "kind": "ice-candidate", "payload": {"c": "x" * MAX_SIGNAL_PAYLOAD_CHARS}}),
     "invalid"),
]


async def test_each_bad_frame_gets_its_error_and_the_socket_stays_up(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    for text, code in BAD_FRAMES:
        await alice_socket.send_to(text_data=text)
        error = await receive(alice_socket)
        assert error["type"] == "error" and error["code"] == code, (text[:60], error)
        assert error["detail"]

    await alice_socket.send_to(bytes_data=b"\x00\x01")
    assert (await receive(alice_socket))["code"] == "invalid_json"

    # Still up, and the partner heard none of it.
    await alice_socket.send_json_to({"type": "message", "text": "fine", "client_id": "ok"})
    assert (await receive(bob_socket))["message"]["message"] == "fine"
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 1
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_deep_nesting_is_refused_without_crashing(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    await alice_socket.send_to(text_data="[" * 50_000)
    assert (await receive(alice_socket))["code"] == "invalid_json"
    await alice_socket.disconnect()
    await bob_socket.disconnect()


async def test_an_oversized_frame_gets_an_error_and_closes_with_4009(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    await alice_socket.send_json_to({"type": "message", "text": "x" * MAX_FRAME_CHARS, "client_id": "big"})

    assert (await receive(alice_socket))["code"] == "frame_too_large"
    await expect_close(alice_socket, 4009)
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 0
    await bob_socket.disconnect()


@override_settings(MESSAGE_RATE_BURST=3, MESSAGE_RATE_PER_SECOND=0.05)
async def test_a_flood_is_refused_then_closed_with_4008(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    for i in range(3):
        await alice_socket.send_json_to({"type": "message", "text": f"m{i}", "client_id": f"m{i}"})
    for _ in range(6):  # an ack and the echo for each
        assert (await receive(alice_socket))["type"] in {"message_ack", "new_message"}

    for i in range(5):
        await alice_socket.send_json_to({"type": "message", "text": "spam", "client_id": f"s{i}"})
        error = await receive(alice_socket)
        assert error["code"] == "rate_limited" and error["client_id"] == f"s{i}" and error["retry_after"] > 0

    await expect_close(alice_socket, 4008)
    assert await ChatMessage.objects.filter(room_id=room_id).acount() == 3
    await bob_socket.disconnect()
