"""A mood room member's resume and loss are counted once each (whimsy_resumes_total,
whimsy_partners_lost_total), however many members' sockets saw them: the socket
machinery counts them for every kind."""

import pytest
from prometheus_client import REGISTRY

from moodrooms.models import SessionParticipant
from moodrooms.tests.factories import CALM_ID
from moodrooms.tests.sockets import connect, frames_until, settle
from moodrooms.tests.test_session_socket import close_all, trio
from chat.tests.sockets import receive

pytestmark = pytest.mark.django_db(transaction=True)


def value(name: str) -> float:
    return REGISTRY.get_sample_value(name) or 0.0


async def test_a_resume_and_a_loss_in_a_mood_room_count_once_each(visitor, settings):
    settings.RESUME_GRACE_SECONDS = 1
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    resumes, lost = value("whimsy_resumes_total"), value("whimsy_partners_lost_total")

    await a.disconnect()
    for each in (b, c):
        assert (await receive(each))["type"] == "user_reconnecting"
    a, _ = await connect(alice, CALM_ID)
    for each in (b, c):
        assert (await receive(each))["type"] == "user_resumed"
    await settle([a, b, c], [alice.user_id, bob.user_id, carol.user_id])
    assert value("whimsy_resumes_total") == resumes + 1

    await a.disconnect()
    for each in (b, c):
        assert (await receive(each))["type"] == "user_reconnecting"
    for each in (b, c):
        assert (await frames_until(each, "user_left", "new_message"))["user_left"]["reason"] == "lost"
    assert not await SessionParticipant.objects.filter(user_id=alice.user_id, is_active=True).aexists()
    assert await b.receive_nothing(timeout=0.5)  # both sockets' timers have run
    assert value("whimsy_partners_lost_total") == lost + 1
    assert value("whimsy_resumes_total") == resumes + 1
    await close_all((b, c))
