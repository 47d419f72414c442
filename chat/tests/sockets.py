"""Helpers for driving the full ASGI application as browsers would (not a test module)."""

import asyncio
import json
import uuid

from asgiref.sync import sync_to_async
from channels.consumer import get_handler_name
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator

from chat.events import visitor_group
from chat.sockets import GroupSocket, frame

from whimsy_project.asgi import application

ORIGIN = "http://127.0.0.1"
TIMEOUT = 5

# Every communicator a test made: the conftest fixture disconnects those still running
# when the test ends, so a failed assertion leaks no socket into the next test. Strong
# references: a test's communicators are garbage once it returns, before that clean-up, and
# their consumers would never run their disconnect (presence and metrics left counting).
_made: set[WebsocketCommunicator] = set()


def communicator(path: str, visitor=None, *, origin: str | None = ORIGIN) -> WebsocketCommunicator:
    headers = []
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    if visitor is not None:
        headers.append((b"cookie", f"sessionid={visitor.cookies['sessionid'].value}".encode()))
    socket = WebsocketCommunicator(application, path, headers=headers)
    _made.add(socket)
    return socket


async def disconnect_all() -> None:
    """Disconnect every communicator whose application is still running (its disconnect handler runs)."""
    for socket in list(_made):
        _made.discard(socket)
        running = socket._future  # None: never connected
        if running is None or running.done():
            continue
        try:
            await socket.disconnect(timeout=TIMEOUT)
        except BaseException:  # the test already failed or will say why; never hang teardown
            running.cancel()


async def new_visitors(visitor_class, count: int) -> list:
    return [await sync_to_async(visitor_class)() for _ in range(count)]


async def api(visitor, method: str, path: str, body=None):
    return await sync_to_async(visitor.api)(method, path, body)


async def start(visitor, **body) -> dict:
    response = await api(visitor, "post", "/api/chat/start", body)
    assert response.status_code == 200, response.content
    return response.json()


async def receive(socket: WebsocketCommunicator, timeout: float = TIMEOUT) -> dict:
    return json.loads(await socket.receive_from(timeout=timeout))


async def open_room(visitor, room_id) -> tuple[WebsocketCommunicator, dict]:
    """A connected room socket and its room_state frame."""
    socket = communicator(f"/ws/chat/{room_id}/", visitor)
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    state = await receive(socket)
    assert state["type"] == "room_state", state
    return socket, state


async def expect_close(socket: WebsocketCommunicator, code: int) -> None:
    """The server closed with this code; then the client side goes, as a browser's would."""
    output = await socket.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close" and output.get("code") == code, output
    await socket.disconnect(code=code)


async def pair(visitor_class):
    """Two visitors matched by the HTTP API, both connected, each told the other is connected."""
    alice, bob = await new_visitors(visitor_class, 2)
    room_id = (await start(alice))["room_id"]
    assert (await start(bob))["room_id"] == room_id
    alice_socket, alice_state = await open_room(alice, room_id)
    bob_socket, bob_state = await open_room(bob, room_id)
    assert await receive(alice_socket) == {"type": "partner_connected"}
    assert await receive(bob_socket) == {"type": "partner_connected"}
    return alice, bob, room_id, alice_socket, bob_socket


MOVE_HANDLED = {"type": "move_handled"}


async def tell_of_a_move(user_id: str) -> None:
    """Announce on the visitor's group that the settle step moved them into another 1:1 room,
    which every kind of their sockets hears; then the frame MOVE_HANDLED: events reach a
    channel in order, so it arrives once each socket has handled the move."""
    group = visitor_group(uuid.UUID(user_id))
    moved = {"type": "partner.joined", "room_id": str(uuid.uuid4()), "user_ids": [user_id], "common_interests": []}
    await get_channel_layer().group_send(group, moved)
    await get_channel_layer().group_send(group, {"type": "socket.frame", "text": frame(MOVE_HANDLED["type"])})


def hold(monkeypatch, event_type: str) -> list:
    """Hold back every event of this type (socket.hello, socket.here) any group socket gets,
    as a slow channel layer would; `release` hands them on."""
    held = []

    async def held_back(socket, event):
        held.append((socket, event))

    monkeypatch.setattr(GroupSocket, get_handler_name({"type": event_type}), held_back)
    return held


async def release(monkeypatch, held: list, event_type: str, *, count: int) -> None:
    """Once `count` events are held, hand them to their sockets' real handler, in order."""
    for _ in range(int(TIMEOUT / 0.01)):
        if len(held) >= count:
            break
        await asyncio.sleep(0.01)
    assert len(held) == count, held
    monkeypatch.undo()
    handler = getattr(GroupSocket, get_handler_name({"type": event_type}))
    for socket, event in held:
        await handler(socket, event)
