"""A ban reaches the live sockets: the banned visitor's close with 4003, the partner hears partner_left (banned)."""

import asyncio
import uuid

import pytest
from asgiref.sync import sync_to_async

from chat.sockets.frames import CLOSE_FORBIDDEN
from chat.tests.sockets import communicator, pair, receive
from reports.services import BAN_24_HOURS, ban_visitor

pytestmark = pytest.mark.django_db(transaction=True)

WITHIN = 1.0  # seconds: DESIGN section 7 promises a ban closes sockets within a second


async def frames_until(socket, frame_type: str, *, within: float) -> list[dict]:
    """Frames received until one of `frame_type`, all inside `within` seconds (or a timeout fails)."""
    deadline = asyncio.get_running_loop().time() + within
    frames = []
    while not frames or frames[-1]["type"] != frame_type:
        frames.append(await receive(socket, timeout=max(0.01, deadline - asyncio.get_running_loop().time())))
    return frames


async def test_a_ban_closes_the_visitors_sockets_and_tells_the_partner_within_a_second(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    ban = await sync_to_async(ban_visitor)(visitor_id=uuid.UUID(bob.user_id), duration=BAN_24_HOURS, by=None)

    banned_frames = await frames_until(bob_socket, "error", within=WITHIN)
    assert banned_frames[-1]["code"] == "banned"
    assert f"until {ban.expires_at:%Y-%m-%d %H:%M} UTC" in banned_frames[-1]["detail"]
    assert await bob_socket.receive_output(timeout=WITHIN) == {
        "type": "websocket.close",
        "code": CLOSE_FORBIDDEN,
        "reason": "banned",
    }
    left = (await frames_until(alice_socket, "partner_left", within=WITHIN))[-1]
    assert left == {"type": "partner_left", "reason": "banned"}

    again = communicator(f"/ws/chat/{room_id}/", bob)
    assert (await again.connect(timeout=5))[0]  # accepted, so that the reason can be told
    assert (await receive(again))["code"] == "banned"
    assert (await again.receive_output(timeout=5))["code"] == CLOSE_FORBIDDEN
    for socket in (again, bob_socket, alice_socket):
        await socket.disconnect()  # lets each consumer run its disconnect handler (presence)
