"""Start over HTTP: `POST /api/chat/start` under wrk, beside the same server's static-file throughput.

The server is `python -m whimsy_project.serve` with one worker, then with two, on one port.
Visitors are real: each has a signed session cookie made with the server's SECRET_KEY (as
`GET /` would issue it; one is checked against the server first) and the csrftoken cookie
and X-CSRFToken header from a real `GET /`. Every request is the first Start of a visitor
with no open room, so each one either joins a waiting room or opens one (see start.lua), and
the chat tables are emptied before each run, so nothing carries over between runs.

Figures per worker count, each the median of --repeat runs: Start requests/s at --clients
concurrent connections and their p50/p99 latency (wrk), static-file requests/s at the same
concurrency (the baseline: whitenoise on the same process), their ratio, and the p50 of
sequential Starts (one client, one request at a time). Then two workers' Start throughput as
a multiple of one's.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import harness
from bench.harness import emit, ms, note, percentile
from bench.load import visit

LUA = Path(__file__).with_name("start.lua")
STATIC_PATH = "/static/css/whimsy.css"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench start")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--sequential", type=int, default=200, help="sequential Starts per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is reported")
    args = parser.parse_args(argv)
    run(workers=args.workers, clients=args.clients, seconds=args.seconds, sequential=args.sequential,
        repeat=args.repeat)  # fmt: skip


def run(*, workers: list[int], clients: int, seconds: float, sequential: int, repeat: int) -> None:
    harness.apply_server_env()
    import django

    django.setup()
    # Enough visitors that no connection runs out, at a rate far above what one machine serves.
    per_run = max(2000, int(4000 * seconds))
    pool = [_session_cookie() for _ in range(per_run + sequential)]
    concurrent_pool, sequential_pool = pool[:per_run], pool[per_run:]
    starts_per_s = {}
    with tempfile.NamedTemporaryFile("w", prefix="whimsy-start-", suffix=".txt") as sessions:
        sessions.write("\n".join(concurrent_pool) + "\n")
        sessions.flush()
        for count in workers:
            with harness.running(lambda: _serve(count)) as server:
                csrf = visit(server.port).csrf  # a real csrftoken from GET /
                _check_session_accepted(server.port, sequential_pool[0], csrf)
                runs = []
                for number in range(repeat):
                    note(f"start: {count} worker(s), run {number + 1} of {repeat}")
                    static = _wrk(server, path=STATIC_PATH, clients=clients, seconds=seconds)
                    _reset()
                    start = _wrk(server, path="/api/chat/start", clients=clients, seconds=seconds,
                                 sessions=sessions.name, csrf=csrf)  # fmt: skip
                    _reset()
                    sequential_p50 = _sequential_p50(server.port, sequential_pool, csrf)
                    _reset()
                    runs.append({"static": static, "start": start, "sequential_p50": sequential_p50})
            labels = {"workers": count, "clients": clients}
            starts_per_s[count] = _median(r["start"]["per_s"] for r in runs)
            emit("start", "start_per_s", starts_per_s[count], **labels)
            emit("start", "start_p50_ms", _median(r["start"]["p50_ms"] for r in runs), **labels)
            emit("start", "start_p99_ms", _median(r["start"]["p99_ms"] for r in runs), **labels)
            emit("start", "static_per_s", _median(r["static"]["per_s"] for r in runs), **labels)
            emit("start", "start_ratio_vs_static",
                 _median(round(r["start"]["per_s"] / r["static"]["per_s"], 3) for r in runs),
                 target=">= 0.4", **labels)  # fmt: skip
            emit("start", "sequential_start_p50_ms", _median(r["sequential_p50"] for r in runs),
                 target="<= 6", workers=count)  # fmt: skip
            emit("start", "failed", sum(r["start"]["failed"] + r["static"]["failed"] for r in runs), **labels)
            emit("start", "reused_visitors", sum(r["start"]["reused"] for r in runs), **labels)
    if 1 in starts_per_s and 2 in starts_per_s:
        emit("start", "two_workers_vs_one", round(starts_per_s[2] / starts_per_s[1], 2), target=">= 1.6")


def _reset() -> None:
    """Empty the chat tables once the requests wrk left in flight have finished (a TRUNCATE
    beside a Start still running can deadlock with it)."""
    import psycopg

    for attempt in range(5):
        time.sleep(0.5 * (attempt + 1))
        try:
            harness.empty_chat_tables()
            return
        except psycopg.errors.DeadlockDetected:
            note("start: the reset met a request still running; trying again")
    harness.empty_chat_tables()


def _median(values) -> float:
    return round(statistics.median(list(values)), 2)


def _serve(workers: int) -> harness.Server:
    return harness.Server(
        lambda port: [harness.PYTHON, "-m", "whimsy_project.serve", "--workers", str(workers), "--port", str(port),
                      "--stop-timeout", "5"],  # within the harness's 10 s before it kills the supervisor
        env=harness.server_env(),
        name=f"serve --workers {workers}",
    )


def _session_cookie() -> str:
    """The session cookie `GET /` issues (the signed-cookie session holding a new visitor id)."""
    from django.contrib.sessions.backends.signed_cookies import SessionStore

    from chat.identity import SESSION_VISITOR_KEY

    session = SessionStore()
    session[SESSION_VISITOR_KEY] = str(uuid.uuid4())
    session.save()
    return session.session_key


def _post_start(conn: http.client.HTTPConnection, port: int, session: str, csrf: str) -> http.client.HTTPResponse:
    conn.request(
        "POST", "/api/chat/start", body=b"{}",
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf, "Origin": f"http://127.0.0.1:{port}",
                 "Cookie": f"sessionid={session}; csrftoken={csrf}"},
    )  # fmt: skip
    response = conn.getresponse()
    response.read()
    return response


def _check_session_accepted(port: int, session: str, csrf: str) -> None:
    """The server takes the made session as its own: it answers 200 and issues no new one."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        response = _post_start(conn, port, session, csrf)
    finally:
        conn.close()
    issued = [c for c in response.headers.get_all("Set-Cookie") or [] if c.startswith("sessionid=")]
    if response.status != 200 or issued:
        raise RuntimeError(f"the server did not accept a made session (status {response.status}, new: {issued})")
    _reset()


