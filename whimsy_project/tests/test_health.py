"""/healthz answers while the process serves; /readyz says 503 naming PostgreSQL or Redis
while it does not answer, and 200 again once it does, without a restart."""

import json
import shutil
import socket
import subprocess
import threading
import time

import pytest
from django.db import connection
from django.test import Client

from whimsy_project.tests.servers import daphne, get, server_env

pytestmark = pytest.mark.django_db


def test_healthz_answers_whatever_host_a_probe_sends_and_touches_no_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        response = Client().get("/healthz", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "sessionid" not in response.cookies


def test_readyz_is_ready_when_the_database_answers(settings):
    settings.REDIS_URL = None

    response = Client().get("/readyz", HTTP_HOST="10.1.2.3:8000")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok"}}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError("the private redis-server did not start")


def stop(process: subprocess.Popen) -> None:
    process.kill()
    process.wait(timeout=10)


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server (Debian's redis-server)")
def test_readyz_names_redis_while_it_is_down_and_is_ready_again_when_it_is_back(settings):
    port = free_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    settings.READINESS_TIMEOUT_SECONDS = 1
    redis = start_redis(port)
    try:
        assert Client().get("/readyz").status_code == 200

        stop(redis)
        down = Client().get("/readyz")
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "service_unavailable"
        assert down.json()["error"]["down"] == ["redis"]
        assert down.json()["checks"] == {"database": "ok", "redis": "down"}

        redis = start_redis(port)
        back = Client().get("/readyz")
        assert back.status_code == 200, back.content
        assert back.json()["checks"] == {"database": "ok", "redis": "ok"}
    finally:
        stop(redis)


class Cable:
    """A TCP forwarder to PostgreSQL that can be cut (every connection dropped, new ones
    refused) and mended on the same port: the database going away and coming back."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.port = free_port()
        self.links: list[socket.socket] = []
        self.listener = None
        self.mend()

    def mend(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def cut(self) -> None:
        # shutdown, not only close: a close leaves the accept() blocked in our thread listening.
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        for link in self.links:
            try:
                link.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            link.close()
        self.links.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
                server = socket.create_connection(self.target)
            except OSError:
                return
            self.links += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass


def readyz(url: str) -> tuple[int, dict]:
    status, body = get(url + "/readyz")
    return status, json.loads(body)


def eventually(condition, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.25)
    return result


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readyz_names_postgresql_while_it_is_unreachable_and_recovers_without_a_restart(tmp_path):
    db = connection.settings_dict
    cable = Cable((db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)))
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    env = server_env(
        DATABASE_URL=f"postgres://{db['USER']}{password}@127.0.0.1:{cable.port}/{db['NAME']}",
        READINESS_TIMEOUT_SECONDS="1",
        DB_POOL_TIMEOUT="2",
    )
    env.pop("REDIS_URL", None)
    with daphne(env, tmp_path / "daphne.log") as url:
        assert readyz(url) == (200, {"status": "ready", "checks": {"database": "ok"}})

        cable.cut()
        status, body = readyz(url)
        assert status == 503
        assert body["error"]["down"] == ["database"] and body["checks"] == {"database": "down"}
        assert get(url + "/healthz")[0] == 200  # alive, just not ready

        cable.mend()
        assert eventually(lambda: readyz(url)[0] == 200), open(tmp_path / "daphne.log").read()[-3000:]
    cable.cut()
