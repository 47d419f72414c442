"""Keep in touch under real concurrency on PostgreSQL: separate connections on real threads."""

import threading
import uuid

import pytest
from django.utils import timezone

from chat.models import ChatParticipant, ChatRoom, Visitor
from conftest import run_concurrently
from threads.models import ChatThread, ThreadMessage, thread_id_for
from threads.selectors import thread_messages_page
from threads.services import keep_request, thread_message_post, thread_open

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _room_of(first: uuid.UUID, second: uuid.UUID, *, ended: bool = False) -> uuid.UUID:
    """A chat of these two, going on or (ended) just over."""
    now = timezone.now() if ended else None
    room = ChatRoom.objects.create(status=ChatRoom.Status.CLOSED if ended else ChatRoom.Status.ACTIVE, closed_at=now)
    for user_id in (first, second):
        Visitor.objects.get_or_create(id=user_id)
        ChatParticipant.objects.create(room=room, user_id=user_id, left_at=now)
    return room.id


def test_both_people_asking_at_the_same_instant_make_exactly_one_thread_and_one_kept():
    rounds = 20
    pairs = [(uuid.uuid4(), uuid.uuid4()) for _ in range(rounds)]
    rooms = [_room_of(first, second) for first, second in pairs]

    outcomes = run_concurrently(lambda i: keep_request(room_id=rooms[i // 2], user_id=pairs[i // 2][i % 2]), 2 * rounds)

    for index, (first, second) in enumerate(pairs):
        both = {outcomes[2 * index].status, outcomes[2 * index + 1].status}
        assert both == {"asked", "kept"}, both  # exactly one of the two asks made the thread
        assert ChatThread.objects.filter(thread_id=thread_id_for(first, second)).count() == 1
    assert ChatThread.objects.count() == rounds


def test_the_same_two_people_kept_from_two_rooms_at_once_share_one_thread():
    first, second = uuid.uuid4(), uuid.uuid4()
    rooms = [_room_of(first, second, ended=True), _room_of(first, second)]
    for room_id in rooms:
        keep_request(room_id=room_id, user_id=first)

    outcomes = run_concurrently(lambda i: keep_request(room_id=rooms[i], user_id=second), 2)

    assert [o.thread_id for o in outcomes] == [thread_id_for(first, second)] * 2
    assert ChatThread.objects.count() == 1


def test_paging_back_while_both_members_keep_posting_never_skips_nor_repeats_a_message():
    first, second = uuid.uuid4(), uuid.uuid4()
    for user_id in (first, second):
        Visitor.objects.create(id=user_id)
    thread = thread_open(user_ids=(first, second))
    for i in range(120):
        thread_message_post(thread_id=thread.thread_id, sender_id=(first, second)[i % 2], body=f"old {i}",
                            client_id=f"old-{i}")
    existing = set(ThreadMessage.objects.values_list("id", flat=True))
    stop = threading.Event()

    def reader_or_writer(i: int):
        if i == 0:  # pages back from the newest page, 7 at a time, while the writers post
            try:
                seen, before = [], None
                while True:
                    page = thread_messages_page(thread_id=thread.thread_id, user_id=first, before=before, limit=7)
                    seen = [m.id for m in page.messages] + seen
                    if page.next_before is None:
                        return seen
                    before = page.next_before
            finally:
                stop.set()
        sender = (first, second)[i % 2]
        posted = 0
        while not stop.is_set() or posted < 20:
            thread_message_post(thread_id=thread.thread_id, sender_id=sender, body=f"new {i}.{posted}",
                                client_id=f"new-{i}-{posted}")
            posted += 1
        return posted

    seen, *posted = run_concurrently(reader_or_writer, 5)

    assert len(seen) == len(set(seen)), "a message was returned twice"
    assert existing <= set(seen), "a message that existed before paging began was skipped"
    assert all(count >= 20 for count in posted)
    ordered = list(ThreadMessage.objects.order_by("created_at", "id").values_list("id", flat=True))
    assert seen == ordered[ordered.index(seen[0]):][: len(seen)], "pages are not one contiguous stretch"
