"""The pairing rules, on whichever database the suite runs against."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.models import ChatParticipant, ChatRoom, Visitor
from matchmaking.services import (
    find_available_room,
    leave_room,
    next_room,
    normalize_interests,
    settle_waiting_user,
)
from reports.models import Ban
from whimsy_project.errors import AlreadyLeft, Banned, InvalidInput, NotParticipant, RoomNotFound

pytestmark = pytest.mark.django_db(transaction=True)


def new_user() -> uuid.UUID:
    return uuid.uuid4()


def test_it_makes_the_first_user_wait_and_pairs_the_second_with_them():
    alice, bob = new_user(), new_user()

    first = find_available_room(user_id=alice)
    second = find_available_room(user_id=bob)

    assert first.status == "searching" and first.partner_id is None
    assert second.status == "chatting"
    assert second.room_id == first.room_id
    assert second.partner_id == alice
    assert ChatRoom.objects.get(id=first.room_id).status == ChatRoom.Status.ACTIVE


def test_it_returns_the_same_room_when_a_user_starts_twice():
    alice = new_user()
    first = find_available_room(user_id=alice)
    again = find_available_room(user_id=alice)
    assert again.room_id == first.room_id
    assert ChatParticipant.objects.filter(user_id=alice, left_at__isnull=True).count() == 1


def test_it_never_pairs_text_and_video_users():
    texter, watcher = new_user(), new_user()
    find_available_room(user_id=texter, mode="text")
    match = find_available_room(user_id=watcher, mode="video")
    assert match.partner_id is None
    assert ChatRoom.objects.get(id=match.room_id).mode == "video"


def test_it_prefers_a_shared_interest_over_an_earlier_stranger():
    earlier, music_fan, newcomer = new_user(), new_user(), new_user()
    find_available_room(user_id=earlier)
    fan_room = find_available_room(user_id=music_fan, interests=["Music"])

    match = find_available_room(user_id=newcomer, interests=["cooking", " MUSIC "])

    assert match.partner_id == music_fan
    assert match.room_id == fan_room.room_id
    assert match.common_interests == ["music"]


def test_it_keeps_a_user_with_unshared_interests_waiting_until_the_fallback(settings):
    settings.INTEREST_FALLBACK_SECONDS = 5
    plain, chess_fan = new_user(), new_user()
    find_available_room(user_id=plain)

    match = find_available_room(user_id=chess_fan, interests=["chess"])
    assert match.partner_id is None

    ChatRoom.objects.filter(id=match.room_id).update(created_at=timezone.now() - timedelta(seconds=6))
    settled = settle_waiting_user(user_id=chess_fan)

    assert settled is not None and settled.partner_id == plain
    assert settled.common_interests == []
    assert ChatRoom.objects.get(id=match.room_id).status == ChatRoom.Status.CLOSED


def test_it_gives_a_waiting_room_with_interests_to_anyone_after_the_fallback(settings):
    settings.INTEREST_FALLBACK_SECONDS = 5
    chess_fan, plain = new_user(), new_user()
    waiting = find_available_room(user_id=chess_fan, interests=["chess"])
    assert find_available_room(user_id=plain).partner_id is None  # too early for chess_fan's room
    leave_room(user_id=plain, room_id=ChatParticipant.objects.get(user_id=plain, left_at__isnull=True).room_id)

    ChatRoom.objects.filter(id=waiting.room_id).update(created_at=timezone.now() - timedelta(seconds=6))
    other = new_user()
    match = find_available_room(user_id=other)
    assert match.room_id == waiting.room_id and match.partner_id == chess_fan


def test_settle_pairs_two_users_who_each_opened_a_waiting_room():
    """What happens when two starters could not see each other's uncommitted rooms."""
    alice, bob = new_user(), new_user()
    find_available_room(user_id=alice)
    # Bob's room is created directly, as if Bob's transaction ran beside Alice's.
    bob_room = ChatRoom.objects.create()
    ChatParticipant.objects.create(room=bob_room, user=Visitor.objects.create(id=bob))

    moved = settle_waiting_user(user_id=bob)  # as Bob's waiting socket does on its timer

    assert moved is not None and moved.partner_id == alice

    alice_open = ChatParticipant.objects.get(user_id=alice, left_at__isnull=True)
    bob_open = ChatParticipant.objects.get(user_id=bob, left_at__isnull=True)
    assert alice_open.room_id == bob_open.room_id
    assert ChatRoom.objects.filter(status=ChatRoom.Status.WAITING).count() == 0


def test_leave_closes_the_room_for_both():
    alice, bob = new_user(), new_user()
    room_id = find_available_room(user_id=alice).room_id
    find_available_room(user_id=bob)

    leave_room(user_id=alice, room_id=room_id)

    room = ChatRoom.objects.get(id=room_id)
    assert room.status == ChatRoom.Status.CLOSED and room.closed_at is not None
    assert not ChatParticipant.objects.filter(room_id=room_id, left_at__isnull=True).exists()


