"""Moderators read threads in the admin: the list with message counts, a thread's transcript; nothing is editable."""

import pytest

from threads.tests.builders import kept_thread, post

pytestmark = pytest.mark.django_db

THREADS = "/admin/threads/chatthread/"


def test_moderators_see_threads_and_their_transcripts_read_only(admin_client, chatting):
    alice, bob, room_id = chatting
    thread_id = kept_thread(alice, bob, room_id)
    post(alice, thread_id, "a line for the moderators", "c-1")

    listing = admin_client.get(THREADS)
    found = admin_client.get(THREADS, {"q": alice.user_id})
    detail = admin_client.get(f"{THREADS}{thread_id}/change/")

    assert listing.status_code == found.status_code == detail.status_code == 200
    assert [thread.thread_id for thread in found.context["cl"].result_list] == [thread_id]
    assert found.context["cl"].result_list[0].messages_count == 1
    assert b"a line for the moderators" in detail.content
    assert not detail.context["has_change_permission"]
    assert admin_client.get(f"{THREADS}add/").status_code == 403
