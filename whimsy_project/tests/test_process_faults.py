"""Faults of whole processes, on two real daphne processes with PostgreSQL and a private
redis-server (DESIGN section 11): a crashed process, a stopped one (a deploy), Redis
killed and restarted, PostgreSQL dropping every connection. Each test prints its figures."""

import asyncio
import json
import signal
import socket
import subprocess
import os
import time
from contextlib import AsyncExitStack, ExitStack, contextmanager

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from whimsy_project.tests.servers import Browser, daphne_process, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

GRACE = 5  # RESUME_GRACE_SECONDS of the servers under test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def redis_server(tmp_path, port: int | None = None):
    """A private redis-server (no persistence, as a restarted cache loses everything); yields it."""
    port = port or free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as probe:
                probe.sendall(b"PING\r\n")
                if probe.recv(16).startswith(b"+PONG"):
                    break
        except OSError:
            pass
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    process.port = port
    try:
        yield process
    finally:
        process.kill()
        process.wait(timeout=5)


def servers_env(redis_port: int, **settings: str) -> dict:
    return server_env(
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        RESUME_GRACE_SECONDS=str(GRACE),
        PRESENCE_REDIS_KEY=f"whimsy:presence:test:{redis_port}",
        **settings,
    )


def servers(stack: ExitStack, tmp_path, redis_port: int, count: int = 2, **settings: str) -> list:
    env = servers_env(redis_port, **settings)
    return [stack.enter_context(daphne_process(env, tmp_path / f"daphne-{i}.log")) for i in range(count)]


async def call(browser: Browser, path: str, body: dict | None = None) -> tuple[int, dict]:
    status, raw = await asyncio.to_thread(browser.post, path, json.dumps(body or {}).encode())
    return status, json.loads(raw)


def room_socket(browser: Browser, url: str, room_id: str):
    return connect(
        url.replace("http", "ws") + f"/ws/chat/{room_id}/",
        origin=url,
        additional_headers={"Cookie": f"sessionid={browser.cookie('sessionid')}"},
        open_timeout=10,
    )


async def next_frame(ws, *, timeout: float = 10, until: str | None = None) -> dict:
    """The next frame (or the next of type `until`), skipping presence counts."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=timeout))
        if frame["type"] != "presence" and (until is None or frame["type"] == until):
            return frame


async def chat(alice_url: str, bob_url: str) -> tuple[Browser, Browser, str]:
    """Two strangers paired over HTTP, alice on one process and bob on another."""
    alice = await asyncio.to_thread(Browser, alice_url)
    bob = await asyncio.to_thread(Browser, bob_url)
    room_id = (await call(alice, "/api/chat/start"))[1]["room_id"]
    status, match = await call(bob, "/api/chat/start")
    assert status == 200 and match["room_id"] == room_id
    return alice, bob, room_id


async def connected(ws) -> dict:
    state = await next_frame(ws, until="room_state")
    await next_frame(ws, until="partner_connected")
    return state


async def chat_across_two_processes(stack: AsyncExitStack, tmp_path):
    """A private Redis, two daphne processes, and a chat with alice's socket on the first and
    bob's on the second, both connected: (redis, processes, (alice, bob, room_id), (alice_ws, bob_ws))."""
    redis = stack.enter_context(redis_server(tmp_path))
    processes = servers(stack, tmp_path, redis.port)
    (a_url, _), (b_url, _) = processes
    alice, bob, room_id = await chat(a_url, b_url)
    alice_ws = await stack.enter_async_context(room_socket(alice, a_url, room_id))
    bob_ws = await stack.enter_async_context(room_socket(bob, b_url, room_id))
    await connected(alice_ws)
    await connected(bob_ws)
    return redis, processes, (alice, bob, room_id), (alice_ws, bob_ws)


async def test_a_crashed_process_is_noticed_and_its_members_chats_end_after_the_grace(tmp_path):
    async with AsyncExitStack() as stack:
        _, (_, (_, b_process)), _, (alice_ws, _) = await chat_across_two_processes(stack, tmp_path)
        crashed = time.monotonic()
        b_process.send_signal(signal.SIGKILL)

        assert (await next_frame(alice_ws, timeout=20)) == {"type": "partner_reconnecting", "grace_seconds": GRACE}
        noticed = time.monotonic() - crashed
        assert await next_frame(alice_ws, timeout=GRACE + 20) == {"type": "partner_left", "reason": "lost"}
        ended = time.monotonic() - crashed
    assert noticed <= 15
    assert ended <= GRACE + 15
    print(f"\ncrash: partner told after {noticed:.1f} s, chat ended after {ended:.1f} s (grace {GRACE} s)")