def test_leave_twice_is_refused_and_changes_nothing():
    alice = new_user()
    room_id = find_available_room(user_id=alice).room_id
    leave_room(user_id=alice, room_id=room_id)
    closed_at = ChatRoom.objects.get(id=room_id).closed_at

    with pytest.raises(AlreadyLeft):
        leave_room(user_id=alice, room_id=room_id)
    assert ChatRoom.objects.get(id=room_id).closed_at == closed_at


def test_leave_of_someone_elses_room_is_refused_and_changes_nothing():
    alice, mallory = new_user(), new_user()
    room_id = find_available_room(user_id=alice).room_id
    find_available_room(user_id=mallory, mode="video")

    with pytest.raises(NotParticipant):
        leave_room(user_id=mallory, room_id=room_id)
    assert ChatRoom.objects.get(id=room_id).status == ChatRoom.Status.WAITING


def test_leave_of_an_unknown_room_is_refused():
    with pytest.raises(RoomNotFound):
        leave_room(user_id=new_user(), room_id=uuid.uuid4())


def test_next_closes_the_old_room_and_does_not_rematch_the_same_pair():
    alice, bob = new_user(), new_user()
    room_id = find_available_room(user_id=alice).room_id
    find_available_room(user_id=bob)

    alice_next = next_room(user_id=alice, room_id=room_id)
    bob_next = next_room(user_id=bob, room_id=room_id)

    assert ChatRoom.objects.get(id=room_id).status == ChatRoom.Status.CLOSED
    assert alice_next.partner_id is None and bob_next.partner_id is None
    assert alice_next.room_id != bob_next.room_id

    carol = new_user()
    carol_match = find_available_room(user_id=carol)
    assert carol_match.partner_id in {alice, bob}


def test_next_after_the_partner_left_finds_someone_new():
    alice, bob, carol = new_user(), new_user(), new_user()
    room_id = find_available_room(user_id=alice).room_id
    find_available_room(user_id=bob)
    leave_room(user_id=bob, room_id=room_id)
    find_available_room(user_id=carol)

    match = next_room(user_id=alice, room_id=room_id)

    assert match.partner_id == carol


def test_next_keeps_the_mode_of_the_old_room():
    alice, bob = new_user(), new_user()
    room_id = find_available_room(user_id=alice, mode="video").room_id
    find_available_room(user_id=bob, mode="video")
    match = next_room(user_id=alice, room_id=room_id)
    assert ChatRoom.objects.get(id=match.room_id).mode == "video"


def test_a_banned_user_cannot_start():
    alice = new_user()
    find_available_room(user_id=alice)
    leave_room(user_id=alice, room_id=ChatParticipant.objects.get(user_id=alice).room_id)
    until = timezone.now() + timedelta(hours=24)
    Ban.objects.create(visitor_id=alice, expires_at=until)

    with pytest.raises(Banned) as caught:
        find_available_room(user_id=alice)
    assert caught.value.until == until
    assert "until" in caught.value.detail


def test_a_ban_on_an_address_keeps_out_a_new_identity_from_it():
    Ban.objects.create(ip_hash="a" * 64)
    with pytest.raises(Banned):
        find_available_room(user_id=new_user(), ip_hash="a" * 64)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ([" Music ", "music", "", "Board   Games"], ["music", "board games"]),
        ([], []),
    ],
)
def test_interests_are_normalised(raw, expected):
    assert normalize_interests(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [["x" * 31], ["a", "b", "c", "d", "e", "f"], [3]],
)
def test_bad_interests_are_refused(raw):
    with pytest.raises(InvalidInput):
        normalize_interests(raw)


def _age_occupancy(user_id, *, joined_seconds_ago: int, heartbeat_seconds_ago: int | None):
    now = timezone.now()
    ChatParticipant.objects.filter(user_id=user_id, left_at__isnull=True).update(
        joined_at=now - timedelta(seconds=joined_seconds_ago),
        heartbeat_at=None if heartbeat_seconds_ago is None else now - timedelta(seconds=heartbeat_seconds_ago),
    )


def test_a_waiting_room_whose_socket_never_connected_is_not_offered(settings):
    settings.SOCKET_CONNECT_GRACE_SECONDS = 15
    ghost, newcomer = new_user(), new_user()
    find_available_room(user_id=ghost)
    _age_occupancy(ghost, joined_seconds_ago=20, heartbeat_seconds_ago=None)

    assert find_available_room(user_id=newcomer).partner_id is None


def test_a_waiting_room_whose_heartbeat_stopped_is_not_offered(settings):
    settings.HEARTBEAT_SECONDS = 30
    crashed, newcomer = new_user(), new_user()
    find_available_room(user_id=crashed)
    _age_occupancy(crashed, joined_seconds_ago=600, heartbeat_seconds_ago=120)

    assert find_available_room(user_id=newcomer).partner_id is None


def test_a_long_wait_with_a_live_socket_is_still_offered(settings):
    settings.HEARTBEAT_SECONDS = 30
    patient, newcomer = new_user(), new_user()
    find_available_room(user_id=patient)
    _age_occupancy(patient, joined_seconds_ago=600, heartbeat_seconds_ago=10)

    assert find_available_room(user_id=newcomer).partner_id == patient
