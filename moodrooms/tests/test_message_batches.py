"""Mood room messages are stored in batches by the sockets' writer: each refusal costs only its
own message, a batch's duplicates are answered with the first, every tab hears each once."""

import asyncio
import threading
import uuid

import pytest
from channels.db import database_sync_to_async

from chat.tests.sockets import new_visitors, receive
from moodrooms.models import SessionMessage
from moodrooms.services import NewSessionMessage, PostedMessage, session_message_post, session_messages_store
from moodrooms.tests.factories import BOOKS_ID, CALM_ID, member_of
from moodrooms.tests.sockets import connect, join, settle
from whimsy_project.errors import InvalidInput, NotMember, SessionNotFound


@pytest.mark.django_db
def test_one_batch_refuses_only_its_bad_messages_and_answers_duplicates_with_the_first():
    alice, bob = member_of(CALM_ID), member_of(CALM_ID, mood="")  # bob has a private mood-check
    books_member = member_of(BOOKS_ID)
    outsider = uuid.uuid4()
    earlier = session_message_post(session_id=CALM_ID, user_id=bob, text="earlier", client_id="b-0").message
    foreign = session_message_post(session_id=BOOKS_ID, user_id=books_member, text="elsewhere").message
    bobs_check = SessionMessage.objects.get(session_id=CALM_ID, recipient_id=bob, message_type="mood-check")
    system_before = SessionMessage.objects.filter(session_id=CALM_ID, message_type="system").count()

    def new(user_id, text, client_id, *, session_id=CALM_ID, reply_to=None):
        return NewSessionMessage(session_id=session_id, user_id=user_id, text=text, client_id=client_id, reply_to=reply_to)

    batch = [
        new(alice, "one", "a-1", reply_to=earlier.id),
        new(alice, "sneaky", "a-2", reply_to=foreign.id),  # a message of another session
        new(bob, "one", "a-1"),  # bob's own a-1
        new(alice, "one again", "a-1"),  # resent within the batch
        new(alice, "peek", "a-3", reply_to=bobs_check.id),  # someone else's private message
        new(bob, "earlier", "b-0"),  # resent later
        new(books_member, "hi books", None, session_id=BOOKS_ID, reply_to=foreign.id),
        new(alice, "two", None),
        new(outsider, "let me in", "o-1"),
        new(alice, "wrong room", "a-4", session_id=BOOKS_ID),
        new(alice, "nowhere", "a-5", session_id=uuid.uuid4()),
    ]
    results = session_messages_store(messages=batch)

    posted = [i for i, result in enumerate(results) if isinstance(result, PostedMessage)]
    assert posted == [0, 2, 3, 5, 6, 7]
    assert [results[i].created for i in posted] == [True, True, False, False, True, True]
    assert results[3].message.id == results[0].message.id and results[3].message.content == "one"
    assert results[5].message.id == earlier.id
    assert isinstance(results[1], InvalidInput) and isinstance(results[4], InvalidInput)
    assert [type(results[i]) for i in (8, 9, 10)] == [NotMember, NotMember, SessionNotFound]

    history = list(SessionMessage.objects.filter(session_id=CALM_ID, message_type="text").order_by("created_at", "id"))
    assert [(m.user_id, m.content, m.reply_to_id) for m in history] == [
        (bob, "earlier", None), (alice, "one", earlier.id), (bob, "one", None), (alice, "two", None),
    ]  # fmt: skip
    assert all(m.sender_name for m in history)
    stamps = [m.created_at for m in history]
    assert stamps == sorted(set(stamps))  # strictly increasing in arrival order
    assert SessionMessage.objects.get(session_id=BOOKS_ID, content="hi books").reply_to_id == foreign.id
    assert SessionMessage.objects.filter(session_id=CALM_ID, message_type="system").count() == system_before


