"""`python -m whimsy_project.serve --workers N`: N daphne processes sharing one listening socket.

The supervisor binds the socket once and starts each worker as `daphne -e fd:fileno=...`
on an inherited copy of it (the process-manager set-up of Channels' deployment docs), so
the kernel hands each new connection to whichever worker accepts first: a busy worker
simply takes fewer. It forwards SIGTERM and SIGINT to the workers (each closes its sockets
with 4012 and exits; see DESIGN section 11) and waits for them, and it starts a worker
again when one dies, after a pause that grows while workers keep dying at start-up.

Several workers share nothing in memory, so they need Redis (REDIS_URL) for the channel
layer, the online count and the rate limits: without it the supervisor refuses N > 1.
"""

import argparse
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from whimsy_project.env import env_redis_url

ROOT = Path(__file__).resolve().parent.parent
ASGI_APPLICATION = "whimsy_project.asgi:application"
QUICK_DEATH = 10  # a worker that dies sooner than this after its start makes the next start wait longer
MAX_RESTART_DELAY = 30


def log(text: str) -> None:
    print(f"[serve {os.getpid()}] {text}", file=sys.stderr, flush=True)


def listening_socket(host: str, port: int, *, backlog: int) -> socket.socket:
    # IPv4 only: daphne adopts an inherited socket as AF_INET (Twisted's fd endpoint takes no
    # other family from the command line). Bind 0.0.0.0 to serve every interface.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


def _stop_when_parent_dies() -> None:
    """In the worker, before daphne starts: SIGTERM when the supervisor dies, even by SIGKILL,
    so that no worker is left serving the socket on its own (Linux's PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def worker_command(sock: socket.socket, extra: list[str]) -> list[str]:
    # daphne's own access log writes client addresses to stdout; our request log has none.
    # Before `extra`, so that an operator's --access-log still wins.
    return [
        sys.executable, "-m", "daphne", "--fd", str(sock.fileno()), "--access-log", os.devnull, *extra, ASGI_APPLICATION
    ]  # fmt: skip


class Supervisor:
    def __init__(self, *, sock: socket.socket, workers: int, stop_timeout: float, daphne_args: list[str]):
        self.sock = sock
        self.stop_timeout = stop_timeout
        self.count = workers
        self.command = worker_command(sock, daphne_args)
        self.workers: dict[int, tuple[subprocess.Popen, float]] = {}  # slot -> (process, started at)
        self.restart_delay = 1.0
        self.stopping = False

    def start_worker(self, slot: int) -> None:
        process = subprocess.Popen(
            self.command, cwd=ROOT, pass_fds=(self.sock.fileno(),), preexec_fn=_stop_when_parent_dies
        )
        self.workers[slot] = (process, time.monotonic())
        log(f"worker {slot} started (pid {process.pid})")

    def stop(self, signum, _frame) -> None:
        self.stopping = True
        for process, _ in self.workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        log(f"{signal.Signals(signum).name}: stopping {len(self.workers)} workers")

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        for slot in range(self.count):
            self.start_worker(slot)
        while not self.stopping:
            time.sleep(0.2)
            for slot, (process, started) in list(self.workers.items()):
                if self.stopping or process.poll() is None:
                    continue
                lived = time.monotonic() - started
                log(f"worker {slot} (pid {process.pid}) exited with {process.returncode} after {lived:.1f} s")
                if lived < QUICK_DEATH:
                    log(f"restarting it in {self.restart_delay:.0f} s")
                    self._sleep_unless_stopping(self.restart_delay)
                    self.restart_delay = min(MAX_RESTART_DELAY, self.restart_delay * 2)
                else:
                    self.restart_delay = 1.0
                if not self.stopping:
                    self.start_worker(slot)
        return self._wait_for_workers()

    def _sleep_unless_stopping(self, seconds: float) -> None:
        until = time.monotonic() + seconds
        while not self.stopping and time.monotonic() < until:
            time.sleep(0.1)

    def _wait_for_workers(self) -> int:
        deadline = time.monotonic() + self.stop_timeout
        for slot, (process, _) in self.workers.items():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"worker {slot} (pid {process.pid}) did not stop within {self.stop_timeout:g} s: killing it")
                process.kill()
                process.wait()
        log("all workers stopped")
        return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m whimsy_project.serve",
        description="Run N daphne workers on one shared listening socket (REDIS_URL needed for N > 1).",
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="number of daphne processes")
    parser.add_argument("--host", default="127.0.0.1", help="an IPv4 address; 0.0.0.0 for every interface")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--stop-timeout", type=float, default=30, help="seconds workers get to stop after SIGTERM before they are killed"
    )
    parser.add_argument("--backlog", type=int, default=2048, help="listen queue shared by the workers")
    args, daphne_args = parser.parse_known_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    try:
        redis_url = env_redis_url("REDIS_URL")
    except ImproperlyConfigured as exc:
        parser.exit(2, f"{parser.prog}: {exc}\n")
    if args.workers > 1 and not redis_url:
        parser.exit(
            2,
            f"{parser.prog}: --workers {args.workers} needs REDIS_URL (e.g. redis://127.0.0.1:6379/0): "
            "processes share sockets' groups, the online count and rate limits only through Redis; "
            "the in-memory channel layer serves one process.\n",
        )
    try:
        sock = listening_socket(args.host, args.port, backlog=args.backlog)
    except OSError as exc:
        parser.exit(2, f"{parser.prog}: cannot listen on {args.host}:{args.port}: {exc}\n")
    log(f"listening on {args.host}:{sock.getsockname()[1]} with {args.workers} workers")
    return Supervisor(sock=sock, workers=args.workers, stop_timeout=args.stop_timeout, daphne_args=daphne_args).run()


if __name__ == "__main__":
    sys.exit(main())
