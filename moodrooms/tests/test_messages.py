"""A member's messages: replies within the session, idempotency, edits with history, reactions."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from moodrooms.models import MessageEdit, MessageReaction, SessionMessage
from moodrooms.selectors import session_messages_page
from moodrooms.services import (
    session_join,
    session_leave,
    session_message_edit,
    session_message_post,
    session_mood_set,
    session_reaction_toggle,
)
from moodrooms.tests.factories import BOOKS_ID, CALM_ID, member_of
from whimsy_project.errors import EditWindowClosed, InvalidInput, MessageNotFound, NotAuthor, NotMember

pytestmark = pytest.mark.django_db


@pytest.fixture
def trio():
    return [member_of(CALM_ID) for _ in range(3)]


def post(user_id, text, **kwargs):
    return session_message_post(session_id=CALM_ID, user_id=user_id, text=text, **kwargs)


def test_a_message_is_stored_with_the_sender_name_and_a_reply(trio):
    alice, bob, _ = trio
    first = post(alice, "  hello all  ").message
    reply = post(bob, "hi!", reply_to=first.id).message
    assert first.content == "hello all" and first.sender_name
    assert reply.reply_to_id == first.id and reply.message_type == "text"


def test_a_reply_to_a_message_of_another_session_is_refused_and_nothing_stored(trio):
    alice, bob, _ = trio
    books_member = member_of(BOOKS_ID)
    foreign = session_message_post(session_id=BOOKS_ID, user_id=books_member, text="elsewhere").message
    before = SessionMessage.objects.count()
    with pytest.raises(InvalidInput):
        post(alice, "reply", reply_to=foreign.id)
    with pytest.raises(InvalidInput):
        post(alice, "reply", reply_to=uuid.uuid4())
    assert SessionMessage.objects.count() == before


def test_a_resend_with_the_same_client_id_is_stored_once(trio):
    alice, bob, _ = trio
    first = post(alice, "once", client_id="c-1")
    again = post(alice, "once", client_id="c-1")
    other = post(bob, "mine too", client_id="c-1")
    assert first.created and not again.created and again.message.id == first.message.id
    assert other.created
    assert SessionMessage.objects.filter(content="once").count() == 1


def test_outsiders_and_leavers_cannot_post(trio):
    alice, _, _ = trio
    with pytest.raises(NotMember):
        post(uuid.uuid4(), "let me in")
    session_leave(user_id=alice, session_id=CALM_ID)
    with pytest.raises(NotMember):
        post(alice, "still here?")


def test_the_author_edits_within_ten_minutes_and_the_original_is_kept(trio):
    alice, _, _ = trio
    message = post(alice, "helo").message
    edited = session_message_edit(session_id=CALM_ID, message_id=message.id, user_id=alice, text="hello")
    assert edited.content == "hello" and edited.is_edited and edited.edited_at is not None
    assert list(MessageEdit.objects.filter(message=message).values_list("previous_content", flat=True)) == ["helo"]


def test_others_cannot_edit_and_nothing_changes(trio):
    alice, bob, _ = trio
    message = post(alice, "mine").message
    with pytest.raises(NotAuthor):
        session_message_edit(session_id=CALM_ID, message_id=message.id, user_id=bob, text="yours")
    message.refresh_from_db()
    assert message.content == "mine" and not message.is_edited
    assert not MessageEdit.objects.exists()


def test_an_edit_after_ten_minutes_is_refused(trio):
    alice, _, _ = trio
    message = post(alice, "old news").message
    SessionMessage.objects.filter(id=message.id).update(created_at=timezone.now() - timedelta(minutes=10, seconds=1))
    with pytest.raises(EditWindowClosed):
        session_message_edit(session_id=CALM_ID, message_id=message.id, user_id=alice, text="new news")
    message.refresh_from_db()
    assert message.content == "old news"


def test_a_message_of_another_session_cannot_be_edited_through_this_one(trio):
    books_member = member_of(BOOKS_ID)
    foreign = session_message_post(session_id=BOOKS_ID, user_id=books_member, text="elsewhere").message
    with pytest.raises(NotMember):
        session_message_edit(session_id=CALM_ID, message_id=foreign.id, user_id=books_member, text="x")
    with pytest.raises(MessageNotFound):
        session_message_edit(session_id=CALM_ID, message_id=foreign.id, user_id=trio[0], text="x")


def test_reactions_toggle_and_count_per_emoji(trio):
    alice, bob, carol = trio
    message = post(alice, "good news").message
    first = session_reaction_toggle(session_id=CALM_ID, message_id=message.id, user_id=bob, emoji="❤️")
    second = session_reaction_toggle(session_id=CALM_ID, message_id=message.id, user_id=carol, emoji="❤️")
    thumbs = session_reaction_toggle(session_id=CALM_ID, message_id=message.id, user_id=carol, emoji="👍")
    assert (first.added, first.count, second.added, second.count, thumbs.count) == (True, 1, True, 2, 1)
    back = session_reaction_toggle(session_id=CALM_ID, message_id=message.id, user_id=bob, emoji="❤️")
    assert (back.added, back.count) == (False, 1)
    page = session_messages_page(session_id=CALM_ID, user_id=carol)
    assert page.reactions[message.id] == [
        {"emoji": "❤️", "count": 1, "mine": True},
        {"emoji": "👍", "count": 1, "mine": True},
    ]
    assert MessageReaction.objects.count() == 2


def test_an_unoffered_emoji_is_refused(trio):
    message = post(trio[0], "hi").message
    with pytest.raises(InvalidInput):
        session_reaction_toggle(session_id=CALM_ID, message_id=message.id, user_id=trio[1], emoji="lol")
    assert not MessageReaction.objects.exists()


def test_the_mood_check_answer_sets_the_mood(trio):
    participant = session_mood_set(session_id=CALM_ID, user_id=trio[0], mood="Hopeful")
    assert participant.mood == "hopeful"
    with pytest.raises(InvalidInput):
        session_mood_set(session_id=CALM_ID, user_id=trio[0], mood="grumpy")


def test_history_is_newest_first_pages_and_hides_other_peoples_mood_checks():
    alice = uuid.uuid4()
    session_join(user_id=alice, session_id=CALM_ID)  # no mood: alice gets a mood-check
    bob = member_of(CALM_ID)
    texts = [post(bob, f"m{i}").message for i in range(5)]
    page = session_messages_page(session_id=CALM_ID, user_id=bob, limit=3)
    assert [m.content for m in page.messages] == ["m2", "m3", "m4"]
    older = session_messages_page(session_id=CALM_ID, user_id=bob, before=page.next_before, limit=3)
    assert [m.content for m in older.messages] == [texts[0].sender_name + " joined", "m0", "m1"]
    assert all(m.message_type != "mood-check" for m in older.messages)
    alice_view = session_messages_page(session_id=CALM_ID, user_id=alice, limit=100)
    assert [m.message_type for m in alice_view.messages].count("mood-check") == 1
    after = session_messages_page(session_id=CALM_ID, user_id=bob, after=texts[2].id)
    assert [m.content for m in after.messages] == ["m3", "m4"]
    with pytest.raises(NotMember):
        session_messages_page(session_id=CALM_ID, user_id=uuid.uuid4())
