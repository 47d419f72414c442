"""Every Prometheus series Whimsy exports (DESIGN section 13), as module-level collectors.

Count where the thing happens, with the collectors below and nothing else: `STARTS.labels(
mode=...).inc()`. Several daphne processes on one machine report one view when the
environment sets PROMETHEUS_MULTIPROC_DIR (an empty directory, wiped before the processes
start: prometheus_client reads the variable when it is first imported, so Django settings
cannot set it); without it each process counts for itself. See docs/operations.md.

An increment is a few hundred nanoseconds (a locked add, or a write into a memory-mapped
file in multi-process mode), cheap enough for the socket hot paths.
"""

import atexit
import hmac
import ipaddress
import os
import re
from pathlib import Path

from django.conf import settings
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

# --- matchmaking (matchmaking/services.py) -------------------------------------------
STARTS = Counter("whimsy_starts_total", "Start and Next presses that began a search, by chat mode.", ["mode"])
PAIRS = Counter("whimsy_pairs_total", "Two strangers paired, by chat mode.", ["mode"])
TIME_TO_MATCH = Histogram(
    "whimsy_time_to_match_seconds",
    "For each pairing, how long the stranger who was waiting had waited since their Start.",
    ["mode"],
    buckets=(0.25, 0.5, 1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 300),
)

# --- sockets (the shared socket machinery in chat/) ----------------------------------
OPEN_SOCKETS = Gauge(
    "whimsy_open_sockets", "WebSockets open now, by kind (room, presence, ...).", ["kind"], multiprocess_mode="livesum"
)
MESSAGES_STORED = Counter(
    "whimsy_messages_stored_total", "Messages stored, by kind: room (1:1 chat), session (mood room), thread.", ["kind"]
)
DELIVERY_FAILURES = Counter(
    "whimsy_delivery_failures_total", "Frames that could not be passed on to a socket (full or closed channel)."
)
RESUMES = Counter("whimsy_resumes_total", "Sockets that reconnected within the grace period and resumed their chat.")
PARTNERS_LOST = Counter(
    "whimsy_partners_lost_total", "Chats ended because a member's socket did not come back within the grace period."
)
MOOD_ROOM_MEMBERS = Gauge(
    "whimsy_mood_room_members", "Members connected to mood rooms now.", multiprocess_mode="livesum"
)

# --- moderation (reports/services.py) ------------------------------------------------
REPORTS = Counter("whimsy_reports_total", "Reports filed by visitors.")
BANS = Counter("whimsy_bans_total", "Bans imposed, by how: automatic (enough reporters) or moderator.", ["how"])

# --- HTTP (whimsy_project.middleware.RequestLogMiddleware) ---------------------------
HTTP_LATENCY = Histogram(
    "whimsy_http_request_duration_seconds",
    "Time to answer an HTTP request, by route pattern and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_RESPONSES = Counter(
    "whimsy_http_responses_total", "HTTP responses, by route pattern, method and status code.",
    ["route", "method", "status"],
)


def exposition(*, readiness: dict[str, bool]) -> tuple[bytes, str]:
    """The text a scrape gets: every process's series when in multi-process mode, and
    `whimsy_ready{dependency}` from the readiness checks just run."""
    directory = _multiprocess_directory()
    registry = REGISTRY
    if directory:
        registry = CollectorRegistry()
        _forget_dead_processes(Path(directory))
        multiprocess.MultiProcessCollector(registry, path=directory)
    ready = GaugeMetricFamily(
        "whimsy_ready", "1 when the dependency answered this scrape's readiness check.", labels=["dependency"]
    )
    for name, ok in readiness.items():
        ready.add_metric([name], 1.0 if ok else 0.0)
    return generate_latest(registry) + generate_latest(_Fixed([ready])), CONTENT_TYPE_LATEST


def scrape_allowed(*, remote_addr: str, forwarded: bool, authorization: str) -> bool:
    """METRICS_TOKEN as a bearer token, or a socket address in METRICS_ALLOWED_IPS.

    A request that came through a proxy (it has X-Forwarded-For) is judged by its token
    only: its socket address is the proxy's, which would let anyone behind it in.
    """
    token = settings.METRICS_TOKEN
    if token and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization.removeprefix("Bearer ").strip().encode(), token.encode())
    if forwarded or not remote_addr:
        return False
    try:
        address = ipaddress.ip_address(remote_addr)
    except ValueError:
        return False
    return any(address in network for network in settings.METRICS_ALLOWED_IPS)


class _Fixed:
    """A registry-like collector of metric families built for one scrape."""

    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


_LIVE_GAUGE_FILE = re.compile(r"^gauge_live\w+?_(\d+)\.db$")


def _forget_dead_processes(directory: Path) -> None:
    """Drop the live gauges of processes that died without saying so (a crash, a kill -9):
    otherwise their last open-socket count would be added to the living ones' forever."""
    for path in directory.glob("gauge_live*.db"):
        match = _LIVE_GAUGE_FILE.match(path.name)
        if match and not _alive(int(match.group(1))):
            multiprocess.mark_process_dead(int(match.group(1)), path=str(directory))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _multiprocess_directory() -> str:
    # prometheus_client itself also accepts the old lower-case name.
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir") or ""


@atexit.register
def _mark_this_process_dead() -> None:
    """At exit, this process's open sockets and mood room members stop counting."""
    directory = _multiprocess_directory()
    if directory:
        multiprocess.mark_process_dead(os.getpid(), path=directory)
