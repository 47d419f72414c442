"""Quiet-room starters, stale memberships and empty overflow sessions."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from moodrooms.models import ChatSession, SessionMessage, SessionParticipant
from moodrooms.prompts import STARTERS
from moodrooms.services import session_message_post, session_prompt_if_quiet, sessions_prompt_quiet
from moodrooms.tests.factories import BOOKS_ID, CALM_ID, calm, member_of, members

pytestmark = pytest.mark.django_db


def age_messages(session_id, seconds):
    """Move the session's messages `seconds` into the past, keeping their order."""
    SessionMessage.objects.filter(session_id=session_id).update(created_at=F("created_at") - timedelta(seconds=seconds))


def test_a_quiet_session_gets_one_starter_that_fits_its_mood(settings):
    settings.MOOD_ROOM_QUIET_SECONDS = 60
    alice = member_of(CALM_ID)
    assert session_prompt_if_quiet(session_id=CALM_ID) is None  # "joined" was just now
    age_messages(CALM_ID, 61)
    prompt = session_prompt_if_quiet(session_id=CALM_ID)
    assert prompt.message_type == "ai-prompt" and prompt.content in STARTERS["calm"]
    age_messages(CALM_ID, 600)
    assert session_prompt_if_quiet(session_id=CALM_ID) is None  # never two in a row
    session_message_post(session_id=CALM_ID, user_id=alice, text="hi")
    age_messages(CALM_ID, 61)
    assert session_prompt_if_quiet(session_id=CALM_ID).content in STARTERS["calm"]


def test_empty_sessions_get_no_starter(settings):
    settings.MOOD_ROOM_QUIET_SECONDS = 10
    ChatSession.objects.update(created_at=timezone.now() - timedelta(hours=1))
    assert sessions_prompt_quiet() == 0
    assert not SessionMessage.objects.exists()


def test_the_command_ends_stale_memberships_and_closes_old_empty_overflow_sessions(settings):
    everyone = members(7)
    calm_2 = ChatSession.objects.get(name="Calm 2")
    live = member_of(BOOKS_ID)
    SessionParticipant.objects.filter(user_id__in=everyone).update(joined_at=timezone.now() - timedelta(hours=1))
    SessionParticipant.objects.filter(user_id=live).update(heartbeat_at=timezone.now())
    opened_empty = ChatSession.objects.create(category="books", name="Books 2")
    ChatSession.objects.filter(id=opened_empty.id).update(updated_at=timezone.now() - timedelta(hours=1))

    out = StringIO()
    call_command("cleanup_sessions", stdout=out)

    assert "7 stale memberships ended" in out.getvalue()
    assert calm().current_participants == 0 and calm().is_active
    calm_2.refresh_from_db()
    assert not calm_2.is_active
    opened_empty.refresh_from_db()
    assert not opened_empty.is_active
    assert SessionParticipant.objects.get(user_id=live).is_active
    assert SessionMessage.objects.filter(session_id=CALM_ID, content__endswith=" left").count() == 6


def test_the_dry_run_changes_nothing():
    members(2)
    SessionParticipant.objects.update(joined_at=timezone.now() - timedelta(hours=1))
    out = StringIO()
    call_command("cleanup_sessions", "--dry-run", stdout=out)
    assert "2 stale memberships" in out.getvalue()
    assert calm().current_participants == 2