async def test_a_stopped_process_closes_with_4012_and_its_chats_resume_on_the_other(tmp_path):
    async with AsyncExitStack() as stack:
        _, ((a_url, _), (_, b_process)), (_, bob, room_id), (alice_ws, bob_ws) = await chat_across_two_processes(
            stack, tmp_path
        )
        b_process.send_signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed):
            await next_frame(bob_ws, timeout=15)
        stopped = time.monotonic()
        assert bob_ws.close_code == 4012
        assert await asyncio.to_thread(b_process.wait, 15) is not None  # the process exits

        async with room_socket(bob, a_url, room_id) as bob_again:  # the page reconnects, to any process
            state = await connected(bob_again)
            assert state["status"] == "active"
            assert await next_frame(alice_ws, timeout=10) == {"type": "partner_reconnecting", "grace_seconds": GRACE}
            assert await next_frame(alice_ws, timeout=10) == {"type": "partner_resumed"}
            resumed = time.monotonic() - stopped
            await bob_again.send(json.dumps({"type": "message", "text": "still here", "client_id": "r-1"}))
            assert (await next_frame(alice_ws, until="new_message"))["message"]["message"] == "still here"
            await asyncio.sleep(GRACE + 1)
            with pytest.raises(TimeoutError):
                await next_frame(alice_ws, timeout=0.5)  # no partner_left, ever
    print(f"\nrestart: resumed {resumed:.2f} s after the 4012 close")


async def test_redis_killed_and_restarted_serves_new_chats_and_the_old_ones_resume(tmp_path):
    async with AsyncExitStack() as stack:
        redis, ((a_url, _), (b_url, _)), (carol, dave, old_room), (carol_ws, _) = await chat_across_two_processes(
            stack, tmp_path
        )

        redis.kill()
        redis.wait(timeout=5)
        # The socket is told, then closed for the page to reconnect (nothing hangs).
        assert (await next_frame(carol_ws, timeout=10))["code"] == "service_unavailable"
        with pytest.raises(ConnectionClosed):
            await next_frame(carol_ws, timeout=10)
        assert carol_ws.close_code == 4503
        await asyncio.sleep(1)
        restarted = stack.enter_context(redis_server(tmp_path, port=redis.port))
        back = time.monotonic()

        deadline = back + 30
        while True:  # a Start during the first moments may still meet a stale connection: a JSON 503
            alice = await asyncio.to_thread(Browser, a_url)
            status, body = await call(alice, "/api/chat/start")
            if status == 200:
                break
            assert status == 503 and body["error"]["code"] == "service_unavailable", body
            assert time.monotonic() < deadline
            await asyncio.sleep(0.2)
        bob = await asyncio.to_thread(Browser, b_url)
        room_id = body["room_id"]
        assert (await call(bob, "/api/chat/start"))[1]["room_id"] == room_id
        async with room_socket(alice, a_url, room_id) as alice_ws, room_socket(bob, b_url, room_id) as bob_ws:
            await connected(alice_ws)
            await connected(bob_ws)
            await alice_ws.send(json.dumps({"type": "message", "text": "after the restart", "client_id": "k-1"}))
            assert (await next_frame(bob_ws, until="new_message"))["message"]["message"] == "after the restart"
        serving_again = time.monotonic() - back
        async with room_socket(carol, a_url, old_room) as carol_again, room_socket(dave, b_url, old_room) as dave_again:
            assert (await connected(carol_again))["status"] == "active"  # the chat resumes
            await connected(dave_again)
            await carol_again.send(json.dumps({"type": "message", "text": "we are back", "client_id": "c-1"}))
            assert (await next_frame(dave_again, until="new_message"))["message"]["message"] == "we are back"
        assert restarted.poll() is None
    print(f"\nredis restart: a new chat worked {serving_again:.2f} s after Redis came back; the old one resumed")


SERVER_APPLICATION_NAME = "whimsy-fault-test"


