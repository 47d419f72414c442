"""Joins, moves and leaves under real concurrency: threads, separate connections, a barrier.

PostgreSQL only: SQLite has no row locks, so these would prove nothing there.
"""

import random
import threading
import uuid

import pytest
from django.db import connection, connections, transaction

from conftest import run_concurrently, wait_for_a_lock_wait
from moodrooms.models import ChatSession, SessionParticipant
from moodrooms.services import session_join, session_join_by_category, session_leave
from moodrooms.tests.factories import BOOKS_ID, CALM_ID, members
from whimsy_project.errors import NotMember, RoomFull

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def violations() -> dict[str, int]:
    """Counts of every state the rules forbid, straight from SQL."""
    queries = {
        "over_capacity": """
            SELECT count(*) FROM chat_sessions s WHERE s.max_participants <
                (SELECT count(*) FROM session_participants p WHERE p.session_id = s.id AND p.is_active)""",
        "count_not_members": """
            SELECT count(*) FROM chat_sessions s WHERE s.current_participants <>
                (SELECT count(*) FROM session_participants p WHERE p.session_id = s.id AND p.is_active)""",
        "visitors_in_two_sessions": """
            SELECT count(*) FROM (SELECT user_id FROM session_participants WHERE is_active
                                  GROUP BY user_id HAVING count(*) > 1) t""",
        "members_of_closed_sessions": """
            SELECT count(*) FROM session_participants p JOIN chat_sessions s ON s.id = p.session_id
                WHERE p.is_active AND NOT s.is_active""",
        "duplicate_open_names": """
            SELECT count(*) FROM (SELECT name FROM chat_sessions WHERE is_active
                                  GROUP BY name HAVING count(*) > 1) t""",
    }
    with connection.cursor() as cursor:
        found = {}
        for name, sql in queries.items():
            cursor.execute(sql)
            found[name] = cursor.fetchone()[0]
    return found


def test_sixty_simultaneous_joiners_of_one_mood_fill_ten_sessions_exactly():
    users = [uuid.uuid4() for _ in range(60)]

    joined = run_concurrently(lambda i: session_join_by_category(user_id=users[i], category="calm"), len(users))

    assert violations() == dict.fromkeys(violations(), 0)
    sessions = ChatSession.objects.filter(category="calm", is_active=True)
    # Each joiner saw the committed counts under the category's lock: no half-empty overflow.
    assert sorted(s.current_participants for s in sessions) == [6] * 10
    assert sorted(s.name for s in sessions) == sorted(["Calm"] + [f"Calm {n}" for n in range(2, 11)])
    placed = dict(SessionParticipant.objects.filter(is_active=True).values_list("user_id", "session_id"))
    assert placed == {user_id: result.session.id for user_id, result in zip(users, joined)}


def test_sixty_simultaneous_joiners_of_one_room_by_id_never_overfill_it():
    users = [uuid.uuid4() for _ in range(60)]

    def join(i):
        try:
            return session_join(user_id=users[i], session_id=CALM_ID)
        except RoomFull:
            return None

    joined = run_concurrently(join, len(users))

    assert violations() == dict.fromkeys(violations(), 0)
    assert sum(1 for result in joined if result is not None) == 6
    assert ChatSession.objects.get(id=CALM_ID).current_participants == 6


def test_a_joiner_whose_pick_is_closed_by_its_last_leaver_meanwhile_joins_the_next_pick():
    *_, last_of_calm_2 = members(7)  # six fill "Calm"; the seventh opens "Calm 2"
    calm_2 = SessionParticipant.objects.get(user_id=last_of_calm_2, is_active=True).session
    joiner = uuid.uuid4()
    outcome = {}

    def join():
        try:
            outcome["joined"] = session_join_by_category(user_id=joiner, category="calm")
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            outcome["error"] = exc
        finally:
            connections.close_all()

    with transaction.atomic():
        session_leave(user_id=last_of_calm_2, session_id=calm_2.id)  # holds "Calm 2" until commit
        thread = threading.Thread(target=join)
        thread.start()
        wait_for_a_lock_wait()  # the joiner picked "Calm 2" and waits for it
    thread.join(timeout=15)

    assert "error" not in outcome, outcome.get("error")
    joined = outcome["joined"].session
    joined.refresh_from_db()
    assert joined.id != calm_2.id and joined.is_active and joined.current_participants == 1
    assert violations() == dict.fromkeys(violations(), 0)


def test_a_storm_of_joins_moves_and_leaves_keeps_every_count_exact():
    users = [uuid.uuid4() for _ in range(30)]
    rng = random.Random(12)
    plans = [[rng.choice(["calm", "books", CALM_ID, BOOKS_ID, "leave"]) for _ in range(6)] for _ in users]

    def act(i):
        for step in plans[i]:
            try:
                if step == "leave":
                    current = SessionParticipant.objects.filter(user_id=users[i], is_active=True).first()
                    if current is not None:
                        session_leave(user_id=users[i], session_id=current.session_id)
                elif isinstance(step, str):
                    session_join_by_category(user_id=users[i], category=step)
                else:
                    session_join(user_id=users[i], session_id=step)
            except (RoomFull, NotMember):
                pass

    run_concurrently(act, len(users))

    assert violations() == dict.fromkeys(violations(), 0)


def test_one_visitor_joining_two_rooms_at_once_ends_up_in_one():
    user_id = uuid.uuid4()
    targets = [CALM_ID, BOOKS_ID] * 5

    run_concurrently(lambda i: session_join(user_id=user_id, session_id=targets[i]), len(targets))

    assert violations() == dict.fromkeys(violations(), 0)
    assert SessionParticipant.objects.filter(user_id=user_id, is_active=True).count() == 1
