"""What the services count: Start/Next, pairings and the wait before them, reports, bans.

This process keeps its own registry (no PROMETHEUS_MULTIPROC_DIR in the tests); the
several-process view is test_metrics_across_processes.py.
"""

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from prometheus_client import REGISTRY

from chat.models import ChatRoom
from matchmaking.services import find_available_room, next_room
from moodrooms.services import session_join_by_category, session_message_post
from reports.services import ban_visitor, report_create
from reports.tests.factories import past_pairings
from threads.services import keep_request, thread_message_post


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class Counts:
    """The metrics' values now, to compare with after."""

    SERIES = [
        ("whimsy_starts_total", {"mode": "text"}),
        ("whimsy_starts_total", {"mode": "video"}),
        ("whimsy_pairs_total", {"mode": "text"}),
        ("whimsy_pairs_total", {"mode": "video"}),
        ("whimsy_time_to_match_seconds_count", {"mode": "text"}),
        ("whimsy_time_to_match_seconds_sum", {"mode": "text"}),
        ("whimsy_reports_total", {}),
        ("whimsy_bans_total", {"how": "automatic"}),
        ("whimsy_bans_total", {"how": "moderator"}),
    ]

    def __init__(self):
        self.before = {(name, tuple(labels.items())): value(name, **labels) for name, labels in self.SERIES}

    def moved(self) -> dict:
        moves = {}
        for (name, labels), before in self.before.items():
            delta = value(name, **dict(labels)) - before
            if delta:
                moves[name + "".join(f"{{{k}={v}}}" for k, v in labels)] = delta
        return moves


@pytest.mark.django_db
def test_a_pairing_counts_two_starts_one_pair_and_how_long_the_first_one_waited():
    counts = Counts()
    waiting, joining = uuid.uuid4(), uuid.uuid4()

    room_id = find_available_room(user_id=waiting).room_id
    ChatRoom.objects.filter(id=room_id).update(created_at=timezone.now() - timedelta(seconds=7))
    assert find_available_room(user_id=joining).partner_id == waiting

    moved = counts.moved()
    assert moved.pop("whimsy_time_to_match_seconds_sum{mode=text}") == pytest.approx(7, abs=1)
    assert moved == {
        "whimsy_starts_total{mode=text}": 2,
        "whimsy_pairs_total{mode=text}": 1,
        "whimsy_time_to_match_seconds_count{mode=text}": 1,
    }


@pytest.mark.django_db
def test_waiting_alone_and_asking_again_pairs_nobody():
    counts = Counts()
    someone = uuid.uuid4()

    room_id = find_available_room(user_id=someone, mode="video").room_id
    assert find_available_room(user_id=someone, mode="video").room_id == room_id

    assert counts.moved() == {"whimsy_starts_total{mode=video}": 2}


@pytest.mark.django_db
def test_next_counts_as_a_start_of_the_new_search():
    alice, bob = uuid.uuid4(), uuid.uuid4()
    room_id = find_available_room(user_id=alice).room_id
    find_available_room(user_id=bob)
    counts = Counts()

    next_room(user_id=alice, room_id=room_id)

    assert counts.moved() == {"whimsy_starts_total{mode=text}": 1}


@pytest.mark.django_db(transaction=True)  # reports and bans count when their transaction commits
def test_reports_and_the_bans_they_bring_are_counted(settings):
    settings.AUTO_BAN_REPORTERS = 2
    target = uuid.uuid4()
    pairings = past_pairings(first=target, seconds=[uuid.uuid4(), uuid.uuid4()])
    counts = Counts()

    for pairing in pairings:
        report_create(reporter_id=pairing.second, room_id=pairing.room_id, reason="spam")
    moderator = get_user_model().objects.create_user("mod", password="x", is_staff=True)
    ban_visitor(visitor_id=pairings[0].second, duration=timedelta(days=1), by=moderator)

    assert counts.moved() == {
        "whimsy_reports_total": 2,
        "whimsy_bans_total{how=automatic}": 1,
        "whimsy_bans_total{how=moderator}": 1,
    }


@pytest.mark.django_db
def test_messages_of_mood_rooms_and_threads_are_counted_by_kind(django_capture_on_commit_callbacks):
    stored = {kind: value("whimsy_messages_stored_total", kind=kind) for kind in ("session", "thread")}
    alice, bob = uuid.uuid4(), uuid.uuid4()
    session = session_join_by_category(user_id=alice, category="calm").session
    room_id = find_available_room(user_id=alice).room_id
    find_available_room(user_id=bob)
    keep_request(room_id=room_id, user_id=alice)
    thread_id = keep_request(room_id=room_id, user_id=bob).thread_id

    with django_capture_on_commit_callbacks(execute=True):
        session_message_post(session_id=session.id, user_id=alice, text="hello room")
        thread_message_post(thread_id=thread_id, sender_id=bob, body="hello you", client_id="c1")

    assert value("whimsy_messages_stored_total", kind="session") == stored["session"] + 1
    assert value("whimsy_messages_stored_total", kind="thread") == stored["thread"] + 1
