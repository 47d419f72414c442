"""Joining and leaving: the fullest session with a place, overflow sessions, one session per
visitor, the count always equal to the active members."""

import uuid
from types import SimpleNamespace

import pytest

from chat.models import Visitor
from moodrooms.models import ChatSession, SessionMessage, SessionParticipant
from moodrooms.services import session_join, session_join_by_category, session_leave
from moodrooms.tests.factories import BOOKS_ID, CALM_ID, calm, member_of, members
from whimsy_project.errors import Banned, InvalidInput, NotMember, RoomFull, SessionClosed, SessionNotFound

pytestmark = pytest.mark.django_db


def assert_counts_match_members():
    for session in ChatSession.objects.all():
        active = SessionParticipant.objects.filter(session=session, is_active=True).count()
        assert session.current_participants == active, session.name
        assert active <= session.max_participants


def test_the_seven_seeded_sessions_exist_with_their_moods():
    seeded = ChatSession.objects.filter(is_seeded=True).order_by("id")
    assert [s.name for s in seeded] == ["Motivated", "Hopeful", "Lonely", "Joyful", "Calm", "Loving", "Books"]
    assert all(s.is_active and s.max_participants == 6 and s.current_participants == 0 for s in seeded)


def test_a_first_join_creates_the_visitor_row_with_a_generated_name():
    user_id = uuid.uuid4()
    joined = session_join_by_category(user_id=user_id, category="calm")
    visitor = Visitor.objects.get(id=user_id)
    assert visitor.display_name and visitor.avatar
    assert joined.session.id == CALM_ID and joined.joined


def test_joiners_fill_the_seeded_session_then_open_calm_2_then_fill_it():
    members(6)
    assert calm().current_participants == 6
    seventh = uuid.uuid4()
    joined = session_join_by_category(user_id=seventh, category="Calm")
    assert joined.session.name == "Calm 2" and joined.session.category == "calm" and not joined.session.is_seeded
    eighth = uuid.uuid4()
    assert session_join_by_category(user_id=eighth, category="calm").session.id == joined.session.id
    assert_counts_match_members()


def test_the_fullest_session_with_a_free_place_is_chosen():
    members(6)
    calm_2 = session_join_by_category(user_id=uuid.uuid4(), category="calm").session
    leaver = SessionParticipant.objects.filter(session_id=CALM_ID, is_active=True).first().user_id
    session_leave(user_id=leaver, session_id=CALM_ID)
    # Calm has 5 of 6, Calm 2 has 1: the fuller one with a place wins.
    assert session_join_by_category(user_id=uuid.uuid4(), category="calm").session.id == CALM_ID
    assert session_join_by_category(user_id=uuid.uuid4(), category="calm").session.id == calm_2.id
    assert_counts_match_members()


def test_joining_a_full_session_by_id_is_refused_and_changes_nothing():
    members(6)
    outsider = uuid.uuid4()
    with pytest.raises(RoomFull):
        session_join(user_id=outsider, session_id=CALM_ID)
    assert not SessionParticipant.objects.filter(user_id=outsider).exists()
    assert calm().current_participants == 6


def test_joining_another_session_leaves_the_first():
    (user_id,) = members(1)
    joined = session_join(user_id=user_id, session_id=BOOKS_ID, mood="curious")
    assert joined.joined
    assert calm().current_participants == 0
    assert ChatSession.objects.get(id=BOOKS_ID).current_participants == 1
    assert SessionParticipant.objects.filter(user_id=user_id, is_active=True).get().session_id == BOOKS_ID
    assert SessionMessage.objects.filter(session_id=CALM_ID, content__endswith=" left").count() == 1


def test_joining_the_session_you_are_in_changes_nothing():
    (user_id,) = members(1)
    again = session_join(user_id=user_id, session_id=CALM_ID)
    same_mood = session_join_by_category(user_id=user_id, category="calm")
    assert not again.joined and not same_mood.joined
    assert calm().current_participants == 1
    assert SessionParticipant.objects.filter(user_id=user_id).count() == 1


def test_an_emptied_overflow_session_closes_and_a_seeded_one_stays():
    everyone = members(7)
    calm_2 = ChatSession.objects.get(name="Calm 2")
    session_leave(user_id=everyone[-1], session_id=calm_2.id)
    calm_2.refresh_from_db()
    assert not calm_2.is_active and calm_2.current_participants == 0
    for user_id in everyone[:-1]:
        session_leave(user_id=user_id, session_id=CALM_ID)
    assert calm().is_active and calm().current_participants == 0
    with pytest.raises(SessionClosed):
        session_join(user_id=uuid.uuid4(), session_id=calm_2.id)


def test_a_closed_overflow_number_is_used_again():
    everyone = members(7)
    session_leave(user_id=everyone[-1], session_id=ChatSession.objects.get(name="Calm 2").id)
    assert session_join_by_category(user_id=uuid.uuid4(), category="calm").session.name == "Calm 2"
    assert ChatSession.objects.filter(name="Calm 2").count() == 2  # the closed one is kept for moderators


def test_leaving_a_session_you_are_not_in_is_refused():
    (user_id,) = members(1)
    with pytest.raises(NotMember):
        session_leave(user_id=user_id, session_id=BOOKS_ID)
    with pytest.raises(NotMember):
        session_leave(user_id=uuid.uuid4(), session_id=CALM_ID)
    with pytest.raises(SessionNotFound):
        session_leave(user_id=user_id, session_id=uuid.uuid4())
    assert calm().current_participants == 1


def test_join_and_leave_post_system_messages_with_the_name():
    user_id = member_of(CALM_ID)
    name = Visitor.objects.get(id=user_id).display_name
    session_leave(user_id=user_id, session_id=CALM_ID)
    system = SessionMessage.objects.filter(message_type="system").order_by("created_at")
    texts = list(system.values_list("content", flat=True))
    assert texts == [f"{name} joined", f"{name} left"]


def test_a_joiner_without_a_mood_gets_a_private_mood_check():
    user_id = uuid.uuid4()
    session_join(user_id=user_id, session_id=CALM_ID)
    check = SessionMessage.objects.get(message_type="mood-check")
    assert check.recipient_id == user_id and check.content == "How are you feeling?"
    member_of(CALM_ID, mood="calm")
    assert SessionMessage.objects.filter(message_type="mood-check").count() == 1


@pytest.mark.parametrize("category, mood", [("sleepy", ""), ("calm", "furious"), ("", "")])
def test_unknown_moods_and_categories_are_refused(category, mood):
    with pytest.raises(InvalidInput):
        session_join_by_category(user_id=uuid.uuid4(), category=category, mood=mood)
    assert not SessionParticipant.objects.exists()


def test_a_banned_visitor_cannot_join(monkeypatch):
    banned = uuid.uuid4()
    # The ban check as moodrooms sees it: the one reports registers in chat.moderation.
    monkeypatch.setattr(
        "chat.moderation._ban_check",
        lambda *, visitor_id, ip_hash="": SimpleNamespace(expires_at=None) if visitor_id == banned else None,
    )
    with pytest.raises(Banned):
        session_join(user_id=banned, session_id=CALM_ID)
    with pytest.raises(Banned):
        session_join_by_category(user_id=banned, category="books")
    assert not SessionParticipant.objects.filter(user_id=banned).exists()
    assert calm().current_participants == 0
