"""A room socket that closes without `leave` keeps the chat for RESUME_GRACE_SECONDS: the
partner hears partner_reconnecting, then partner_resumed if the person comes back, or
partner_left "lost" if not. Explicit ends (leave, Next, ban) stay immediate, with their reason."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatMessage, ChatRoom
from chat.tests.sockets import api, new_visitors, open_room, pair, receive, start

pytestmark = pytest.mark.django_db(transaction=True)

GRACE = 1


@pytest.fixture(autouse=True)
def short_grace(settings):
    settings.RESUME_GRACE_SECONDS = GRACE


async def send_message(socket, text: str, client_id: str) -> str:
    await socket.send_json_to({"type": "message", "text": text, "client_id": client_id})
    frames = {f["type"]: f for f in [await receive(socket), await receive(socket)]}
    return frames["message_ack"]["id"]


async def test_a_reconnect_within_the_grace_resumes_and_the_missed_messages_come_once(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    seen_by_bob = await send_message(alice_socket, "before the blip", "a-1")
    assert (await receive(bob_socket))["message"]["id"] == seen_by_bob

    await bob_socket.disconnect(code=1006)  # the network dropped: no leave

    assert await receive(alice_socket) == {"type": "partner_reconnecting", "grace_seconds": GRACE}
    missed = await send_message(alice_socket, "while you were away", "a-2")  # stored and acked all the same

    bob_again, state = await open_room(bob, room_id)

    assert state["status"] == "active" and state["partner_id"] == alice.user_id
    assert await receive(alice_socket) == {"type": "partner_resumed"}
    assert await receive(bob_again) == {"type": "partner_connected"}
    response = await sync_to_async(bob.get)(f"/api/chat/rooms/{room_id}/messages?after={seen_by_bob}")
    assert [m["id"] for m in response.json()["results"]] == [missed]
    # Alice's socket spoke a moment before this one joined, so this one also catches up over
    # the socket (chat.sockets: a message announced before the newcomer was known): copies of
    # stored messages, each at most once, which the page shows once by id; nothing else.
    pushed = []
    while not await bob_again.receive_nothing(timeout=0.3):
        pushed.append(await receive(bob_again))
    assert all(f["type"] == "new_message" for f in pushed), pushed
    pushed_ids = [f["message"]["id"] for f in pushed]
    assert len(pushed_ids) == len(set(pushed_ids)) and set(pushed_ids) <= {seen_by_bob, missed}
    await asyncio.sleep(GRACE + 0.5)
    assert (await ChatRoom.objects.aget(id=room_id)).status == "active"  # the grace timer was called off
    assert await alice_socket.receive_nothing(timeout=0.2)
    assert (await send_message(bob_again, "back", "b-1")) and (await receive(alice_socket))["type"] == "new_message"


async def test_without_a_return_the_partner_is_told_lost_after_the_grace(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    await bob_socket.disconnect(code=1001)

    assert await receive(alice_socket) == {"type": "partner_reconnecting", "grace_seconds": GRACE}
    assert await alice_socket.receive_nothing(timeout=GRACE * 0.5)  # not before the grace
    assert await receive(alice_socket, timeout=GRACE + 3) == {"type": "partner_left", "reason": "lost"}
    assert (await ChatRoom.objects.aget(id=room_id)).status == "closed"


async def test_a_waiting_socket_that_does_not_come_back_ends_its_room(visitor):
    (alice,) = await new_visitors(visitor, 1)
    room_id = (await start(alice))["room_id"]
    socket, _ = await open_room(alice, room_id)

    await socket.disconnect(code=1006)

    await asyncio.sleep(GRACE + 0.5)
    for _ in range(30):
        if (await ChatRoom.objects.aget(id=room_id)).status == "closed":
            break
        await asyncio.sleep(0.1)
    assert (await ChatRoom.objects.aget(id=room_id)).status == "closed"


@pytest.mark.parametrize("how, reason", [("leave frame", "ended"), ("End over HTTP", "ended"), ("Next", "skipped")])
async def test_explicit_ends_are_immediate_and_say_why(visitor, how, reason):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)

    if how == "leave frame":
        await bob_socket.send_json_to({"type": "leave"})
    elif how == "End over HTTP":  # also what the page's sendBeacon on close does
        assert (await api(bob, "post", "/api/chat/leave", {"room_id": room_id})).status_code == 200
    else:
        assert (await api(bob, "post", "/api/chat/next", {"room_id": room_id})).status_code == 200

    assert await receive(alice_socket) == {"type": "partner_left", "reason": reason}
    await bob_socket.disconnect()  # the page closing its socket afterwards changes nothing
    assert await alice_socket.receive_nothing(timeout=GRACE + 0.5)


async def test_a_message_to_a_partner_who_never_returns_stays_stored_once(visitor):
    alice, bob, room_id, alice_socket, bob_socket = await pair(visitor)
    await bob_socket.disconnect(code=1006)
    assert (await receive(alice_socket))["type"] == "partner_reconnecting"

    message_id = await send_message(alice_socket, "are you there?", "a-9")

    assert await receive(alice_socket, timeout=GRACE + 3) == {"type": "partner_left", "reason": "lost"}
    assert await ChatMessage.objects.filter(id=message_id).acount() == 1

