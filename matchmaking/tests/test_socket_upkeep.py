"""Open room sockets vouch for their participations through the process's one upkeep task
(chat.sockets.upkeep): every beat, one statement for all of them; a closed socket's row is
left to age, so the stale-room sweep can find it."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import ChatParticipant
from chat.tests.sockets import pair
from matchmaking import consumers

pytestmark = pytest.mark.django_db(transaction=True)

LONG_AGO = timedelta(hours=1)


@pytest.fixture
def heartbeat_calls(monkeypatch) -> list[list]:
    """The participant ids of each heartbeat call the sockets' upkeep makes (the real one runs)."""
    calls = []
    real_heartbeat = consumers.participants_heartbeat

    def recording_heartbeat(*, participant_ids):
        calls.append(sorted(participant_ids))
        real_heartbeat(participant_ids=participant_ids)

    monkeypatch.setattr(consumers, "participants_heartbeat", recording_heartbeat)
    return calls


async def heartbeats(room_id) -> dict[str, object]:
    rows = ChatParticipant.objects.filter(room_id=room_id).values_list("user_id", "heartbeat_at")
    return {str(user_id): at async for user_id, at in rows}


async def test_open_room_sockets_are_vouched_for_together_and_a_closed_one_is_not(visitor, settings, heartbeat_calls):
    settings.HEARTBEAT_SECONDS = 0.2
    calls = heartbeat_calls
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    await bob_socket.disconnect()  # a blip: Bob's row must age from now on
    await ChatParticipant.objects.filter(room_id=room_id).aupdate(heartbeat_at=timezone.now() - LONG_AGO)
    calls.clear()

    await asyncio.sleep(0.7)

    beats = await heartbeats(room_id)
    assert beats[alice.user_id] > timezone.now() - timedelta(seconds=1)
    assert beats[bob.user_id] < timezone.now() - LONG_AGO + timedelta(seconds=1)
    alice_row = await ChatParticipant.objects.aget(room_id=room_id, user_id=alice.user_id)
    assert calls and all(call == [alice_row.id] for call in calls)


async def test_one_beat_vouches_for_every_open_room_socket_in_one_call(visitor, settings, heartbeat_calls):
    settings.HEARTBEAT_SECONDS = 0.3
    calls = heartbeat_calls
    pairs = [await pair(visitor) for _ in range(3)]
    calls.clear()

    await asyncio.sleep(0.45)

    assert calls and all(len(ids) == 6 for ids in calls)
    for _, _, room_id, _, _ in pairs:
        assert all(at > timezone.now() - timedelta(seconds=1) for at in (await heartbeats(room_id)).values())
