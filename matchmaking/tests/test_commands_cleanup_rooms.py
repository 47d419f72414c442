"""manage.py cleanup_rooms: rooms whose sockets are gone are closed and the live partner told."""

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.events import room_group
from chat.models import ChatParticipant, ChatRoom, Visitor
from matchmaking.services import find_available_room
from reports.tests.factories import GroupListener, pair

pytestmark = pytest.mark.django_db(transaction=True)


def ago(**kwargs):
    return timezone.now() - timedelta(**kwargs)


def set_heartbeat(room_id, user_id, at):
    ChatParticipant.objects.filter(room_id=room_id, user_id=user_id).update(heartbeat_at=at)


def waiting_room() -> uuid.UUID:
    """Someone alone in a waiting room (made directly: Start would pair them with each other)."""
    room = ChatRoom.objects.create()
    ChatParticipant.objects.create(room=room, user=Visitor.objects.create())
    return room.id


def cleanup(*args) -> str:
    out = StringIO()
    call_command("cleanup_rooms", *args, stdout=out)
    return out.getvalue().strip()


def test_an_active_room_with_a_dead_socket_closes_and_the_live_partner_is_told():
    pairing = pair()
    set_heartbeat(pairing.room_id, pairing.first, ago(minutes=6))
    set_heartbeat(pairing.room_id, pairing.second, ago(seconds=10))
    listener = GroupListener(room_group(pairing.room_id))

    assert cleanup() == "Closed 0 waiting and 1 active rooms."

    assert pairing.room.status == ChatRoom.Status.CLOSED
    assert not ChatParticipant.objects.filter(room_id=pairing.room_id, left_at__isnull=True).exists()
    assert listener.receive() == {
        "type": "partner.left", "room_id": str(pairing.room_id), "user_id": str(pairing.first), "reason": "lost",
    }  # fmt: skip


def test_rooms_with_live_sockets_are_left_alone():
    pairing = pair()
    for user_id in (pairing.first, pairing.second):
        set_heartbeat(pairing.room_id, user_id, ago(seconds=20))
    ChatParticipant.objects.filter(room_id=pairing.room_id).update(joined_at=ago(hours=2))

    assert cleanup() == "Closed 0 waiting and 0 active rooms."
    assert pairing.room.status == ChatRoom.Status.ACTIVE


def test_someone_who_never_connected_a_socket_counts_as_gone_once_they_joined_long_ago():
    recent, old = pair(), pair()
    ChatParticipant.objects.filter(room_id=old.room_id).update(joined_at=ago(minutes=6))

    assert cleanup() == "Closed 0 waiting and 1 active rooms."
    assert (recent.room.status, old.room.status) == (ChatRoom.Status.ACTIVE, ChatRoom.Status.CLOSED)


def test_a_waiting_room_closes_once_old_and_abandoned_but_not_while_its_socket_lives():
    abandoned, young, alive = waiting_room(), waiting_room(), waiting_room()
    ChatRoom.objects.filter(id__in=[abandoned, alive]).update(created_at=ago(minutes=11))
    ChatRoom.objects.filter(id=young).update(created_at=ago(minutes=7))
    ChatParticipant.objects.filter(room_id__in=[abandoned, young, alive]).update(joined_at=ago(minutes=7))
    ChatParticipant.objects.filter(room_id=alive).update(heartbeat_at=ago(seconds=5))

    assert cleanup() == "Closed 1 waiting and 0 active rooms."
    statuses = dict(ChatRoom.objects.values_list("id", "status"))
    assert (statuses[abandoned], statuses[young], statuses[alive]) == ("closed", "waiting", "waiting")


def test_the_limits_are_options():
    room_id = find_available_room(user_id=uuid.uuid4()).room_id
    ChatRoom.objects.filter(id=room_id).update(created_at=ago(minutes=3))
    ChatParticipant.objects.filter(room_id=room_id).update(joined_at=ago(minutes=3))

    assert cleanup("--stale-after", "2m", "--waiting-older-than", "150s") == "Closed 1 waiting and 0 active rooms."


def test_dry_run_counts_and_changes_nothing():
    pairing = pair()
    ChatParticipant.objects.filter(room_id=pairing.room_id).update(joined_at=ago(hours=1))

    assert cleanup("--dry-run") == "Would close 0 waiting and 1 active rooms."
    assert pairing.room.status == ChatRoom.Status.ACTIVE


def test_a_bad_duration_is_a_clear_error():
    with pytest.raises(CommandError, match="is not a duration: use a positive whole number and a unit"):
        call_command("cleanup_rooms", "--stale-after", "five minutes")
