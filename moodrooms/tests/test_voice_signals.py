"""Voice signaling in a mood room: a signal reaches only the member it is addressed to, and
only between two members of the same session who both joined voice; everything else is
refused with an error and nothing is relayed."""

import pytest

from chat.tests.sockets import new_visitors, receive
from moodrooms.tests.factories import BOOKS_ID, CALM_ID
from moodrooms.tests.sockets import connect, join, settle

pytestmark = pytest.mark.django_db(transaction=True)

OFFER = {"description": {"type": "offer", "sdp": "v=0\r\n"}}
CANDIDATE = {"candidate": {"candidate": "candidate:1 1 udp 1 192.0.2.1 9 typ host", "sdpMid": "0"}}


async def trio_in_calm(visitor):
    people = await new_visitors(visitor, 3)
    sockets = []
    for person in people:
        await join(person)
    for person in people:
        socket, _ = await connect(person, CALM_ID)
        sockets.append(socket)
    await settle(sockets, [person.user_id for person in people])
    return people, sockets


async def join_voice(socket, user_id, others) -> None:
    """Join voice and wait until every socket (this one included) has heard it."""
    await socket.send_json_to({"type": "voice_join"})
    for each in (socket, *others):
        status = await receive(each)
        assert status == {**status, "type": "voice_status", "user_id": user_id, "in_voice": True}, status


async def close_all(sockets):
    for socket in sockets:
        await socket.disconnect()


async def test_a_signal_reaches_only_the_addressed_member_with_its_sender(visitor):
    (alice, bob, carol), (a, b, c) = await trio_in_calm(visitor)
    await join_voice(a, alice.user_id, (b, c))
    await join_voice(b, bob.user_id, (a, c))
    await join_voice(c, carol.user_id, (a, b))

    await a.send_json_to({"type": "signal", "to": bob.user_id, "kind": "description", "payload": OFFER})
    assert await receive(b) == {"type": "signal", "from": alice.user_id, "kind": "description", "payload": OFFER}
    await b.send_json_to({"type": "signal", "to": alice.user_id, "kind": "candidate", "payload": CANDIDATE})
    assert await receive(a) == {"type": "signal", "from": bob.user_id, "kind": "candidate", "payload": CANDIDATE}
    assert await c.receive_nothing(timeout=0.3)  # carol heard neither
    assert await a.receive_nothing(timeout=0.1) and await b.receive_nothing(timeout=0.1)
    await close_all((a, b, c))


async def test_no_signal_crosses_before_both_sides_joined_voice(visitor):
    (alice, bob, carol), (a, b, c) = await trio_in_calm(visitor)

    # The sender is not in voice yet.
    await a.send_json_to({"type": "signal", "to": bob.user_id, "kind": "candidate", "payload": CANDIDATE})
    refused = await receive(a)
    assert refused["type"] == "error" and refused["code"] == "not_in_voice" and refused["to"] == bob.user_id

    # The sender is, the addressee (a member, connected) is not.
    await join_voice(a, alice.user_id, (b, c))
    await a.send_json_to({"type": "signal", "to": bob.user_id, "kind": "candidate", "payload": CANDIDATE})
    assert (await receive(a))["code"] == "not_in_voice"
    assert await b.receive_nothing(timeout=0.3) and await c.receive_nothing(timeout=0.1)

    # Once bob joined, the same signal passes.
    await join_voice(b, bob.user_id, (a, c))
    await a.send_json_to({"type": "signal", "to": bob.user_id, "kind": "candidate", "payload": CANDIDATE})
    assert (await receive(b))["from"] == alice.user_id

    # After bob leaves voice, nothing reaches him again.
    await b.send_json_to({"type": "voice_leave"})
    for each in (a, b, c):
        assert (await receive(each))["in_voice"] is False
    await a.send_json_to({"type": "signal", "to": bob.user_id, "kind": "candidate", "payload": CANDIDATE})
    assert (await receive(a))["code"] == "not_in_voice"
    assert await b.receive_nothing(timeout=0.3)
    await close_all((a, b, c))


async def test_signals_to_outsiders_and_across_sessions_are_refused_and_not_relayed(visitor):
    (alice, bob, _), (a, b, c) = await trio_in_calm(visitor)
    dave, erin = await new_visitors(visitor, 2)  # in voice in Books, a session of their own
    await join(dave, "books")
    await join(erin, "books")
    d, _ = await connect(dave, BOOKS_ID)
    e, _ = await connect(erin, BOOKS_ID)
    await settle([d, e], [dave.user_id, erin.user_id])
    await join_voice(d, dave.user_id, (e,))
    await join_voice(a, alice.user_id, (b, c))
    (stranger,) = await new_visitors(visitor, 1)  # in no session at all

    for to in (dave.user_id, stranger.user_id, "not-a-user-id"):
        await a.send_json_to({"type": "signal", "to": to, "kind": "description", "payload": OFFER})
        refused = await receive(a)
        assert refused["type"] == "error" and refused["code"] == "not_in_voice", refused
    await d.send_json_to({"type": "signal", "to": alice.user_id, "kind": "description", "payload": OFFER})
    assert (await receive(d))["code"] == "not_in_voice"
    for each in (a, b, c, d, e):
        assert await each.receive_nothing(timeout=0.2)
    await close_all((a, b, c, d, e))


BAD_SIGNALS = [
    {"type": "signal", "kind": "description", "payload": OFFER},
    {"type": "signal", "to": 5, "kind": "description", "payload": OFFER},
    {"type": "signal", "to": "x", "kind": "video-offer", "payload": OFFER},
    {"type": "signal", "to": "x", "kind": "candidate", "payload": "candidate:1"},
    {"type": "voice_status"},
    {"type": "voice_status", "is_muted": "yes"},
    {"type": "voice_join", "is_muted": 1},
]


async def test_malformed_voice_frames_are_refused(visitor):
    (alice, _, _), (a, b, c) = await trio_in_calm(visitor)
    await join_voice(a, alice.user_id, (b, c))
    for bad in BAD_SIGNALS:
        await a.send_json_to(bad)
        assert (await receive(a))["code"] == "invalid_frame", bad
    assert await b.receive_nothing(timeout=0.2)
    await close_all((a, b, c))
