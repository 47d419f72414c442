"""Voice status in a mood room: mute is stored and outlives a resume, speaking is refused
while muted and limited to 4 changes a second, and every way out of voice (leaving voice,
leaving the room, lost past the grace, a ban) reaches everyone; a blip within the grace keeps the
member in voice."""

from datetime import timedelta
from uuid import UUID

import pytest
from asgiref.sync import sync_to_async

from chat.tests.sockets import expect_close, new_visitors, receive
from moodrooms.models import SessionParticipant
from moodrooms.tests.factories import CALM_ID
from moodrooms.tests.sockets import connect, frames_until, join, settle
from moodrooms.tests.test_voice_signals import close_all, join_voice, trio_in_calm
from reports.services import ban_visitor

pytestmark = pytest.mark.django_db(transaction=True)


def status(user_id, *, in_voice=True, is_speaking=False, is_muted=False) -> dict:
    return {
        "type": "voice_status",
        "user_id": user_id,
        "in_voice": in_voice,
        "is_speaking": is_speaking,
        "is_muted": is_muted,
    }


async def test_mute_is_stored_told_to_everyone_and_outlives_a_resume(visitor, settings):
    settings.RESUME_GRACE_SECONDS = 5
    (alice, bob, carol), (a, b, c) = await trio_in_calm(visitor)
    await join_voice(a, alice.user_id, (b, c))
    await a.send_json_to({"type": "voice_status", "is_muted": True})
    for each in (a, b, c):
        assert await receive(each) == status(alice.user_id, is_muted=True)
    assert (await SessionParticipant.objects.aget(user_id=alice.user_id, is_active=True)).is_muted

    await a.disconnect()  # a blip: alice stays in voice for the grace
    for each in (b, c):
        assert (await receive(each))["type"] == "user_reconnecting"
    a, joined = await connect(alice, CALM_ID)
    assert joined["you"]["is_muted"] is True
    assert [p["is_muted"] for p in joined["participants"] if p["user_id"] == alice.user_id] == [True]
    await a.send_json_to({"type": "voice_join"})
    assert await receive(a) == status(alice.user_id, is_muted=True)
    await a.send_json_to({"type": "voice_status", "is_speaking": True})
    assert (await receive(a))["code"] == "muted"

    # Unmuting and speaking in one frame is fine; so is joining voice unmuted.
    for each in (b, c):
        got = await frames_until(each, "user_resumed", "voice_status")
        assert got["voice_status"] == status(alice.user_id, is_muted=True)
    await a.send_json_to({"type": "voice_status", "is_muted": False, "is_speaking": True})
    for each in (a, b, c):
        assert await receive(each) == status(alice.user_id, is_speaking=True)
    assert not (await SessionParticipant.objects.aget(user_id=alice.user_id, is_active=True)).is_muted
    await close_all((a, b, c))


async def test_speaking_is_refused_while_muted_and_muting_stops_it(visitor):
    (alice, bob, carol), (a, b, c) = await trio_in_calm(visitor)
    await join_voice(a, alice.user_id, (b, c))
    await a.send_json_to({"type": "voice_status", "is_speaking": True})
    for each in (a, b, c):
        assert await receive(each) == status(alice.user_id, is_speaking=True)
    await a.send_json_to({"type": "voice_status", "is_muted": True})
    for each in (a, b, c):
        assert await receive(each) == status(alice.user_id, is_muted=True)  # muting ends speaking
    await a.send_json_to({"type": "voice_status", "is_speaking": True})
    refused = await receive(a)
    assert refused["type"] == "error" and refused["code"] == "muted"
    await a.send_json_to({"type": "voice_join", "is_muted": True})  # joining again muted: no speaking either
    assert await receive(a) == status(alice.user_id, is_muted=True)
    for each in (b, c):
        assert await receive(each) == status(alice.user_id, is_muted=True)
        assert await each.receive_nothing(timeout=0.2)
    await close_all((a, b, c))


async def test_speaking_outside_voice_is_refused(visitor):
    (alice, _, _), (a, b, c) = await trio_in_calm(visitor)
    await a.send_json_to({"type": "voice_status", "is_speaking": True})
    assert (await receive(a))["code"] == "not_in_voice"
    assert await b.receive_nothing(timeout=0.2)
    await close_all((a, b, c))


