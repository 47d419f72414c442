"""Matchmaking invariants under real concurrency: threads, separate connections, a barrier.

PostgreSQL only: SQLite has no row locks, so these would prove nothing there.
"""

import random
import threading
import time
import uuid

import pytest
from django.db import connection, transaction

from chat.models import ChatMessage, ChatParticipant, ChatRoom
from chat.services import NewMessage, PostedMessage, messages_store
from conftest import run_concurrently, wait_for_a_lock_wait
from matchmaking.services import find_available_room, leave_room, settle_waiting_user
from whimsy_project.errors import RoomClosed

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def violations() -> dict[str, int]:
    """Counts of every state the invariants forbid, straight from SQL."""
    queries = {
        "rooms_over_two": """
            SELECT count(*) FROM (SELECT room_id FROM chat_participants WHERE left_at IS NULL
                                  GROUP BY room_id HAVING count(*) > 2) t""",
        "users_in_two_rooms": """
            SELECT count(*) FROM (SELECT user_id FROM chat_participants WHERE left_at IS NULL
                                  GROUP BY user_id HAVING count(*) > 1) t""",
        "matched_with_self": """
            SELECT count(*) FROM (SELECT room_id FROM chat_participants WHERE left_at IS NULL
                                  GROUP BY room_id HAVING count(*) = 2 AND count(DISTINCT user_id) < 2) t""",
        "active_rooms_not_two": """
            SELECT count(*) FROM chat_rooms r WHERE r.status = 'active' AND
                (SELECT count(*) FROM chat_participants p WHERE p.room_id = r.id AND p.left_at IS NULL) <> 2""",
        "waiting_rooms_not_one": """
            SELECT count(*) FROM chat_rooms r WHERE r.status = 'waiting' AND
                (SELECT count(*) FROM chat_participants p WHERE p.room_id = r.id AND p.left_at IS NULL) <> 1""",
    }
    with connection.cursor() as cursor:
        found = {}
        for name, sql in queries.items():
            cursor.execute(sql)
            found[name] = cursor.fetchone()[0]
    return found


def settle_as_waiting_sockets_do(user_ids: list, *, allowed_waiting: int, rounds: int = 10) -> None:
    """Each waiting person's socket runs settle_waiting_user on its own timer, with jitter:
    here everyone's at once, on real threads, round after round until the waiting are paired."""
    for _ in range(rounds):
        if ChatRoom.objects.filter(status=ChatRoom.Status.WAITING).count() <= allowed_waiting:
            return

        def settle(i: int) -> None:
            time.sleep(random.uniform(0, 0.02))
            settle_waiting_user(user_id=user_ids[i])

        run_concurrently(settle, len(user_ids), threads=min(32, len(user_ids)))


def test_a_storm_of_500_starters_breaks_no_invariant(capsys):
    users = [uuid.uuid4() for _ in range(500)]

    started = time.monotonic()
    matches = run_concurrently(lambda i: find_available_room(user_id=users[i]), len(users), threads=32)
    settle_as_waiting_sockets_do(users, allowed_waiting=len(users) % 2)
    elapsed = time.monotonic() - started

    assert violations() == dict.fromkeys(violations(), 0)
    open_rooms = dict(ChatParticipant.objects.filter(left_at__isnull=True).values_list("user_id", "room_id"))
    assert set(open_rooms) == set(users), "everyone is in exactly one open room"
    assert ChatRoom.objects.filter(status=ChatRoom.Status.WAITING).count() <= len(users) % 2
    # A match reported as a pairing is real: both people are in that room.
    for user_id, match in zip(users, matches):
        if match.partner_id is not None and open_rooms[user_id] == match.room_id:
            assert open_rooms[match.partner_id] == match.room_id
    with capsys.disabled():
        print(f"\nstorm: {len(users)} users, 32 threads, {elapsed:.2f} s, violations: 0")


def test_the_same_user_starting_twice_at_once_gets_one_room():
    user = uuid.uuid4()
    first, second = run_concurrently(lambda _: find_available_room(user_id=user), 2)

    assert first.room_id == second.room_id
    assert ChatParticipant.objects.filter(user_id=user, left_at__isnull=True).count() == 1
    assert ChatRoom.objects.count() == 1


def test_two_users_starting_at_the_same_instant_end_up_paired():
    for _ in range(20):  # the race is narrow: try it many times
        ChatParticipant.objects.all().delete()
        ChatRoom.objects.all().delete()
        alice, bob = pair = uuid.uuid4(), uuid.uuid4()

        run_concurrently(lambda i, pair=pair: find_available_room(user_id=pair[i]), 2)
        settle_as_waiting_sockets_do(list(pair), allowed_waiting=0)

        rooms = dict(ChatParticipant.objects.filter(left_at__isnull=True).values_list("user_id", "room_id"))
        assert rooms[alice] == rooms[bob]
        assert ChatRoom.objects.get(id=rooms[alice]).status == ChatRoom.Status.ACTIVE


