"""Fixtures shared by every app's tests."""

import importlib
import json
import threading
import time
from collections.abc import Callable

import pytest
from django.apps import apps
from django.db import connection, connections
from django.test import Client

_seed_migration = importlib.import_module("moodrooms.migrations.0002_seed_sessions")


def pytest_collection_modifyitems(config, items):
    if connection.vendor != "postgresql":
        skip = pytest.mark.skip(reason="needs PostgreSQL: run with DATABASE_URL=postgres://... (make test does in CI)")
        for item in items:
            if "postgres" in item.keywords:
                item.add_marker(skip)


class VisitorClient(Client):
    """A browser-like anonymous visitor: opens the home page, then calls the JSON API with CSRF."""

    def __init__(self):
        super().__init__(enforce_csrf_checks=True)
        response = self.get("/")
        assert response.status_code == 200
        self.csrf_token = self.cookies["csrftoken"].value
        self.user_id = self.session["user_id"]

    def api(self, method: str, path: str, body=None, *, csrf: bool = True):
        headers = {"X-CSRFToken": self.csrf_token} if csrf else {}
        data = body if isinstance(body, (str, bytes)) else json.dumps(body if body is not None else {})
        return getattr(self, method)(path, data=data, content_type="application/json", headers=headers)


@pytest.fixture(scope="session", autouse=True)
def end_leftover_database_sessions(django_db_setup, django_db_blocker):
    """Worker threads that served async tests keep a pooled connection until they exit,
    which is after pytest drops the test database: end those sessions first, so that the
    drop succeeds and the next run starts clean."""
    yield
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A new channel layer for each test: every async test has its own event loop, and
    the Redis layer's receive lock and connections belong to the loop that made them."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture(autouse=True)
def sockets_disconnected_after_each_test(request):
    """Every WebsocketCommunicator made through chat.tests.sockets is disconnected when the
    test ends, passed or failed: no consumer outlives its test (and its database).

    Async tests only: communicators live on the test's event loop, and a sync test (the
    Playwright ones, whose own event loop is running) could not run an async fixture."""
    if request.node.get_closest_marker("asyncio") is not None:
        request.getfixturevalue("communicators_disconnected")
    yield


@pytest.fixture
async def communicators_disconnected():
    yield
    from chat.tests.sockets import disconnect_all

    await disconnect_all()


@pytest.fixture
def visitor(db) -> Callable[[], VisitorClient]:
    return VisitorClient


@pytest.fixture
def chatting(visitor) -> tuple[VisitorClient, VisitorClient, str]:
    """Two visitors paired over HTTP: (the one who waited, the one who joined, room id)."""
    alice, bob = visitor(), visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    assert bob.api("post", "/api/chat/start").json()["room_id"] == room_id
    return alice, bob, room_id


def wait_for_a_lock_wait() -> None:
    """Return once some connection of the test database waits for a row lock (PostgreSQL)."""
    deadline = time.monotonic() + 15
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("nobody ever waited on the lock")


def run_concurrently(worker: Callable[[int], object], count: int, *, threads: int | None = None) -> list:
    """Run worker(i) for i in range(count) on real threads that start together at a barrier.

    Each thread uses its own database connection, as each daphne worker thread would,
    and returns it when done. Exceptions are collected and re-raised by the caller's asserts.
    """
    threads = threads or count
    barrier = threading.Barrier(threads)
    results: list = [None] * count
    errors: list[BaseException] = []
    next_index = iter(range(count))
    lock = threading.Lock()

    def run():
        barrier.wait()
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None:
                    return
                try:
                    results[index] = worker(index)
                except BaseException as exc:  # collected: any failure fails the test
                    errors.append(exc)
                finally:
                    connections.close_all()
        finally:
            connections.close_all()

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=240)
    assert not any(thread.is_alive() for thread in pool), "a worker thread hung"
    assert not errors, f"{len(errors)} calls failed, first: {errors[0]!r}"
    return results


@pytest.fixture(autouse=True)
def seeded_sessions(request):
    """The seven seeded sessions, as the data migration makes them: a transactional test
    (any app's) empties every table when it ends, the migration's rows included."""
    if "django_db" not in {marker.name for marker in request.node.iter_markers()} and not any(
        name in request.fixturenames for name in ("db", "transactional_db", "visitor")
    ):
        return
    request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
    _seed_migration.seed_sessions(apps, None)


def _is_transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
