"""Two daphne processes sharing PostgreSQL and Redis: a chat between visitors on different
processes works (matching, messages, signalling) and the online count covers both."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from websockets.asyncio.client import connect

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PROJECT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_daphne(port: int, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "whimsy_project.asgi:application"],
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_until_serving(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daphne on {port} exited: {process.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"daphne on {port} did not start within {timeout} s")


class HttpVisitor:
    """A browser on one process: session and CSRF cookies, JSON API calls."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
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


async def test_a_chat_between_two_processes():
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: several processes share the channel layer through it (set REDIS_URL)")
    env = {
        **os.environ,
        "DEBUG": "1",
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "PRESENCE_REDIS_KEY": f"whimsy:presence:test:{uuid.uuid4().hex}",
        "DB_POOL_MIN_SIZE": "0",
    }
    ports = [free_port(), free_port()]
    processes = [start_daphne(port, env) for port in ports]
    try:
        for port, process in zip(ports, processes):
            await asyncio.to_thread(wait_until_serving, port, process)
        alice = await asyncio.to_thread(HttpVisitor, ports[0])
        bob = await asyncio.to_thread(HttpVisitor, ports[1])
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
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
