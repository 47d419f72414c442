"""Helpers for driving mood room sockets through the full ASGI application (not a test module)."""

from channels.testing import WebsocketCommunicator

from chat.tests.sockets import TIMEOUT, api, communicator, receive


async def join(visitor, category: str = "calm", **body) -> dict:
    response = await api(visitor, "post", "/api/sessions/join", {"category": category, **body})
    assert response.status_code == 200, response.content
    return response.json()["session"]


async def connect(visitor, session_id) -> tuple[WebsocketCommunicator, dict]:
    """A connected session socket and its room_joined frame."""
    socket = communicator(f"/ws/sessions/{session_id}/", visitor)
    connected, _ = await socket.connect(timeout=TIMEOUT)
    assert connected
    joined = await receive(socket)
    assert joined["type"] == "room_joined", joined
    return socket, joined


async def frames_until(socket, *types: str) -> dict[str, dict]:
    """Receive until one frame of each type has come (in any order); fail on anything else."""
    wanted, got = set(types), {}
    while wanted - set(got):
        received = await receive(socket)
        assert received["type"] in wanted and received["type"] not in got, (received, got)
        got[received["type"]] = received
    return got


async def settle(sockets: list[WebsocketCommunicator], user_ids: list[str]) -> None:
    """Wait until every socket relays to every other: each has heard the others' hello.

    A socket addresses another only once it has heard its hello (chat.sockets.directory);
    a typing frame relayed from each member to each other proves it. Resent until seen,
    then the duplicates are drained, so the test starts with empty queues.
    """
    for sender, sender_id in zip(sockets, user_ids):
        for receiver in sockets:
            if receiver is sender:
                continue
            for _ in range(50):
                await sender.send_json_to({"type": "typing", "is_typing": False})
                # (receive_nothing, not a receive that times out: that would cancel the app.)
                if await receiver.receive_nothing(timeout=0.1):
                    continue
                got = await receive(receiver)
                if got == {**got, "type": "typing", "user_id": sender_id}:
                    break
            else:
                raise AssertionError("the sockets never heard each other")
    for socket in sockets:
        while not await socket.receive_nothing(timeout=0.15):
            await socket.receive_from()
