"""Every frame kind is rate-limited per socket: a burst of ICE candidates passes, a typing
or signal flood is refused before it reaches the partner, and a socket that keeps on is closed."""

import pytest

from chat.sockets import limits
from chat.tests.sockets import expect_close, pair, receive
from whimsy_project.ratelimit import Limit

pytestmark = pytest.mark.django_db(transaction=True)


async def test_a_burst_of_ice_candidates_reaches_the_partner_whole(visitor):
    _, _, _, alice_socket, bob_socket = await pair(visitor)

    for number in range(60):
        await alice_socket.send_json_to({"type": "signal", "kind": "ice-candidate", "payload": {"n": number}})

    assert [(await receive(bob_socket))["payload"]["n"] for _ in range(60)] == list(range(60))
    assert await alice_socket.receive_nothing(timeout=0.2)  # nothing refused
    await alice_socket.disconnect()
    await bob_socket.disconnect()


@pytest.mark.parametrize(
    "rate_class, sent",
    [
        (limits.TYPING, {"type": "typing", "is_typing": True}),
        (limits.SIGNAL, {"type": "signal", "kind": "ice-candidate", "payload": {}}),
    ],
)
async def test_a_flood_of_relayed_frames_is_refused_then_closed_with_4008(visitor, monkeypatch, rate_class, sent):
    monkeypatch.setitem(limits.RATE_CLASSES, rate_class, lambda: Limit(burst=3, rate=0.05))
    _, _, _, alice_socket, bob_socket = await pair(visitor)

    for _ in range(3):
        await alice_socket.send_json_to(sent)
    for _ in range(3):
        assert (await receive(bob_socket))["type"] == sent["type"]
    for _ in range(limits.MAX_REFUSALS_IN_A_ROW):
        await alice_socket.send_json_to(sent)
        error = await receive(alice_socket)
        assert error["code"] == "rate_limited" and error["retry_after"] > 0

    await expect_close(alice_socket, 4008)
    # None of the refused ones got through: what comes next is the socket going away.
    after = [await receive(bob_socket)]
    while after[-1]["type"] != "partner_reconnecting":
        after.append(await receive(bob_socket))
    assert sent not in after
    await bob_socket.disconnect()
