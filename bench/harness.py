"""What every benchmark shares: the environment, servers started and stopped by PID, figures.

A benchmark prints one JSON line per figure on stdout (machine-readable); the runner
collects them and appends a table to bench/RESULTS.md with the date, commit and machine.
"""

import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DAPHNE = str(Path(PYTHON).with_name("daphne"))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/whimsy_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"

# Settings the benchmarks change from production defaults, announced in every run's output:
# a benchmark measures capacity, so per-person abuse limits must not be what it measures.
BENCH_SETTINGS = {
    "NO_REMATCH_SECONDS": "0",  # matchmaking clients meet the same few people again and again
    "MESSAGE_RATE_PER_SECOND": "100000",  # per-socket message limit (production: 2/s, burst 10)
    "MESSAGE_RATE_BURST": "100000",
    "SIGNAL_RATE_PER_SECOND": "100000",  # per-socket signal limit (production: 50/s, burst 200)
    "SIGNAL_RATE_BURST": "100000",
    "RATE_LIMIT_MATCH_BURST": "100000",  # per-visitor Start/Next limit
    "RATE_LIMIT_MATCH_PER_MINUTE": "1000000",
    "PRESENCE_REDIS_KEY": "whimsy:bench:presence",  # not the online count of anything else on this Redis
}

FIGURES: list[dict] = []


def emit(bench: str, figure: str, value, **labels) -> dict:
    """Print one figure as a JSON line and keep it for RESULTS.md."""
    record = {"bench": bench, **labels, "figure": figure, "value": value}
    FIGURES.append(record)
    print(json.dumps(record), flush=True)
    return record


def note(text: str) -> None:
    """Human-readable progress goes to stderr, so stdout stays JSON lines only."""
    print(f"[bench] {text}", file=sys.stderr, flush=True)


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 2)


def ratio(ours: float | None, baseline: float | None) -> float | None:
    if not ours or not baseline:
        return None
    return round(ours / baseline, 3)


# --- environment -------------------------------------------------------------------


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def redis_url() -> str:
    return os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL


def server_env(**extra: str) -> dict:
    """The environment of a server process (and of the in-process matchmaking clients)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DEBUG="1",
        DATABASE_URL=database_url(),
        REDIS_URL=redis_url(),
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.update(BENCH_SETTINGS)
    env.update(extra)
    return env


def apply_server_env(**extra: str) -> None:
    os.environ.update({k: v for k, v in server_env(**extra).items() if k != "PYTHONPATH"})


def ensure_database() -> None:
    """Create the benchmark database if missing and migrate it (so `make bench` works on a fresh machine)."""
    import psycopg

    url = urlsplit(database_url())
    name = url.path.lstrip("/")
    if "bench" not in name:
        raise SystemExit(
            f"refusing to benchmark against database {name!r}: the benchmarks empty the chat tables, "
            "so the database name must contain 'bench' (e.g. whimsy_bench)."
        )
    admin_url = urlunsplit(url._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            note(f"created database {name}")
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=server_env(), check=True
    )


def empty_chat_tables() -> None:
    import psycopg

    url = urlunsplit(urlsplit(database_url())._replace(scheme="postgresql"))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE chat_messages, chat_room_interests, chat_participants, chat_rooms CASCADE")


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- servers -----------------------------------------------------------------------


class Server:
    """A server process on a free loopback port, stopped by its PID."""

    def __init__(self, argv_for_port, *, env: dict, name: str, timeout: float = 30):
        self.name = name
        self.port = free_port()
        # A file, not a pipe: nobody reads a pipe while the server runs, and a full one
        # would block a server that logs. Its tail is shown when the server
        # fails or logged an error.
        self.log = tempfile.NamedTemporaryFile(prefix="whimsy-bench-", suffix=".log", delete=False)
        self.process = subprocess.Popen(
            argv_for_port(self.port),
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.log,
            preexec_fn=raise_fd_limit,
            start_new_session=True,
        )
        self._wait_listening(timeout)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start-up:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} did not listen on port {self.port} within {timeout} s")

    def log_tail(self, chars: int = 3000) -> str:
        with open(self.log.name, errors="replace") as log:
            return log.read()[-chars:]

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.log.close()
        errors = self.log_tail()
        if "Traceback" in errors or "ERROR" in errors:
            note(f"{self.name} wrote to stderr (full log: {self.log.name}):\n{errors}")
        else:
            os.unlink(self.log.name)


def daphne(asgi_app: str, **env: str) -> Server:
    return Server(
        lambda port: [DAPHNE, "-b", "127.0.0.1", "-p", str(port), "--websocket_connect_timeout", "60", asgi_app],
        env=server_env(**env),
        name=f"daphne {asgi_app}",
    )


@contextmanager
def running(server_factory):
    server = server_factory()
    try:
        yield server
    finally:
        server.stop()


# --- the record ---------------------------------------------------------------------


def commit() -> str:
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {model}, {mem_gib:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def append_results(args: list[str]) -> None:
    """Append this run's figures to bench/RESULTS.md as one dated section."""
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"\n## {stamp} — commit {commit()}",
        "",
        f"- machine: {machine()}",
        f"- command: `python -m bench {' '.join(args)}`".rstrip(),
        f"- settings changed for the run: {', '.join(f'{k}={v}' for k, v in BENCH_SETTINGS.items())}",
        "",
        "| bench | labels | figure | value |",
        "|---|---|---|---|",
    ]
    for record in FIGURES:
        labels = ", ".join(f"{k}={v}" for k, v in record.items() if k not in {"bench", "figure", "value"})
        lines.append(f"| {record['bench']} | {labels} | {record['figure']} | {record['value']} |")
    path = ROOT / "bench" / "RESULTS.md"
    if not path.exists():
        path.write_text(
            "# Benchmark results\n\nAppended by `make bench` (see README, Benchmarks). Ratios compare us with a"
            " baseline measured in the same run on the same machine.\n"
        )
    with path.open("a") as results:
        results.write("\n".join(lines) + "\n")
