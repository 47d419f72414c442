"""Sessions, members and messages in the admin: lists with filters, changes through the
services (never a stale count written back), retiring a session."""

import pytest

from moodrooms.models import ChatSession, SessionParticipant
from moodrooms.services import session_message_edit, session_message_post
from moodrooms.tests.factories import CALM_ID, calm, members

pytestmark = pytest.mark.django_db

SESSIONS = "/admin/moodrooms/chatsession/"


def test_the_lists_show_sessions_members_and_messages_with_their_filters(admin_client):
    alice, _ = members(2)
    message = session_message_post(session_id=CALM_ID, user_id=alice, text="helo").message
    session_message_edit(session_id=CALM_ID, message_id=message.id, user_id=alice, text="hello")

    sessions = admin_client.get(SESSIONS, {"category": "calm"})
    assert sessions.status_code == 200
    assert [s.name for s in sessions.context["cl"].result_list] == ["Calm"]
    assert admin_client.get(f"{SESSIONS}{CALM_ID}/change/").status_code == 200
    stays = admin_client.get("/admin/moodrooms/sessionparticipant/", {"is_active__exact": "1"})
    assert len(stays.context["cl"].result_list) == 2
    detail = admin_client.get(f"/admin/moodrooms/sessionmessage/{message.id}/change/")
    assert detail.status_code == 200 and b"helo" in detail.content  # the text before the edit


def test_a_size_change_goes_through_the_service_and_keeps_the_count(admin_client):
    members(3)
    form = {"description": "Quieter", "max_participants": 4}
    response = admin_client.post(f"{SESSIONS}{CALM_ID}/change/", _with_inline(form))
    assert response.status_code == 302, response.content[:2000]
    session = calm()
    assert (session.max_participants, session.description, session.current_participants) == (4, "Quieter", 3)

    too_small = admin_client.post(f"{SESSIONS}{CALM_ID}/change/", _with_inline({**form, "max_participants": 2}))
    assert too_small.status_code == 302
    assert calm().max_participants == 4  # refused: 3 people are in it


def test_retiring_a_session_makes_everyone_leave(admin_client):
    members(2)
    response = admin_client.post(SESSIONS, {"action": "retire", "_selected_action": [str(CALM_ID)]})
    assert response.status_code == 302
    session = calm()
    assert not session.is_active and session.current_participants == 0
    assert not SessionParticipant.objects.filter(is_active=True).exists()
    assert ChatSession.objects.filter(is_active=True).count() == 6


def _with_inline(form: dict) -> dict:
    """The members inline's management form, as the change page posts it."""
    prefix = "participants"
    return {
        **form,
        f"{prefix}-TOTAL_FORMS": 0,
        f"{prefix}-INITIAL_FORMS": 0,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