async def test_speaking_changes_are_limited_to_four_a_second(visitor):
    (alice, bob, _), (a, b, c) = await trio_in_calm(visitor)
    await join_voice(a, alice.user_id, (b, c))
    for index in range(8):  # (5 refusals in a row would close the socket)
        await a.send_json_to({"type": "voice_status", "is_speaking": index % 2 == 0})
    told = refused = 0
    while not await a.receive_nothing(timeout=0.3):
        got = await receive(a)
        if got["type"] == "voice_status":
            told += 1
        else:
            assert got["code"] == "rate_limited" and got["retry_after"] > 0
            refused += 1
    assert refused >= 1 and told + refused == 8
    assert told <= 6  # a burst of 4, plus what refilled while the frames came in
    # Typing has a bucket of its own: it still passes.
    await a.send_json_to({"type": "typing", "is_typing": True})
    heard = await receive(b)
    while heard["type"] == "voice_status":
        heard = await receive(b)
    assert heard["type"] == "typing"
    await close_all((a, b, c))


async def test_leaving_voice_or_the_room_or_being_lost_tells_everyone(visitor, settings):
    settings.RESUME_GRACE_SECONDS = 1
    (alice, bob, carol), (a, b, c) = await trio_in_calm(visitor)
    for socket, person in zip((a, b, c), (alice, bob, carol)):
        await join_voice(socket, person.user_id, [s for s in (a, b, c) if s is not socket])

    await a.send_json_to({"type": "voice_leave"})
    for each in (a, b, c):
        assert await receive(each) == status(alice.user_id, in_voice=False)

    await b.send_json_to({"type": "leave"})
    for each in (a, c):
        got = await frames_until(each, "voice_status", "user_left", "new_message")
        assert got["voice_status"] == status(bob.user_id, in_voice=False)

    await c.disconnect()  # lost: in voice through the grace, out when it ends
    assert (await receive(a))["type"] == "user_reconnecting"
    got = await frames_until(a, "user_left", "voice_status", "new_message")
    assert got["voice_status"] == status(carol.user_id, in_voice=False)
    assert got["user_left"]["reason"] == "lost"
    await close_all((a,))


async def test_a_newcomer_hears_who_is_in_voice(visitor):
    (alice, bob, _), (a, b, c) = await trio_in_calm(visitor)
    await join_voice(a, alice.user_id, (b, c))
    await a.send_json_to({"type": "voice_status", "is_muted": True})
    for each in (a, b, c):
        await receive(each)
    (dave,) = await new_visitors(visitor, 1)
    await join(dave)
    for each in (a, b, c):
        await frames_until(each, "user_joined", "new_message")
    d, _ = await connect(dave, CALM_ID)
    assert await receive(d) == status(alice.user_id, is_muted=True)
    assert await d.receive_nothing(timeout=0.3)  # bob and carol are not in voice
    await settle([a, d], [alice.user_id, dave.user_id])
    await close_all((a, b, c, d))


async def test_a_ban_takes_the_member_out_of_voice_for_everyone(visitor):
    (alice, bob, carol), (a, b, c) = await trio_in_calm(visitor)
    for socket, person in zip((a, b, c), (alice, bob, carol)):
        await join_voice(socket, person.user_id, [s for s in (a, b, c) if s is not socket])

    await sync_to_async(ban_visitor)(visitor_id=UUID(alice.user_id), duration=timedelta(days=1), by=None)

    told = await receive(a)
    while told["type"] != "error":
        told = await receive(a)
    assert told["code"] == "banned"
    await expect_close(a, 4003)
    for each in (b, c):
        heard = await receive(each)
        while heard["type"] != "voice_status":  # (and whatever the room says of the ban)
            heard = await receive(each)
        assert heard == status(alice.user_id, in_voice=False)
    await b.send_json_to({"type": "signal", "to": alice.user_id, "kind": "candidate", "payload": {"candidate": {}}})
    refused = await receive(b)
    while refused["type"] != "error":
        refused = await receive(b)
    assert refused["code"] == "not_in_voice"
    await close_all((b, c))