def test_mixed_modes_and_interests_under_concurrency_keep_the_invariants():
    users = [uuid.uuid4() for _ in range(120)]

    def start(i: int):
        return find_available_room(
            user_id=users[i], mode=("text", "video")[i % 2], interests=[("a", "b", "c")[i % 3]] if i % 4 else []
        )

    run_concurrently(start, len(users), threads=16)

    assert violations() == dict.fromkeys(violations(), 0)
    pairs = ChatParticipant.objects.filter(left_at__isnull=True, room__status="active").values_list(
        "room__mode", "room_id"
    )
    modes_by_room: dict = {}
    for mode, room_id in pairs:
        modes_by_room.setdefault(room_id, set()).add(mode)
    assert all(len(modes) == 1 for modes in modes_by_room.values())


def test_a_batch_of_messages_waits_for_a_leave_in_progress_and_is_refused_once_it_commits():
    alice, bob = uuid.uuid4(), uuid.uuid4()
    find_available_room(user_id=alice)
    room_id = find_available_room(user_id=bob).room_id
    left = threading.Event()

    def leave_or_write(i: int):
        if i == 0:
            with transaction.atomic():
                leave_room(user_id=alice, room_id=room_id)
                left.set()
                wait_for_a_lock_wait()  # the batch waits for this Leave to commit
            return None
        assert left.wait(10)
        batch = [NewMessage(room_id=room_id, sender_id=bob, text=f"late {k}", client_id=f"b-{k}") for k in range(2)]
        return messages_store(messages=batch)

    _, results = run_concurrently(leave_or_write, 2)

    assert [type(r) for r in results] == [RoomClosed, RoomClosed]
    assert not ChatMessage.objects.filter(room_id=room_id).exists()


def test_a_batch_that_waited_for_another_writer_is_stamped_after_its_messages():
    """History and its paging go by (stamp, id): a message stored later must not carry an
    earlier stamp, or a page read in between would skip it for good."""
    alice, bob = uuid.uuid4(), uuid.uuid4()
    find_available_room(user_id=alice)
    room_id = find_available_room(user_id=bob).room_id
    locked = threading.Event()

    def write(i: int):
        if i == 0:  # a writer (another process's) holds the room first and stores after the wait
            with transaction.atomic():
                ChatRoom.objects.select_for_update().get(id=room_id)
                locked.set()
                wait_for_a_lock_wait()
                return messages_store(messages=[NewMessage(room_id=room_id, sender_id=alice, text="first", client_id="a")])
        assert locked.wait(10)
        return messages_store(messages=[NewMessage(room_id=room_id, sender_id=bob, text="second", client_id="b")])

    (first,), (second,) = run_concurrently(write, 2)

    assert second.message.timestamp > first.message.timestamp
    history = ChatMessage.objects.filter(room_id=room_id).order_by("timestamp", "id")
    assert [(m.message, m.timestamp) for m in history] == [
        ("first", first.message.timestamp), ("second", second.message.timestamp),
    ]  # fmt: skip

def test_writers_racing_a_leave_neither_deadlock_nor_store_after_it():
    """The sockets' batches (one writer per server process) and a Leave, at once, many times:
    no deadlock (a Leave locks the visitor, then the room; a batch locks the room, then its
    foreign keys share the visitor), nothing stored after the Leave returned, and every stored
    message, and only those, answered as stored."""
    for round_ in range(10):
        alice, bob = uuid.uuid4(), uuid.uuid4()
        find_available_room(user_id=alice)
        room_id = find_available_room(user_id=bob).room_id
        held_when_left: list[int] = []

        def write_or_leave(i: int) -> int:
            if i == 0:
                time.sleep(random.uniform(0.005, 0.02))
                leave_room(user_id=alice, room_id=room_id)
                held_when_left.append(ChatMessage.objects.filter(room_id=room_id).count())
                return 0
            stored = 0
            for n in range(1000):
                batch = [NewMessage(room_id=room_id, sender_id=(alice, bob)[i % 2], text=f"{i}.{n}.{k}", client_id=None)
                         for k in range(3)]  # fmt: skip
                results = messages_store(messages=batch)
                stored += sum(isinstance(r, PostedMessage) and r.created for r in results)
                if any(isinstance(r, RoomClosed) for r in results):
                    assert all(isinstance(r, RoomClosed) for r in results)  # a batch is all in or all out
                    return stored
            raise AssertionError("the Leave never reached the writers")

        stored = run_concurrently(write_or_leave, 5)

        assert ChatMessage.objects.filter(room_id=room_id).count() == held_when_left[0] == sum(stored), round_
