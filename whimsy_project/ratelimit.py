"""Rate limiting by token bucket: `burst` tokens, refilled at `rate` per second.

`enforce(...)` is what adapters call. With REDIS_URL set, every process shares one bucket
per key, kept in Redis and updated by one Lua script (atomic: two processes cannot both
spend the last token). Without Redis there is one process, and the buckets live in its
memory behind a lock.
"""

import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.conf import settings

from whimsy_project.errors import RateLimited

logger = logging.getLogger(__name__)


class TokenBucket:
    """One caller's bucket, kept in memory (a socket's own limit, or the local store)."""

    def __init__(self, *, rate: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def take(self) -> float:
        """Spend a token; returns 0.0 if allowed, else the seconds until one is available."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1:
            self._tokens -= 1
            return 0.0
        return (1 - self._tokens) / self.rate


@dataclass(frozen=True)
class Limit:
    """`burst` actions at once, then `rate` per second."""

    burst: int
    rate: float

    @classmethod
    def per_minute(cls, count: int, *, burst: int) -> "Limit":
        return cls(burst=burst, rate=count / 60)

    @classmethod
    def per_hour(cls, count: int, *, burst: int) -> "Limit":
        return cls(burst=burst, rate=count / 3600)


class LocalBuckets:
    """In-process buckets for the single-process (no Redis) deployment."""

    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic):
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()
        self._max_keys = max_keys
        self._clock = clock

    def take(self, key: str, limit: Limit) -> float:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(rate=limit.rate, burst=limit.burst, clock=self._clock)
                self._forget_oldest()
            self._buckets.move_to_end(key)
            return bucket.take()

    def _forget_oldest(self) -> None:
        # Least recently used first: usually an idle, refilled bucket, so forgetting it
        # changes nothing; memory stays bounded whatever callers do.
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)


# KEYS[1] = bucket; ARGV = rate per second, burst. Returns the wait in seconds as a
# string ("0" = allowed). Redis's own clock is used so that processes on hosts with
# skewed clocks still agree.
_TAKE_SCRIPT = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst / rate) * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """Buckets shared by every process, one Redis hash per key, expiring once full again."""

    prefix = "whimsy:ratelimit:"

    def __init__(self, url: str):
        import redis

        self._client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._take = self._client.register_script(_TAKE_SCRIPT)

    def take(self, key: str, limit: Limit) -> float:
        return float(self._take(keys=[self.prefix + key], args=[limit.rate, limit.burst]))


@cache
def _store() -> LocalBuckets | RedisBuckets:
    return RedisBuckets(settings.REDIS_URL) if settings.REDIS_URL else LocalBuckets()


def enforce(*, scope: str, key: str, limit: Limit) -> None:
    """Spend one token of `key`'s bucket in `scope`, or raise RateLimited with the wait.

    If Redis cannot be reached the request is let through (and logged): a rate limit
    protects the service, it must not become the reason the service is down.
    """
    try:
        wait = _store().take(f"{scope}:{key}", limit)
    except Exception as exc:  # redis-py raises several connection/timeout types
        if isinstance(_store(), LocalBuckets):
            raise
        logger.warning("rate limit store unreachable, allowing %s:%s: %s", scope, key, exc)
        return
    if wait > 0:
        raise RateLimited(retry_after=max(1, math.ceil(wait)))


def match_limit() -> Limit:
    """Start and Next per visitor: stops rapid skipping through strangers."""
    return Limit.per_minute(settings.RATE_LIMIT_MATCH_PER_MINUTE, burst=settings.RATE_LIMIT_MATCH_BURST)


def report_limit() -> Limit:
    return Limit.per_hour(settings.RATE_LIMIT_REPORT_PER_HOUR, burst=settings.RATE_LIMIT_REPORT_BURST)
