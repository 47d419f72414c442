"""Reports about mood room members (someone who shared the room within the last 10 minutes,
evidence with edit history) and bans that reach mood rooms."""

import uuid
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from chat.sockets.frames import CLOSE_FORBIDDEN
from chat.tests.sockets import new_visitors, receive
from moodrooms.models import SessionParticipant
from moodrooms.services import session_join, session_leave, session_message_edit, session_message_post
from moodrooms.tests.factories import BOOKS_ID, CALM_ID
from moodrooms.tests.sockets import connect, join, settle
from reports.models import Ban, Report
from reports.services import BAN_24_HOURS, ban_lift, ban_visitor
from whimsy_project.errors import Banned


def report(client, body):
    return client.api("post", "/api/report", {"reason": "harassment", **body})


@pytest.fixture
def calm_trio(visitor):
    people = [visitor() for _ in range(3)]
    for person in people:
        assert person.api("post", f"/api/sessions/{CALM_ID}/join", {"mood": "calm"}).status_code == 200
    return people


@pytest.mark.django_db
def test_a_member_reports_another_with_the_rooms_messages_and_their_edits(calm_trio):
    reporter, reported, other = calm_trio
    reported_id, other_id = uuid.UUID(reported.user_id), uuid.UUID(other.user_id)
    rude = session_message_post(session_id=CALM_ID, user_id=reported_id, text="something rude").message
    session_message_edit(session_id=CALM_ID, message_id=rude.id, user_id=reported_id, text="something nice")
    session_message_post(session_id=CALM_ID, user_id=other_id, text="hm")

    response = report(reporter, {"session_id": str(CALM_ID), "reported_user_id": reported.user_id})

    assert response.status_code == 201, response.content
    saved = Report.objects.get(id=response.json()["id"])
    assert saved.session_id == CALM_ID and str(saved.reported_user_id) == reported.user_id and saved.room is None
    by_text = {line["text"]: line for line in saved.evidence}
    assert by_text["something nice"]["edits"] == ["something rude"]
    assert by_text["something nice"]["sender"] == "reported" and by_text["hm"]["sender"] == "member"
    assert all("How are you feeling" not in line["text"] for line in saved.evidence)  # private mood-checks


@pytest.mark.django_db
def test_only_someone_who_shared_the_room_in_the_last_ten_minutes_can_be_reported(visitor, calm_trio):
    reporter, reported, _ = calm_trio
    elsewhere = visitor()
    assert elsewhere.api("post", f"/api/sessions/{BOOKS_ID}/join", {}).status_code == 200
    refused = report(reporter, {"session_id": str(CALM_ID), "reported_user_id": elsewhere.user_id})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "not_roommate"

    session_leave(user_id=uuid.UUID(reported.user_id), session_id=CALM_ID)
    SessionParticipant.objects.filter(user_id=reported.user_id).update(left_at=timezone.now() - timedelta(minutes=11))
    stale = report(reporter, {"session_id": str(CALM_ID), "reported_user_id": reported.user_id})
    assert stale.status_code == 403
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_once_per_person_and_room_never_yourself_and_never_without_a_person(calm_trio):
    reporter, reported, _ = calm_trio
    body = {"session_id": str(CALM_ID), "reported_user_id": reported.user_id}
    assert report(reporter, body).status_code == 201
    again = report(reporter, body)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reported"
    assert report(reporter, {"session_id": str(CALM_ID), "reported_user_id": reporter.user_id}).status_code == 400
    assert report(reporter, {"session_id": str(CALM_ID)}).status_code == 400
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_a_banned_member_leaves_the_room_and_cannot_join_again(calm_trio):
    _, banned, _ = calm_trio
    ban_visitor(visitor_id=uuid.UUID(banned.user_id), duration=BAN_24_HOURS, by=None)
    assert not SessionParticipant.objects.filter(user_id=banned.user_id, is_active=True).exists()
    stay = SessionParticipant.objects.get(user_id=banned.user_id)
    assert stay.left_at is not None
    with pytest.raises(Banned):
        session_join(user_id=uuid.UUID(banned.user_id), session_id=BOOKS_ID)


@pytest.mark.django_db(transaction=True)
async def test_a_ban_closes_the_members_socket_and_the_room_sees_them_go(visitor):
    alice, bob = await new_visitors(visitor, 2)
    for person in (alice, bob):
        await join(person)
    alice_socket, _ = await connect(alice, CALM_ID)
    bob_socket, _ = await connect(bob, CALM_ID)
    await settle([alice_socket, bob_socket], [alice.user_id, bob.user_id])

    await sync_to_async(ban_visitor)(visitor_id=uuid.UUID(bob.user_id), duration=BAN_24_HOURS, by=None)

    assert (await receive(bob_socket, timeout=1))["code"] == "banned"
    closed = await bob_socket.receive_output(timeout=1)
    assert closed["type"] == "websocket.close" and closed["code"] == CLOSE_FORBIDDEN
    left = await receive(alice_socket, timeout=1)
    assert left == {"type": "user_left", "user_id": bob.user_id, "reason": "banned"}
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.django_db
def test_mood_room_reports_filed_after_a_lifted_ban_count_towards_the_automatic_ban(visitor, settings, admin_user):
    settings.AUTO_BAN_REPORTERS = 3
    target, *reporters = [visitor() for _ in range(4)]
    target_id = uuid.UUID(target.user_id)
    for person in (target, *reporters):
        assert person.api("post", f"/api/sessions/{CALM_ID}/join", {"mood": "calm"}).status_code == 200
    ban = ban_visitor(visitor_id=target_id, duration=BAN_24_HOURS, by=admin_user)  # it leaves the room
    ban_lift(ban_id=ban.id, by=admin_user)  # a false positive: the slate is clean again
    assert target.api("post", f"/api/sessions/{CALM_ID}/join", {"mood": "calm"}).status_code == 200

    for reporter in reporters:
        assert report(reporter, {"session_id": str(CALM_ID), "reported_user_id": target.user_id}).status_code == 201

    assert Ban.objects.filter(visitor_id=target_id, created_by__isnull=True, lifted_at__isnull=True).exists()
