"""Asking to keep in touch: only two asks make a thread; outsiders, strangers long gone and repeats make nothing."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import ChatRoom
from threads.models import ChatThread, KeepRequest
from threads.tests.builders import expected_thread_id, keep, kept_thread, thread_row

pytestmark = pytest.mark.django_db


def test_a_first_ask_is_asked_and_creates_no_thread(chatting):
    alice, bob, room_id = chatting

    assert keep(alice, room_id) == {"status": "asked", "thread_id": None}

    assert not ChatThread.objects.exists()
    assert KeepRequest.objects.filter(room_id=room_id).count() == 1


def test_the_second_ask_creates_the_thread_named_by_both_ids_sorted(chatting):
    alice, bob, room_id = chatting
    keep(alice, room_id)

    outcome = keep(bob, room_id)

    thread_id = expected_thread_id(alice.user_id, bob.user_id)
    assert outcome == {"status": "kept", "thread_id": thread_id}
    thread = thread_row(thread_id)
    assert {str(thread.user_a_id), str(thread.user_b_id)} == {alice.user_id, bob.user_id}
    assert str(thread.user_a_id) < str(thread.user_b_id)
    assert thread.closed_at is None


def test_asking_again_is_idempotent_before_and_after_the_thread_exists(chatting):
    alice, bob, room_id = chatting
    assert keep(alice, room_id) == keep(alice, room_id) == {"status": "asked", "thread_id": None}
    assert KeepRequest.objects.filter(room_id=room_id).count() == 1

    thread_id = keep(bob, room_id)["thread_id"]

    assert keep(alice, room_id) == keep(bob, room_id) == {"status": "kept", "thread_id": thread_id}
    assert ChatThread.objects.count() == 1


def test_an_outsider_is_refused_and_nothing_is_stored(chatting, visitor):
    alice, bob, room_id = chatting
    keep(alice, room_id)

    response = visitor().api("post", "/api/chat/keep", {"room_id": room_id})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "not_participant"
    assert KeepRequest.objects.count() == 1
    assert not ChatThread.objects.exists()


def test_someone_still_waiting_alone_has_nobody_to_keep(visitor):
    alice = visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]

    response = alice.api("post", "/api/chat/keep", {"room_id": room_id})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_partner"


def test_an_unknown_room_is_not_found(visitor):
    response = visitor().api("post", "/api/chat/keep", {"room_id": "00000000-0000-4000-8000-000000000000"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "room_not_found"


@pytest.mark.parametrize("body", [{}, {"room_id": 5}, {"room_id": "nope"}, []])
def test_a_malformed_ask_is_a_400(visitor, body):
    response = visitor().api("post", "/api/chat/keep", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_asking_works_for_five_minutes_after_the_chat_ended(chatting, settings):
    alice, bob, room_id = chatting
    keep(alice, room_id)
    assert alice.api("post", "/api/chat/leave", {"room_id": room_id}).status_code == 200
    ChatRoom.objects.filter(id=room_id).update(closed_at=timezone.now() - timedelta(seconds=290))

    assert keep(bob, room_id)["status"] == "kept"


def test_a_one_sided_ask_expires_with_the_window_and_creates_nothing(chatting):
    alice, bob, room_id = chatting
    keep(alice, room_id)
    alice.api("post", "/api/chat/leave", {"room_id": room_id})
    ChatRoom.objects.filter(id=room_id).update(closed_at=timezone.now() - timedelta(seconds=301))

    response = bob.api("post", "/api/chat/keep", {"room_id": room_id})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "keep_expired"
    assert not ChatThread.objects.exists()
    assert not KeepRequest.objects.filter(user_id=bob.user_id).exists()


def test_the_window_follows_the_setting(chatting, settings):
    settings.KEEP_IN_TOUCH_SECONDS = 10
    alice, bob, room_id = chatting
    alice.api("post", "/api/chat/leave", {"room_id": room_id})
    ChatRoom.objects.filter(id=room_id).update(closed_at=timezone.now() - timedelta(seconds=11))

    assert alice.api("post", "/api/chat/keep", {"room_id": room_id}).status_code == 409


def test_the_same_two_people_keeping_in_touch_again_reopen_their_thread(chatting, visitor):
    alice, bob, room_id = chatting
    thread_id = kept_thread(alice, bob, room_id)
    alice.api("post", f"/api/threads/{thread_id}/messages", {"body": "hello again", "client_id": "c1"})
    assert alice.api("delete", f"/api/threads/{thread_id}").status_code == 204
    assert alice.api("post", "/api/chat/leave", {"room_id": room_id}).status_code == 200
    later_room = ChatRoom.objects.create(status=ChatRoom.Status.ACTIVE)
    later_room.participants.create(user_id=alice.user_id)
    later_room.participants.create(user_id=bob.user_id)

    assert keep(bob, str(later_room.id))["status"] == "asked"
    assert keep(alice, str(later_room.id)) == {"status": "kept", "thread_id": thread_id}

    assert ChatThread.objects.count() == 1
    assert thread_row(thread_id).closed_at is None
    history = alice.get(f"/api/threads/{thread_id}/messages").json()["results"]
    assert [message["body"] for message in history] == ["hello again"]
