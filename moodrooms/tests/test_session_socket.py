"""The mood room socket with three members, through the full ASGI application: replies,
reactions, edits, typing, leave and resume, refusals."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from chat.tests.sockets import (
    MOVE_HANDLED,
    communicator,
    expect_close,
    hold,
    new_visitors,
    receive,
    release,
    tell_of_a_move,
)
from moodrooms.models import MessageEdit, SessionMessage, SessionParticipant
from moodrooms.tests.factories import BOOKS_ID, CALM_ID
from moodrooms.tests.sockets import connect, frames_until, join, settle

pytestmark = pytest.mark.django_db(transaction=True)


async def trio(visitor):
    """Three visitors in Calm (alice with a mood), each with a connected socket."""
    people = await new_visitors(visitor, 3)
    await join(people[0], mood="calm")
    for person in people[1:]:
        await join(person)
    sockets = []
    for person in people:
        socket, joined = await connect(person, CALM_ID)
        sockets.append(socket)
    await settle(sockets, [person.user_id for person in people])
    return people, sockets, joined


async def close_all(sockets):
    for socket in sockets:
        await socket.disconnect()


async def test_room_joined_shows_the_session_the_members_and_you(visitor):
    people, sockets, carol_joined = await trio(visitor)
    assert carol_joined["session"]["id"] == str(CALM_ID) and carol_joined["session"]["current_participants"] == 3
    members = carol_joined["participants"]
    assert [m["user_id"] for m in members] == [p.user_id for p in people]
    assert members[0]["mood"] == "calm" and members[0]["username"] and members[0]["avatar"]["emoji"]
    assert carol_joined["you"]["user_id"] == people[2].user_id
    await close_all(sockets)


async def test_a_message_is_acked_to_its_sender_and_reaches_everyone_with_its_reply(visitor):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await a.send_json_to({"type": "message", "text": "hello room", "client_id": "a-1"})
    got = await frames_until(a, "message_ack", "new_message")
    first = got["new_message"]["message"]
    assert got["message_ack"] == {"type": "message_ack", "client_id": "a-1", "id": first["id"]}
    assert first["content"] == "hello room" and first["user_id"] == alice.user_id and first["sender_name"]
    assert (await receive(b))["message"]["id"] == first["id"]
    assert (await receive(c))["message"]["id"] == first["id"]
    assert await SessionMessage.objects.filter(id=first["id"]).aexists()  # stored before acked

    await b.send_json_to({"type": "message", "text": "hi alice", "client_id": "b-1", "reply_to": first["id"]})
    reply = (await frames_until(b, "message_ack", "new_message"))["new_message"]["message"]
    assert reply["reply_to"] == first["id"]
    assert (await receive(a))["message"]["reply_to"] == first["id"]
    assert (await receive(c))["message"]["reply_to"] == first["id"]

    # A resend after a lost ack is acked with the same id and announced to nobody.
    await a.send_json_to({"type": "message", "text": "hello room", "client_id": "a-1"})
    assert await receive(a) == {"type": "message_ack", "client_id": "a-1", "id": first["id"]}
    assert await b.receive_nothing(timeout=0.2)
    await close_all((a, b, c))


async def test_a_message_sent_before_a_new_tabs_hello_was_heard_reaches_it_once_with_its_reactions(
    visitor, monkeypatch
):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    hellos = hold(monkeypatch, "socket.hello")  # the members' sockets have not heard bob's new tab yet
    tab, _ = await connect(bob, CALM_ID)
    await a.send_json_to({"type": "message", "text": "anyone?", "client_id": "a-1"})
    sent = (await frames_until(a, "message_ack", "new_message"))["new_message"]["message"]
    for socket in (b, c):
        assert (await receive(socket))["message"]["id"] == sent["id"]
    await c.send_json_to({"type": "react", "message_id": sent["id"], "emoji": "❤️"})
    for socket in (a, b, c, tab):  # a reaction goes through the group itself: the tab hears it
        assert (await receive(socket))["type"] == "reaction"
    assert await tab.receive_nothing(timeout=0.2)  # the message went past the tab

    await release(monkeypatch, hellos, "socket.hello", count=4)  # alice's, bob's, carol's sockets and the tab's own
    # The catch-up reaches a little behind the join (other stored messages come again: the
    # page shows each once, by id), in order, each once.
    caught_up = [await receive(tab)]
    while not await tab.receive_nothing(timeout=0.3):
        caught_up.append(await receive(tab))
    assert {f["type"] for f in caught_up} == {"new_message"}
    messages = [f["message"] for f in caught_up]
    assert len({m["id"] for m in messages}) == len(messages) and messages[-1]["id"] == sent["id"]
    assert messages[-1]["reactions"] == [{"emoji": "❤️", "count": 1, "mine": False}]
    for socket in (a, b, c):
        assert await socket.receive_nothing(timeout=0.3)
    await close_all((a, b, c, tab))


async def test_a_reply_to_a_message_of_another_room_is_refused_and_nothing_is_stored(visitor):
    (_, _, _), (a, b, c), _ = await trio(visitor)
    (stranger,) = await new_visitors(visitor, 1)
    await join(stranger, "books")
    elsewhere, _ = await connect(stranger, BOOKS_ID)
    await elsewhere.send_json_to({"type": "message", "text": "books!", "client_id": "s-1"})
    foreign = (await frames_until(elsewhere, "message_ack", "new_message"))["message_ack"]["id"]
    before = await SessionMessage.objects.acount()

    await a.send_json_to({"type": "message", "text": "sneaky", "client_id": "a-2", "reply_to": foreign})
    error = await receive(a)
    assert error["type"] == "error" and error["code"] == "invalid" and error["client_id"] == "a-2"
    assert await SessionMessage.objects.acount() == before
    assert await b.receive_nothing(timeout=0.2)
    await close_all((a, b, c, elsewhere))


async def test_reactions_toggle_and_everyone_sees_the_count(visitor):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await a.send_json_to({"type": "message", "text": "good news", "client_id": "a-1"})
    message_id = (await frames_until(a, "message_ack", "new_message"))["message_ack"]["id"]
    await receive(b), await receive(c)

    async def react(socket, user, added, count):
        await socket.send_json_to({"type": "react", "message_id": message_id, "emoji": "❤️"})
        expected = {"type": "reaction", "message_id": message_id, "emoji": "❤️", "user_id": user.user_id,
                    "added": added, "count": count}
        for each in (a, b, c):
            assert await receive(each) == expected

    await react(b, bob, True, 1)
    await react(c, carol, True, 2)
    await react(b, bob, False, 1)
    await close_all((a, b, c))


async def test_the_author_edits_within_ten_minutes_others_and_late_edits_are_refused(visitor):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await a.send_json_to({"type": "message", "text": "helo", "client_id": "a-1"})
    message_id = (await frames_until(a, "message_ack", "new_message"))["message_ack"]["id"]
    await receive(b), await receive(c)

    await a.send_json_to({"type": "edit", "message_id": message_id, "text": "hello"})
    for each in (a, b, c):
        edited = await receive(each)
        assert edited["type"] == "message_edited"
        assert edited["message"]["content"] == "hello" and edited["message"]["is_edited"]

    await b.send_json_to({"type": "edit", "message_id": message_id, "text": "hijacked"})
    assert (await receive(b))["code"] == "not_author"

    await SessionMessage.objects.filter(id=message_id).aupdate(created_at=timezone.now() - timedelta(minutes=11))
    await a.send_json_to({"type": "edit", "message_id": message_id, "text": "too late"})
    assert (await receive(a))["code"] == "edit_window_closed"

    stored = await SessionMessage.objects.aget(id=message_id)
    assert stored.content == "hello"
    edits = MessageEdit.objects.filter(message_id=message_id).values_list("previous_content", flat=True)
    assert [edit async for edit in edits] == ["helo"]
    assert await c.receive_nothing(timeout=0.2)
    await close_all((a, b, c))


async def test_a_move_into_another_chat_leaves_the_mood_room_socket_open(visitor):
    people, sockets, _ = await trio(visitor)

    await tell_of_a_move(people[0].user_id)  # her 1:1 chat in another tab found someone new

    assert await receive(sockets[0]) == MOVE_HANDLED
    await sockets[0].send_json_to({"type": "typing", "is_typing": True})
    assert (await receive(sockets[1]))["type"] == "typing"
    await close_all(sockets)


async def test_typing_is_seen_by_the_others_only(visitor):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await a.send_json_to({"type": "typing", "is_typing": True})
    for each in (b, c):
        typing = await receive(each)
        assert typing["type"] == "typing" and typing["user_id"] == alice.user_id and typing["is_typing"] is True
        assert typing["username"]
    assert await a.receive_nothing(timeout=0.2)
    await close_all((a, b, c))


async def test_leave_closes_the_socket_and_the_room_is_told(visitor):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await a.send_json_to({"type": "leave"})
    for each in (b, c):
        got = await frames_until(each, "user_left", "new_message")
        assert got["user_left"] == {"type": "user_left", "user_id": alice.user_id, "reason": "left"}
        assert got["new_message"]["message"]["message_type"] == "system"
        assert got["new_message"]["message"]["content"].endswith(" left")
    output = await a.receive_output(timeout=5)
    while output["type"] != "websocket.close":
        output = await a.receive_output(timeout=5)
    assert output.get("code") == 1000
    assert not await SessionParticipant.objects.filter(user_id=alice.user_id, is_active=True).aexists()
    await close_all((b, c))


async def test_a_dropped_member_is_reconnecting_then_resumes_then_is_lost(visitor, settings):
    settings.RESUME_GRACE_SECONDS = 1
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await a.disconnect()
    for each in (b, c):
        assert await receive(each) == {"type": "user_reconnecting", "user_id": alice.user_id, "grace_seconds": 1}
    a, _ = await connect(alice, CALM_ID)
    for each in (b, c):
        assert await receive(each) == {"type": "user_resumed", "user_id": alice.user_id}
    await settle([a, b], [alice.user_id, bob.user_id])
    assert await b.receive_nothing(timeout=1.5)  # the grace passed: alice is still in
    assert await SessionParticipant.objects.filter(user_id=alice.user_id, is_active=True).aexists()

    await a.disconnect()
    assert (await receive(b))["type"] == "user_reconnecting"
    got = await frames_until(b, "user_left", "new_message")
    assert got["user_left"] == {"type": "user_left", "user_id": alice.user_id, "reason": "lost"}
    assert not await SessionParticipant.objects.filter(user_id=alice.user_id, is_active=True).aexists()
    await close_all((b, c))


BAD_FRAMES = [
    ("not json", "invalid_json"),
    ('{"type": "shout"}', "unknown_type"),
    ('{"type": "voice_status"}', "invalid_frame"),
    ('{"type": "message", "client_id": "c"}', "invalid_frame"),
    ('{"type": "message", "text": "   ", "client_id": "c"}', "invalid"),
    (json.dumps({"type": "message", "text": "x" * 2001, "client_id": "c"}), "invalid"),
    ('{"type": "message", "text": "hi", "client_id": "c", "reply_to": "nope"}', "invalid_frame"),
    ('{"type": "message", "text": "hi", "client_id": "c", "reply_to": 5}', "invalid_frame"),
    ('{"type": "edit", "text": "hi"}', "invalid_frame"),
    ('{"type": "edit", "message_id": "00000000-0000-4000-8000-000000000000", "text": "hi"}', "message_not_found"),
    ('{"type": "react", "message_id": "00000000-0000-4000-8000-000000000000", "emoji": "lol"}', "invalid_frame"),
    ('{"type": "react", "message_id": "00000000-0000-4000-8000-000000000000", "emoji": "👍"}', "message_not_found"),
    ('{"type": "typing", "is_typing": "yes"}', "invalid_frame"),
]


async def test_each_bad_frame_gets_its_error_and_nothing_is_stored(visitor):
    (_, _, _), (a, b, c), _ = await trio(visitor)
    before = await SessionMessage.objects.acount()
    for text, code in BAD_FRAMES:
        await a.send_to(text_data=text)
        error = await receive(a)
        assert error["type"] == "error" and error["code"] == code, (text[:60], error)
    assert await SessionMessage.objects.acount() == before
    assert await b.receive_nothing(timeout=0.2)
    await a.send_json_to({"type": "message", "text": "still here", "client_id": "ok"})
    assert (await receive(b))["message"]["content"] == "still here"
    await close_all((a, b, c))


async def test_outsiders_and_unknown_rooms_are_refused(visitor):
    (member,) = await new_visitors(visitor, 1)
    await join(member)
    (outsider,) = await new_visitors(visitor, 1)
    for path, code, close in (
        (f"/ws/sessions/{CALM_ID}/", "not_member", 4003),
        ("/ws/sessions/00000000-0000-4000-8000-000000000000/", "session_not_found", 4004),
        ("/ws/sessions/not-a-uuid/", "session_not_found", 4004),
    ):
        socket = communicator(path, outsider)
        connected, _ = await socket.connect()
        assert connected
        assert (await receive(socket))["code"] == code
        await expect_close(socket, close)
    anonymous = communicator(f"/ws/sessions/{CALM_ID}/")
    await anonymous.connect()
    assert (await receive(anonymous))["code"] == "no_session"
    await expect_close(anonymous, 4003)


async def test_joining_another_room_over_http_closes_the_old_rooms_socket(visitor):
    (alice, bob, carol), (a, b, c), _ = await trio(visitor)
    await join(alice, "books")
    assert (await receive(a)) == {"type": "user_left", "user_id": alice.user_id, "reason": "left"}
    await expect_close(a, 1000)
    assert (await receive(b))["type"] == "user_left"
    await close_all((b, c))
