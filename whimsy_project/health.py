"""Liveness and readiness (DESIGN section 13): one small check per backing service.

`GET /healthz` answers while the process serves, touching nothing else. `GET /readyz`
asks PostgreSQL (or SQLite) and, when REDIS_URL is set, Redis, all at once, and waits
READINESS_TIMEOUT_SECONDS at most: a load balancer must not hang on a dead dependency.
Why our own checks rather than django-health-check: docs/decisions.md (Operations).
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse

logger = logging.getLogger(__name__)

# A check that hangs (a dropped network path) keeps its thread until the driver gives
# up; readiness stops waiting for it at the timeout, and the other threads stay free.
_checks_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="readiness")


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    finally:
        connection.close()  # back to the pool: this thread is not a request's


@lru_cache(maxsize=1)
def _redis_client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def _check_redis() -> None:
    _redis_client(settings.REDIS_URL, settings.READINESS_TIMEOUT_SECONDS).ping()


def _checks() -> dict[str, Callable[[], None]]:
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    return checks


def readiness() -> dict[str, bool]:
    """Each configured dependency, and whether it answered within the timeout."""
    futures = {name: _checks_pool.submit(check) for name, check in _checks().items()}
    deadline = time.monotonic() + settings.READINESS_TIMEOUT_SECONDS
    results = {}
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = True
        except FutureTimeout:
            logger.warning("readiness: %s did not answer within %s s", name, settings.READINESS_TIMEOUT_SECONDS)
            results[name] = False
        except Exception as exc:  # any failure of the driver means "not ready"
            logger.warning("readiness: %s is down: %s: %s", name, type(exc).__name__, exc)
            results[name] = False
    return results


def healthz(request) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request) -> JsonResponse:
    results = readiness()
    down = [name for name, ok in results.items() if not ok]
    if not down:
        return JsonResponse({"status": "ready", "checks": {name: "ok" for name in results}})
    # Names only: the driver's message (with host names and ports) goes to the log.
    return JsonResponse(
        {
            "error": {
                "code": "service_unavailable",
                "detail": f"Not ready: {', '.join(down)} did not answer.",
                "down": down,
            },
            "checks": {name: "ok" if ok else "down" for name, ok in results.items()},
        },
        status=503,
    )