@pytest.mark.django_db(transaction=True)
async def test_a_burst_from_one_socket_is_acked_or_refused_message_by_message_and_every_tab_hears_each_once(visitor):
    alice, bob, books = await new_visitors(visitor, 3)
    await join(alice, mood="calm")
    await join(bob)  # without a mood: bob gets a private mood-check
    await join(books, category="books")
    a, _ = await connect(alice, CALM_ID)
    b, _ = await connect(bob, CALM_ID)
    await settle([a, b], [alice.user_id, bob.user_id])
    a_other_tab, _ = await connect(alice, CALM_ID)
    for attempt in range(50):  # until alice's first tab knows the second (its hello came)
        await a.send_json_to({"type": "message", "text": "warm up", "client_id": f"w-{attempt}"})
        if not await a_other_tab.receive_nothing(timeout=0.1):
            break
    for socket in (a, a_other_tab, b):
        while not await socket.receive_nothing(timeout=0.2):
            await socket.receive_from()
    bobs_check = await SessionMessage.objects.aget(recipient__id=bob.user_id, message_type="mood-check")
    foreign = await database_sync_to_async(session_message_post)(
        session_id=BOOKS_ID, user_id=uuid.UUID(books.user_id), text="elsewhere"
    )

    burst = [
        ("a-1", "first", None),
        ("a-2", "sneaky", str(foreign.message.id)),
        ("a-1", "first", None),  # a resend, likely in the same batch
        ("a-3", "second", None),
        ("a-4", "peek", str(bobs_check.id)),
    ]
    for client_id, text, reply_to in burst:  # no waiting: later frames queue behind the first batch
        await a.send_json_to({"type": "message", "text": text, "client_id": client_id, "reply_to": reply_to})

    answers, announced = [], []
    while len(answers) < len(burst):
        got = await receive(a)
        if got["type"] == "new_message":
            announced.append(got["message"])
        else:
            answers.append(got)
    assert [(f["type"], f["client_id"]) for f in answers] == [
        ("message_ack", "a-1"), ("error", "a-2"), ("message_ack", "a-1"), ("message_ack", "a-3"), ("error", "a-4"),
    ]  # fmt: skip
    assert answers[1]["code"] == answers[4]["code"] == "invalid"
    assert answers[0]["id"] == answers[2]["id"]
    for answer in (answers[0], answers[3]):  # stored before acked
        assert await SessionMessage.objects.filter(id=answer["id"]).aexists()

    for socket, heard in ((a, announced), (a_other_tab, []), (b, [])):
        while len(heard) < 2:
            heard.append((await receive(socket))["message"])
        assert [(m["client_id"], m["id"]) for m in heard] == [("a-1", answers[0]["id"]), ("a-3", answers[3]["id"])]
        assert await socket.receive_nothing(timeout=0.3)  # once each; nothing of the refused ones
    stored = SessionMessage.objects.filter(session_id=CALM_ID, user_id=alice.user_id).exclude(content="warm up")
    assert [m async for m in stored.order_by("created_at").values_list("client_id", flat=True)] == ["a-1", "a-3"]
    for socket in (a, a_other_tab, b):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_mood_room_message_is_stored_and_acked_while_the_sockets_database_thread_is_busy(visitor):
    """Mood room messages go through the writer's own database thread, not Channels' one."""
    alice, bob = await new_visitors(visitor, 2)
    await join(alice, mood="calm")
    await join(bob, mood="calm")
    a, _ = await connect(alice, CALM_ID)
    b, _ = await connect(bob, CALM_ID)
    await settle([a, b], [alice.user_id, bob.user_id])
    release = threading.Event()
    busy = asyncio.ensure_future(database_sync_to_async(release.wait)(10))  # holds that thread
    try:
        await a.send_json_to({"type": "message", "text": "while busy", "client_id": "w-1"})
        frames = {f["type"]: f for f in [await receive(a), await receive(a)]}
        assert set(frames) == {"message_ack", "new_message"}
        assert (await receive(b))["message"]["content"] == "while busy"
        assert not busy.done()  # the thread was held the whole time
    finally:
        release.set()
        await busy
    assert await SessionMessage.objects.filter(id=frames["message_ack"]["id"], content="while busy").aexists()
    await a.disconnect()
    await b.disconnect()
