"""Two daphne processes sharing PostgreSQL and Redis: a chat between visitors on different
processes works (matching, messages, signalling) and the online count covers both."""

import asyncio
import json
import urllib.request
import uuid
from http.cookiejar import CookieJar

import pytest
from django.conf import settings
from websockets.asyncio.client import connect

from whimsy_project.tests.servers import daphne, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


class HttpVisitor:
    """A browser on one process: session and CSRF cookies, JSON API calls."""

    def __init__(self, base: str):
        self.base = base
        self.jar = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(self.base + "/", timeout=10).read()

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            data=json.dumps(body or {}).encode() if method == "POST" else None,
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        with self.opener.open(request, timeout=10) as response:
            return json.loads(response.read())

    def websocket(self, path: str):
        return connect(
            self.base.replace("http", "ws") + path,
            origin=self.base,
            additional_headers={"Cookie": f"sessionid={self.cookie('sessionid')}"},
            open_timeout=10,
        )


async def next_frame(ws, *, skip=("presence",)) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        if frame["type"] not in skip:
            return frame


async def test_a_chat_between_two_processes(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: several processes share the channel layer through it (set REDIS_URL)")
    env = server_env(PRESENCE_REDIS_KEY=f"whimsy:presence:test:{uuid.uuid4().hex}")
    with daphne(env, tmp_path / "one.log") as one, daphne(env, tmp_path / "two.log") as two:
        alice = await asyncio.to_thread(HttpVisitor, one)
        bob = await asyncio.to_thread(HttpVisitor, two)
        room_id = (await asyncio.to_thread(alice.call, "POST", "/api/chat/start"))["room_id"]
        bob_match = await asyncio.to_thread(bob.call, "POST", "/api/chat/start")
        assert bob_match["room_id"] == room_id and bob_match["status"] == "chatting"

        async with alice.websocket(f"/ws/chat/{room_id}/") as alice_ws, bob.websocket(f"/ws/chat/{room_id}/") as bob_ws:
            assert (await next_frame(alice_ws))["type"] == "room_state"
            assert (await next_frame(bob_ws))["type"] == "room_state"
            assert await next_frame(alice_ws) == {"type": "partner_connected"}
            assert await next_frame(bob_ws) == {"type": "partner_connected"}

            await alice_ws.send(json.dumps({"type": "message", "text": "across", "client_id": "x1"}))
            delivered = await next_frame(bob_ws)
            assert delivered["type"] == "new_message" and delivered["message"]["message"] == "across"
            own = [await next_frame(alice_ws), await next_frame(alice_ws)]
            assert {frame["type"] for frame in own} == {"message_ack", "new_message"}

            await bob_ws.send(json.dumps({"type": "signal", "kind": "video-offer", "payload": {"sdp": "v=0"}}))
            assert await next_frame(alice_ws) == {"type": "signal", "kind": "video-offer", "payload": {"sdp": "v=0"}}
            await alice_ws.send(json.dumps({"type": "typing", "is_typing": True}))
            assert await next_frame(bob_ws) == {"type": "typing", "is_typing": True}

            async with bob.websocket("/ws/presence/") as presence_ws:
                online = (await next_frame(presence_ws, skip=()))["online"]
                while online < 2:  # alice's process writes her in on its next tick
                    online = (await next_frame(presence_ws, skip=()))["online"]
                assert online == 2
            assert (await asyncio.to_thread(alice.call, "GET", "/api/presence"))["online"] == 2

            await alice_ws.send(json.dumps({"type": "leave"}))
            assert await next_frame(bob_ws) == {"type": "typing", "is_typing": False}
            assert await next_frame(bob_ws) == {"type": "partner_left", "reason": "ended"}
            assert await next_frame(alice_ws) == {"type": "chat_ended", "room_id": room_id}