def end_the_servers_sessions() -> int:
    """What a PostgreSQL restart or failover does to the server's pooled connections (the
    test's own connections are spared: they are not the server's)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            [SERVER_APPLICATION_NAME],
        )
        return cursor.fetchone()[0]


async def test_postgresql_dropping_every_connection_costs_no_request_after_it(tmp_path):
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(tmp_path))
        ((url, _),) = servers(
            stack, tmp_path, redis.port, count=1, DB_POOL_MIN_SIZE="2", PGAPPNAME=SERVER_APPLICATION_NAME
        )
        visitors = [await asyncio.to_thread(Browser, url) for _ in range(4)]
        for visitor in visitors[:2]:  # the pool now holds connections that are about to die
            assert (await call(visitor, "/api/chat/start"))[0] == 200

        assert await sync_to_async(end_the_servers_sessions)() >= 1

        for visitor in visitors[2:]:
            status, body = await call(visitor, "/api/chat/start")
            assert status == 200, body  # nothing was in flight: nothing fails


class Page:
    """A chat page's socket: reconnects at once after a 4012, to whichever process is up."""

    def __init__(self, browser: Browser, room_id: str):
        self.browser, self.room_id = browser, room_id
        self.frames: list[dict] = []

    async def run(self, first_url: str, next_url) -> None:
        url = first_url
        while True:
            try:
                async with room_socket(self.browser, url, self.room_id) as ws:
                    self.ws, self.url, self.state_here = ws, url, False
                    async for text in ws:
                        frame = json.loads(text)
                        self.frames.append(frame)
                        self.state_here = self.state_here or frame["type"] == "room_state"
            except (ConnectionClosed, OSError):
                await asyncio.sleep(0.05)
            url = next_url()

    def seen(self, frame_type: str) -> int:
        return sum(1 for frame in self.frames if frame["type"] == frame_type)


async def test_a_rolling_restart_of_both_processes_ends_no_chat_and_loses_no_message(tmp_path):
    chats = int(os.environ.get("ROLLING_RESTART_CHATS", "30"))
    with ExitStack() as stack:
        redis = stack.enter_context(redis_server(tmp_path))
        env = servers_env(redis.port)
        (a_url, a_process), (b_url, b_process) = servers(stack, tmp_path, redis.port)
        up = {"url": b_url}
        pages = []
        for _ in range(chats):
            alice, bob, room_id = await chat(a_url, b_url)
            pages.append((Page(alice, room_id), Page(bob, room_id)))
        readers = []
        for alice, bob in pages:
            readers.append(asyncio.create_task(alice.run(a_url, lambda: up["url"])))
            readers.append(asyncio.create_task(bob.run(b_url, lambda: up["url"])))
        everyone = [page for pair in pages for page in pair]
        try:
            await _until(lambda: all(page.seen("partner_connected") for page in everyone), "everyone is connected")
            started = time.monotonic()
            # A stops: its pages reconnect to B. A' starts, B stops: every page ends up on A'.
            a_process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(a_process.wait, 30)
            a2_url, _ = stack.enter_context(daphne_process(env, tmp_path / "daphne-a2.log"))
            up["url"] = a2_url
            b_process.send_signal(signal.SIGTERM)
            await asyncio.to_thread(b_process.wait, 30)
            await _until(
                lambda: all(page.url == a2_url and page.state_here for page in everyone),
                "every page is back",
                timeout=60 + chats / 2,
                report=lambda: f"{sum(p.url == a2_url and p.state_here for p in everyone)} of {len(everyone)} back; "
                f"last frames of one that is not: {next((p.frames[-3:] for p in everyone if not p.state_here), '')}",
            )
            took = time.monotonic() - started
            await asyncio.sleep(1)
            for number, (alice, _) in enumerate(pages):
                await alice.ws.send(json.dumps({"type": "message", "text": f"m{number}", "client_id": f"m{number}"}))
            await _until(lambda: all(bob.seen("new_message") for _, bob in pages), "every message arrived", 30)
            await asyncio.sleep(GRACE + 1)  # and no late partner_left
            lost_chats = sum(1 for pair in pages if any(page.seen("partner_left") for page in pair))
            lost_messages = sum(1 for _, bob in pages if not bob.seen("new_message"))
        finally:
            for task in readers:
                task.cancel()
    assert lost_chats == 0 and lost_messages == 0
    print(f"\nrolling restart of 2 processes with {chats} live chats: all back in {took:.1f} s, "
          f"chats lost {lost_chats}, messages lost {lost_messages}")


async def _until(condition, what: str, timeout: float = 60, report=lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}: {report()}"
        await asyncio.sleep(0.05)
