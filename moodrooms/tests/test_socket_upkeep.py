"""Open mood room sockets vouch for their members' stays through the process's one upkeep
task (chat.sockets.upkeep), and a session gone quiet gets its starter from it."""

import asyncio
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.tests.sockets import receive
from moodrooms.models import SessionMessage, SessionParticipant
from moodrooms.tests.factories import CALM_ID
from moodrooms.tests.test_session_socket import close_all, trio

pytestmark = pytest.mark.django_db(transaction=True)


async def test_members_with_open_sockets_are_vouched_for_and_a_quiet_session_gets_a_starter(visitor, settings):
    settings.HEARTBEAT_SECONDS = 0.2
    people, sockets, _ = await trio(visitor)
    settings.MOOD_ROOM_QUIET_SECONDS = 0  # (not before: a starter during the joins would go unseen)
    await sockets[2].disconnect()  # Carol's blip: her stay must age from now on
    long_ago = timezone.now() - timedelta(hours=1)
    await SessionParticipant.objects.filter(session_id=CALM_ID).aupdate(heartbeat_at=long_ago)

    await asyncio.sleep(0.7)

    beats = {
        str(user_id): at
        async for user_id, at in SessionParticipant.objects.filter(session_id=CALM_ID, is_active=True).values_list(
            "user_id", "heartbeat_at"
        )
    }
    assert beats[people[0].user_id] > timezone.now() - timedelta(seconds=1)
    assert beats[people[1].user_id] > timezone.now() - timedelta(seconds=1)
    assert beats[people[2].user_id] == long_ago
    starters = SessionMessage.objects.filter(session_id=CALM_ID, message_type=SessionMessage.Type.AI_PROMPT)
    assert await starters.acount() == 1  # never two in a row, however many sockets and beats
    frames = [await receive(sockets[0])]
    while frames[-1]["type"] != "new_message":
        frames.append(await receive(sockets[0]))
    assert frames[-1]["message"]["content"] == (await starters.aget()).content
    await close_all(sockets[:2])
