"""Token buckets, the local and Redis stores, and the 429 answer of the API."""

import threading
import uuid

import pytest
from django.conf import settings
from django.test import Client

from conftest import run_concurrently
from whimsy_project import ratelimit
from whimsy_project.errors import RateLimited
from whimsy_project.ratelimit import Limit, LocalBuckets, RedisBuckets, TokenBucket, enforce


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_it_allows_a_burst_then_refuses_with_the_wait():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=10, clock=clock)

    assert [bucket.take() for _ in range(10)] == [0.0] * 10
    assert bucket.take() == 0.5


def test_it_refills_at_the_sustained_rate_up_to_the_burst():
    clock = FakeClock()
    bucket = TokenBucket(rate=2, burst=3, clock=clock)
    for _ in range(3):
        bucket.take()

    clock.now = 1.0
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.5]

    clock.now = 100.0
    assert [bucket.take() for _ in range(4)] == [0.0, 0.0, 0.0, 0.5]


# --- the shared stores and enforce() ------------------------------------------------


needs_redis = pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis: run with REDIS_URL=redis://...")


def stores() -> list:
    found = [pytest.param(LocalBuckets, id="local")]
    found.append(pytest.param(lambda: RedisBuckets(settings.REDIS_URL), id="redis", marks=needs_redis))
    return found


@pytest.mark.parametrize("make_store", stores())
def test_a_store_allows_the_burst_then_tells_the_wait_per_key(make_store):
    store, key, other = make_store(), uuid.uuid4().hex, uuid.uuid4().hex
    limit = Limit(burst=3, rate=0.5)

    assert [store.take(key, limit) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert 1.9 < store.take(key, limit) <= 2.0
    assert store.take(other, limit) == 0.0


@pytest.mark.parametrize("make_store", stores())
def test_concurrent_takes_never_overshoot_the_burst_by_more_than_one(make_store):
    store, key = make_store(), uuid.uuid4().hex
    limit = Limit.per_hour(1, burst=5)
    lock, allowed = threading.Lock(), []

    def take(_):
        wait = store.take(key, limit)
        with lock:
            allowed.append(wait == 0.0)

    run_concurrently(take, 64, threads=32)

    assert len(allowed) == 64
    assert 5 <= sum(allowed) <= 6


@needs_redis
def test_processes_share_one_bucket_through_redis():
    key, limit = uuid.uuid4().hex, Limit(burst=2, rate=0.001)
    first_process, second_process = RedisBuckets(settings.REDIS_URL), RedisBuckets(settings.REDIS_URL)

    assert first_process.take(key, limit) == 0.0
    assert second_process.take(key, limit) == 0.0
    assert first_process.take(key, limit) > 0


def test_local_store_forgets_the_least_recently_used_keys_beyond_its_bound():
    store, limit = LocalBuckets(max_keys=2), Limit(burst=1, rate=0.001)
    store.take("a", limit)
    store.take("b", limit)
    store.take("a", limit)  # refused, and now the most recently used
    store.take("c", limit)  # pushes out "b"

    assert store.take("a", limit) > 0
    assert store.take("b", limit) == 0.0


def test_enforce_raises_rate_limited_with_whole_seconds(monkeypatch):
    key, limit = uuid.uuid4().hex, Limit(burst=1, rate=0.4)
    store = LocalBuckets()
    monkeypatch.setattr(ratelimit, "_store", lambda: store)

    enforce(scope="test", key=key, limit=limit)
    with pytest.raises(RateLimited) as caught:
        enforce(scope="test", key=key, limit=limit)

    assert caught.value.retry_after == 3  # 2.5 s rounded up
    assert caught.value.extra() == {"retry_after": 3}
    assert caught.value.headers() == {"Retry-After": "3"}


def test_an_unreachable_redis_lets_requests_through(monkeypatch, caplog):
    unreachable = RedisBuckets("redis://127.0.0.1:1/0")
    monkeypatch.setattr(ratelimit, "_store", lambda: unreachable)

    enforce(scope="test", key="k", limit=Limit(burst=1, rate=1))

    assert "rate limit store unreachable" in caplog.text


# --- over HTTP ----------------------------------------------------------------------


def test_start_and_next_share_a_per_visitor_limit_answered_with_429(visitor, settings):
    settings.RATE_LIMIT_MATCH_BURST = 3
    settings.RATE_LIMIT_MATCH_PER_MINUTE = 1
    alice, bob = visitor(), visitor()
    room_id = alice.api("post", "/api/chat/start").json()["room_id"]
    alice.api("post", "/api/chat/start")
    alice.api("post", "/api/chat/next", {"room_id": room_id})

    refused = alice.api("post", "/api/chat/next", {"room_id": room_id})

    assert refused.status_code == 429
    assert refused.json() == {
        "error": {
            "code": "rate_limited",
            "detail": f"Too many requests: please wait {refused.json()['error']['retry_after']} s and try again.",
            "retry_after": refused.json()["error"]["retry_after"],
        }
    }
    assert 55 <= refused.json()["error"]["retry_after"] <= 60
    assert refused["Retry-After"] == str(refused.json()["error"]["retry_after"])
    assert bob.api("post", "/api/chat/start").status_code == 200  # someone else is not affected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_of_one_visitor_do_not_overshoot_the_limit(visitor, settings):
    settings.RATE_LIMIT_MATCH_BURST = 4
    settings.RATE_LIMIT_MATCH_PER_MINUTE = 1
    alice = visitor()
    cookies = {name: morsel.value for name, morsel in alice.cookies.items()}

    def start(_):
        client = Client(enforce_csrf_checks=True)
        for name, value in cookies.items():
            client.cookies[name] = value
        return client.post(
            "/api/chat/start", data="{}", content_type="application/json", headers={"X-CSRFToken": alice.csrf_token}
        ).status_code

    statuses = run_concurrently(start, 24)

    assert set(statuses) <= {200, 429}
    assert 4 <= statuses.count(200) <= 5
