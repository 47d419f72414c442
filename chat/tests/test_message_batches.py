"""Socket messages are stored in batches: each once, in order, deduplicated, acked only once stored."""

import asyncio
import threading
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from chat.models import ChatMessage, ChatParticipant, ChatRoom, Visitor
from chat.services import PostedMessage, NewMessage, messages_store
from chat.tests.sockets import open_room, pair, receive
from whimsy_project.errors import NoPartnerYet, RoomClosed, RoomNotFound


def _room(status: str, *people: Visitor) -> ChatRoom:
    room = ChatRoom.objects.create(status=status)
    for person in people:
        ChatParticipant.objects.create(room=room, user=person)
    return room


@pytest.mark.django_db
def test_one_batch_stores_each_message_once_in_arrival_order_and_refuses_what_message_post_refuses():
    alice, bob, carol, dave = (Visitor.objects.create() for _ in range(4))
    room = _room("active", alice, bob)
    other_room = _room("active", carol, dave)
    closed = _room("closed")
    waiting = _room("waiting")
    earlier = ChatMessage.objects.create(room=room, sender=alice, message="before", client_id="a-0")

    batch = [
        NewMessage(room_id=room.id, sender_id=alice.id, text="one", client_id="a-1"),
        NewMessage(room_id=room.id, sender_id=bob.id, text="two", client_id="a-1"),  # bob's own a-1
        NewMessage(room_id=other_room.id, sender_id=carol.id, text="elsewhere", client_id=None),
        NewMessage(room_id=room.id, sender_id=alice.id, text="one", client_id="a-1"),  # resent in the batch
        NewMessage(room_id=room.id, sender_id=alice.id, text="before", client_id="a-0"),  # resent later
        NewMessage(room_id=room.id, sender_id=alice.id, text="three", client_id=None),
        NewMessage(room_id=closed.id, sender_id=alice.id, text="late", client_id="x"),
        NewMessage(room_id=waiting.id, sender_id=alice.id, text="early", client_id="y"),
        NewMessage(room_id=uuid.uuid4(), sender_id=alice.id, text="nowhere", client_id="z"),
    ]
    results = messages_store(messages=batch)

    assert [type(r) for r in results[:6]] == [PostedMessage] * 6
    assert [r.created for r in results[:6]] == [True, True, True, False, False, True]
    assert results[3].message.id == results[0].message.id  # the batch's own duplicate answered with the first
    assert results[4].message.id == earlier.id
    assert [type(r) for r in results[6:]] == [RoomClosed, NoPartnerYet, RoomNotFound]
    history = ChatMessage.objects.filter(room=room).order_by("timestamp", "id")
    assert [(m.sender_id, m.message) for m in history] == [
        (alice.id, "before"), (alice.id, "one"), (bob.id, "two"), (alice.id, "three"),
    ]  # fmt: skip
    stamps = [m.timestamp for m in history]
    assert stamps == sorted(set(stamps))  # strictly increasing: the order never rests on random ids
    assert ChatMessage.objects.filter(room=other_room).count() == 1
    assert not ChatMessage.objects.filter(room__in=[closed, waiting]).exists()


@pytest.mark.django_db(transaction=True)
async def test_messages_sent_at_once_from_both_sockets_are_each_stored_once_and_acked_only_once_stored(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    sent = {alice_socket: ["a-1", "a-2", "a-2", "a-3"], bob_socket: ["b-1", "b-2", "b-3"]}

    # No waiting between frames: later ones queue while the first batch is in its transaction.
    for socket, client_ids in sent.items():
        for client_id in client_ids:
            await socket.send_json_to({"type": "message", "text": f"text {client_id}", "client_id": client_id})

    acked: dict[str, list] = {}
    delivered: dict = {alice_socket: [], bob_socket: []}
    for socket, client_ids in sent.items():
        while sum(len(ids) for cid, ids in acked.items() if cid[0] == client_ids[0][0]) < len(client_ids):
            frame = await receive(socket)
            if frame["type"] == "message_ack":
                # Stored before acknowledged: the row is there when the ack is.
                assert await ChatMessage.objects.filter(id=frame["id"], client_id=frame["client_id"]).aexists()
                acked.setdefault(frame["client_id"], []).append(frame["id"])
            else:
                delivered[socket].append(frame["message"]["client_id"])
    assert set(acked) == {"a-1", "a-2", "a-3", "b-1", "b-2", "b-3"}
    assert len(set(acked["a-2"])) == 1 and len(acked["a-2"]) == 2  # acked twice, same id

    stored = await sync_to_async(list)(
        ChatMessage.objects.filter(room_id=room_id).order_by("timestamp", "id").values_list("client_id", flat=True)
    )
    assert sorted(stored) == ["a-1", "a-2", "a-3", "b-1", "b-2", "b-3"]
    assert [c for c in stored if c[0] == "a"] == ["a-1", "a-2", "a-3"]  # each sender's order kept
    assert [c for c in stored if c[0] == "b"] == ["b-1", "b-2", "b-3"]
    # Every socket sees every message, in the order of the history; the resent a-2 may be
    # announced again (when its two copies went in different batches), never anything else.
    for socket in (alice_socket, bob_socket):
        while not await socket.receive_nothing(timeout=0.3):
            frame = await receive(socket)
            assert frame["type"] == "new_message", frame
            delivered[socket].append(frame["message"]["client_id"])
        assert list(dict.fromkeys(delivered[socket])) == stored
        assert len(delivered[socket]) - len(stored) <= 1 and delivered[socket].count("a-2") <= 2
    await alice_socket.disconnect()
    await bob_socket.disconnect()
    await asyncio.sleep(0)


@pytest.mark.django_db(transaction=True)
async def test_a_message_reaches_the_senders_other_tab_once_through_the_channel_layer(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    alice_other_tab, _ = await open_room(alice, room_id)
    assert await receive(alice_other_tab) == {"type": "partner_connected"}

    await alice_socket.send_json_to({"type": "message", "text": "to every tab", "client_id": "t-1"})

    frames = {f["type"]: f for f in [await receive(alice_socket), await receive(alice_socket)]}
    assert set(frames) == {"message_ack", "new_message"}
    # Not a local recipient (those are the sending socket and the partner's): a group member all the same.
    assert await receive(alice_other_tab) == frames["new_message"]
    assert await receive(bob_socket) == frames["new_message"]
    for socket in (alice_socket, alice_other_tab, bob_socket):
        assert await socket.receive_nothing(timeout=0.2)  # once each
    for socket in (alice_socket, alice_other_tab, bob_socket):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_message_is_stored_and_acked_while_the_sockets_database_thread_is_busy(visitor):
    """The writer has a database thread of its own: a message does not queue behind the
    connects, heartbeats and settle steps that Channels' one database thread runs."""
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    release = threading.Event()
    busy = asyncio.ensure_future(database_sync_to_async(release.wait)(10))  # holds that thread
    try:
        await alice_socket.send_json_to({"type": "message", "text": "while busy", "client_id": "w-1"})
        frames = {f["type"]: f for f in [await receive(alice_socket), await receive(alice_socket)]}
        assert set(frames) == {"message_ack", "new_message"}
        assert (await receive(bob_socket))["message"]["message"] == "while busy"
        assert not busy.done()  # the thread was held the whole time
    finally:
        release.set()
        await busy
    assert await ChatMessage.objects.filter(id=frames["message_ack"]["id"], message="while busy").aexists()
    await alice_socket.disconnect()
    await bob_socket.disconnect()
