"""`python -m whimsy_project.serve`: several daphne workers on one listening socket.

Which worker accepts a connection is the kernel's choice, so the test chooses for it: while
one worker is stopped (SIGSTOP) only the other can accept, and /proc shows which process
holds each accepted connection.
"""

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from chat.tests.test_across_processes import HttpVisitor, next_frame
from whimsy_project.tests.servers import free_port, process_env, server_env, wait_until_serving

PROJECT = Path(__file__).resolve().parents[2]


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def owner_of_connection(*, server_port: int, client_port: int, candidates: set[int]) -> int:
    """The process that holds the server side of the loopback connection from client_port."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        remote_port = int(fields[2].split(":")[1], 16)
        if (local_port, remote_port) == (server_port, client_port):
            inodes.add(fields[9])
    owners = {
        pid
        for pid in candidates
        for fd in Path(f"/proc/{pid}/fd").iterdir()
        if os.readlink(fd) in {f"socket:[{inode}]" for inode in inodes}
    }
    assert len(owners) == 1, (owners, inodes)
    return owners.pop()


def url_of(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def wait_for_workers(supervisor: subprocess.Popen, count: int, *, other_than: set[int] = frozenset()) -> set[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        workers = children(supervisor.pid)
        if len(workers) == count and not workers & other_than:
            return workers
        time.sleep(0.1)
    raise AssertionError(f"expected {count} workers, have {children(supervisor.pid)}")


def stop(supervisor: subprocess.Popen) -> int:
    supervisor.send_signal(signal.SIGTERM)
    try:
        return supervisor.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for pid in children(supervisor.pid):
            os.kill(pid, signal.SIGKILL)
        supervisor.kill()
        return supervisor.wait(timeout=10)


def start_serving(log_path: Path, *, workers: int, env: dict) -> tuple[subprocess.Popen, int, set[int]]:
    """`serve` on a free port, returned once its workers are up and it serves: (supervisor, port, worker pids)."""
    port = free_port()
    with open(log_path, "w") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "whimsy_project.serve", "--workers", str(workers), "--port", str(port),
             "--stop-timeout", "10"],
            cwd=PROJECT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        pids = wait_for_workers(supervisor, workers)
        wait_until_serving(url_of(port), supervisor, log_path)
    except BaseException:
        stop(supervisor)
        raise
    return supervisor, port, pids


def test_it_refuses_several_workers_without_redis():
    result = subprocess.run(
        [sys.executable, "-m", "whimsy_project.serve", "--workers", "2", "--port", str(free_port())],
        cwd=PROJECT, env=process_env(REDIS_URL=None), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "--workers 2 needs REDIS_URL" in result.stderr


def test_workers_write_no_access_log_with_client_addresses(tmp_path):
    """daphne's own access log (on by default, to stdout) names each client's address:
    serve turns it off; the request log has no addresses."""
    log_path = tmp_path / "serve.log"
    supervisor, port, _ = start_serving(log_path, workers=1, env=process_env(REDIS_URL=None))
    try:
        with urllib.request.urlopen(url_of(port) + "/healthz", timeout=10) as response:
            assert response.status == 200
    finally:
        stop(supervisor)
    output = log_path.read_text()
    assert "GET /healthz" not in output and not re.search(r"\d+\.\d+\.\d+\.\d+:\d+ - ", output), output


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
async def test_two_workers_share_one_port_and_a_chat_across_them_works(tmp_path):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis: several processes share the channel layer through it (set REDIS_URL)")
    env = server_env(PRESENCE_REDIS_KEY=f"whimsy:presence:test:{uuid.uuid4().hex}")
    supervisor, port, workers = await asyncio.to_thread(start_serving, tmp_path / "serve.log", workers=2, env=env)
    try:
        first, second = sorted(workers)
        alice = await asyncio.to_thread(HttpVisitor, url_of(port))
        bob = await asyncio.to_thread(HttpVisitor, url_of(port))
        room_id = (await asyncio.to_thread(alice.call, "POST", "/api/chat/start"))["room_id"]
        bob_match = await asyncio.to_thread(bob.call, "POST", "/api/chat/start")
        assert bob_match["room_id"] == room_id and bob_match["status"] == "chatting"

        async def connect_on(worker: int, other: int, visitor: HttpVisitor):
            os.kill(other, signal.SIGSTOP)  # only `worker` can accept now
            try:
                ws = await visitor.websocket(f"/ws/chat/{room_id}/")
                assert (await next_frame(ws))["type"] == "room_state"
            finally:
                os.kill(other, signal.SIGCONT)
            held_by = owner_of_connection(server_port=port, client_port=ws.local_address[1], candidates={first, second})
            assert held_by == worker
            return ws

        alice_ws = await connect_on(first, second, alice)
        bob_ws = await connect_on(second, first, bob)
        try:
            assert await next_frame(alice_ws) == {"type": "partner_connected"}
            assert await next_frame(bob_ws) == {"type": "partner_connected"}

            await alice_ws.send(json.dumps({"type": "message", "text": "across", "client_id": "x1"}))
            delivered = await next_frame(bob_ws)
            assert delivered["type"] == "new_message" and delivered["message"]["message"] == "across"
            await bob_ws.send(json.dumps({"type": "signal", "kind": "video-offer", "payload": {"sdp": "v=0"}}))
            assert await next_frame(alice_ws, skip=("presence", "message_ack", "new_message")) == {
                "type": "signal", "kind": "video-offer", "payload": {"sdp": "v=0"},
            }  # fmt: skip
            await alice_ws.send(json.dumps({"type": "leave"}))
            assert await next_frame(bob_ws, skip=("presence", "typing")) == {"type": "partner_left", "reason": "ended"}
            assert await next_frame(alice_ws, skip=("presence", "message_ack", "new_message")) == {
                "type": "chat_ended", "room_id": room_id,
            }  # fmt: skip
        finally:
            await alice_ws.close()
            await bob_ws.close()
    finally:
        assert await asyncio.to_thread(stop, supervisor) == 0
    assert not children(supervisor.pid)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_that_dies_is_started_again_and_sigterm_stops_them_all(tmp_path):
    supervisor, port, (worker,) = start_serving(tmp_path / "serve.log", workers=1, env=server_env())
    try:
        os.kill(worker, signal.SIGKILL)
        (replacement,) = wait_for_workers(supervisor, 1, other_than={worker})
        visitor = HttpVisitor(url_of(port))  # served again, on the same port
        assert visitor.cookie("csrftoken")
    finally:
        assert stop(supervisor) == 0
    assert not children(supervisor.pid)
    assert not Path(f"/proc/{replacement}").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_workers_stop_when_the_supervisor_is_killed(tmp_path):
    supervisor, _, (worker,) = start_serving(tmp_path / "serve.log", workers=1, env=server_env())
    supervisor.kill()
    supervisor.wait(timeout=10)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{worker}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not Path(f"/proc/{worker}").exists()