def _sequential_p50(port: int, sessions: list[str], csrf: str) -> float:
    latencies = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        for session in sessions:
            started = time.perf_counter()
            response = _post_start(conn, port, session, csrf)
            latencies.append(time.perf_counter() - started)
            if response.status != 200:
                raise RuntimeError(f"sequential Start answered {response.status}")
    finally:
        conn.close()
    return ms(percentile(latencies, 0.5))


def _wrk(server: harness.Server, *, path: str, clients: int, seconds: float, sessions: str | None = None,
         csrf: str = "") -> dict:  # fmt: skip
    env = dict(os.environ)
    env.pop("WHIMSY_BENCH_SESSIONS", None)
    if sessions is not None:
        env.update(WHIMSY_BENCH_SESSIONS=sessions, WHIMSY_BENCH_THREADS=str(clients), WHIMSY_BENCH_CSRF=csrf,
                   WHIMSY_BENCH_ORIGIN=server.origin)  # fmt: skip
    command = ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{max(1, round(seconds))}s", "--timeout", "30s",
               "-s", str(LUA), server.origin + path]  # fmt: skip
    try:
        result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 120)
    except FileNotFoundError:
        raise SystemExit("wrk is missing: install Debian's wrk package") from None
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed:\n{result.stderr[-2000:]}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    return {
        "per_s": round(summary["requests"] / (summary["duration_us"] / 1e6), 1),
        "p50_ms": round(summary["p50_us"] / 1000, 2),
        "p99_ms": round(summary["p99_us"] / 1000, 2),
        "failed": summary["non_200"] + summary["socket_errors"],
        "reused": summary["reused"],
    }


if __name__ == "__main__":
    main(sys.argv[1:])
