"""purge_messages also purges keep in touch: old thread messages, long-ended threads, asks nobody can answer."""

from datetime import timedelta
from io import StringIO

import pytest
from django.utils import timezone

from chat.management.commands.purge_messages import Command
from chat.models import ChatRoom
from threads.models import ChatThread, KeepRequest, ThreadMessage
from threads.tests.builders import keep, kept_thread, post

pytestmark = pytest.mark.django_db


def purge(*, dry_run=False) -> list[str]:
    out = StringIO()
    Command(stdout=out).handle(older_than=timedelta(days=7), batch_size=2, dry_run=dry_run)
    return out.getvalue().splitlines()


def test_thread_messages_go_after_their_own_retention_and_ended_threads_after_theirs(chatting, visitor, settings):
    settings.THREAD_MESSAGE_RETENTION_DAYS = 30
    settings.THREAD_ENDED_RETENTION_DAYS = 7
    alice, bob, room_id = chatting
    thread_id = kept_thread(alice, bob, room_id)
    for i in range(3):
        post(alice, thread_id, f"old {i}", f"o{i}")
    post(bob, thread_id, "recent", "r")
    ThreadMessage.objects.filter(body__startswith="old").update(created_at=timezone.now() - timedelta(days=31))
    # A second thread, ended 8 days ago, and a third ended yesterday.
    ended_long_ago, ended_lately = [], []
    for bucket, days in ((ended_long_ago, 8), (ended_lately, 1)):
        me, other = visitor(), visitor()
        room = me.api("post", "/api/chat/start").json()["room_id"]
        other.api("post", "/api/chat/start")
        other_thread = kept_thread(me, other, room)
        post(me, other_thread, "in an ended thread", "e")
        ChatThread.objects.filter(thread_id=other_thread).update(closed_at=timezone.now() - timedelta(days=days))
        bucket.append(other_thread)

    assert purge(dry_run=True)[1:] == [
        "Would delete 3 thread messages.", "Would delete 1 ended threads.", "Would delete 0 expired keep requests."
    ]
    assert ThreadMessage.objects.count() == 6

    assert purge()[1:] == ["Deleted 3 thread messages.", "Deleted 1 ended threads.", "Deleted 0 expired keep requests."]

    assert set(ThreadMessage.objects.values_list("body", flat=True)) == {"recent", "in an ended thread"}
    assert set(ChatThread.objects.values_list("thread_id", flat=True)) == {thread_id, *ended_lately}


def test_lone_asks_go_once_their_chat_is_past_the_keep_window(chatting, visitor):
    alice, bob, room_id = chatting
    keep(alice, room_id)
    carol, dave = visitor(), visitor()
    live_room = carol.api("post", "/api/chat/start").json()["room_id"]
    dave.api("post", "/api/chat/start")
    keep(carol, live_room)
    alice.api("post", "/api/chat/leave", {"room_id": room_id})
    ChatRoom.objects.filter(id=room_id).update(closed_at=timezone.now() - timedelta(seconds=301))

    assert purge()[-1] == "Deleted 1 expired keep requests."
    assert list(KeepRequest.objects.values_list("room_id", flat=True)) == [ChatRoom.objects.get(id=live_room).id]
