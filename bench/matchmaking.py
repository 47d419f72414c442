"""Matchmaking throughput: N threads calling matchmaking.services, beside pgbench doing the core SQL.

Each client thread is one person who presses Start, and, once paired, Next, for the
whole run, through the real service functions (the code path of POST /api/chat/start
and /next, without HTTP). A waiting person is woken the moment someone joins their room,
as the partner_joined event wakes a browser; after 0.5 s without one it runs the settle
step, as the waiting socket's timer does. Pairs are counted by whoever joined.

The baseline is pgbench with a script doing the equivalent SQL on the same tables and
indexes (lock the oldest waiting room FOR UPDATE SKIP LOCKED, join it, or insert one),
with the same number of clients, in the same run.
"""

import argparse
import re
import subprocess
import tempfile
import threading
import time
import uuid
from urllib.parse import urlsplit

from bench import harness
from bench.harness import emit, ms, note, percentile, ratio

PGBENCH_SCRIPT = """\
BEGIN;
INSERT INTO visitors (id, first_seen, last_seen, ip_hash, display_name, avatar)
  VALUES (gen_random_uuid(), now(), now(), '', '', '')
  RETURNING id AS uid \\gset
SELECT count(*) AS found, coalesce(max(id::text), '') AS room FROM (
  SELECT id FROM chat_rooms WHERE status = 'waiting' AND mode = 'text'
  ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) claimed \\gset
\\if :found
  INSERT INTO chat_participants (id, room_id, user_id, joined_at) VALUES (gen_random_uuid(), :room, :uid, now());
  UPDATE chat_rooms SET status = 'active' WHERE id = :room;
\\else
  INSERT INTO chat_rooms (id, created_at, status, mode, common_interests)
    VALUES (gen_random_uuid(), now(), 'waiting', 'text', '[]') RETURNING id AS newroom \\gset
  INSERT INTO chat_participants (id, room_id, user_id, joined_at) VALUES (gen_random_uuid(), :newroom, :uid, now());
\\endif
END;
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench matchmaking")
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args(argv)
    run(clients=args.clients, seconds=args.seconds)


def run(*, clients: list[int], seconds: float) -> None:
    _setup_django(max_clients=max(clients))
    for count in clients:
        harness.empty_chat_tables()
        ours = _ours(clients=count, seconds=seconds)
        harness.empty_chat_tables()
        _close_pool()  # pgbench's clients need the connection slots our pool would keep
        theirs = _pgbench(clients=count, seconds=seconds)
        labels = {"clients": count}
        emit("matchmaking", "pairs_per_s", ours["pairs_per_s"], server="whimsy", **labels)
        emit("matchmaking", "start_p50_ms", ours["p50_ms"], server="whimsy", **labels)
        emit("matchmaking", "start_p99_ms", ours["p99_ms"], server="whimsy", **labels)
        emit("matchmaking", "calls", ours["calls"], server="whimsy", **labels)
        emit("matchmaking", "errors", ours["errors"], server="whimsy", **labels)
        emit("matchmaking", "violations", ours["violations"], server="whimsy", **labels)
        emit("matchmaking", "pairs_per_s", theirs["pairs_per_s"], server="pgbench", **labels)
        emit("matchmaking", "latency_avg_ms", theirs["latency_avg_ms"], server="pgbench", **labels)
        emit("matchmaking", "violations", theirs["violations"], server="pgbench", **labels)
        emit(
            "matchmaking", "pairs_ratio_vs_pgbench", ratio(ours["pairs_per_s"], theirs["pairs_per_s"]),
            target=">= 0.25 at 16 clients", **labels,
        )
    harness.empty_chat_tables()


def _setup_django(*, max_clients: int) -> None:
    # Every thread holds a pooled connection for the length of a call, the monitor one more.
    harness.apply_server_env(DB_POOL_MAX_SIZE=str(max_clients + 4), DB_POOL_MIN_SIZE="2")
    import django

    django.setup()


def _close_pool() -> None:
    from django.db import connections

    for connection in connections.all():
        connection.close()
        if getattr(connection, "pool", None) is not None:
            connection.close_pool()


def _violations() -> dict[str, int]:
    from matchmaking.tests.test_concurrency import violations

    return violations()


def _ours(*, clients: int, seconds: float) -> dict:
    from django.db import connections

    from matchmaking.services import find_available_room, next_room, settle_waiting_user

    woken: dict = {}  # room id -> Event set by whoever joins that room
    woken_lock = threading.Lock()
    latencies: list[float] = []
    counts = {"pairs": 0, "errors": 0}
    worst = {}
    deadline = time.monotonic() + seconds
    barrier = threading.Barrier(clients + 1)

    def event_for(room_id):
        with woken_lock:
            return woken.setdefault(room_id, threading.Event())

    def timed(call):
        started = time.monotonic()
        result = call()
        latencies.append(time.monotonic() - started)
        return result

    def person():
        user_id = uuid.uuid4()
        barrier.wait()
        try:
            match = timed(lambda: find_available_room(user_id=user_id))
            while time.monotonic() < deadline:
                if match.partner_id is None:
                    if event_for(match.room_id).wait(0.5):
                        with woken_lock:
                            woken.pop(match.room_id, None)
                        room_id = match.room_id
                        match = timed(lambda: next_room(user_id=user_id, room_id=room_id))
                    else:
                        moved = settle_waiting_user(user_id=user_id)
                        if moved is not None:
                            match = moved  # moved into another waiting room: a pair, counted below
                    continue
                # This call joined a waiting room: a pair. Wake the partner, then press Next.
                with woken_lock:
                    counts["pairs"] += 1
                event_for(match.room_id).set()
                room_id = match.room_id
                match = timed(lambda: next_room(user_id=user_id, room_id=room_id))
        except Exception as exc:  # a failure is a figure, not a crash of the whole run
            with woken_lock:
                counts["errors"] += 1
            note(f"matchmaking client failed: {exc!r}")
        finally:
            connections.close_all()

    stop_monitor = threading.Event()

    def monitor():
        # Invariants are checked while the pool churns, not only once it is still.
        while not stop_monitor.wait(2):
            try:
                for name, count in _violations().items():
                    worst[name] = max(worst.get(name, 0), count)
            except Exception as exc:  # no connection to spare: the final check still runs
                note(f"matchmaking monitor skipped a check: {exc!r}")
            finally:
                connections.close_all()

    threads = [threading.Thread(target=person) for _ in range(clients)]
    for thread in threads:
        thread.start()
    watcher = threading.Thread(target=monitor)
    watcher.start()
    barrier.wait()
    started = time.monotonic()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    stop_monitor.set()
    watcher.join()
    hung = sum(thread.is_alive() for thread in threads)
    final = _violations()
    connections.close_all()
    for name, count in final.items():
        worst[name] = max(worst.get(name, 0), count)
    # Waiting rooms at the end are people still searching: not a violation of "no pair left
    # waiting" unless two of them could be paired, which one settle step would show.
    total_violations = sum(worst.values())
    if total_violations:
        note(f"matchmaking violations: {worst}")
    return {
        "pairs_per_s": round(counts["pairs"] / elapsed, 1),
        "p50_ms": ms(percentile(latencies, 0.5)),
        "p99_ms": ms(percentile(latencies, 0.99)),
        "calls": len(latencies),
        "errors": counts["errors"] + hung,
        "violations": total_violations,
    }


def _pgbench(*, clients: int, seconds: float) -> dict:
    url = urlsplit(harness.database_url())
    with tempfile.NamedTemporaryFile("w", suffix=".sql", prefix="whimsy-match-") as script:
        script.write(PGBENCH_SCRIPT)
        script.flush()
        command = [
            "pgbench", "--no-vacuum", "-M", "prepared", "-n",
            "-c", str(clients), "-j", "2", "-T", str(max(1, round(seconds))),
            "-f", script.name,
            "-h", url.hostname or "127.0.0.1", "-p", str(url.port or 5432),
            "-U", url.username or "postgres", url.path.lstrip("/"),
        ]  # fmt: skip
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
        except FileNotFoundError:
            raise SystemExit("pgbench is missing: install Debian's postgresql-client package") from None
    if result.returncode != 0:
        raise RuntimeError(f"pgbench failed:\n{result.stderr[-2000:]}")
    found = re.search(r"latency average = ([\d.]+) ms", result.stdout)
    elapsed = max(1, round(seconds))
    violations = sum(_violations().values())
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM chat_rooms WHERE status = 'active'")
        pairs = cursor.fetchone()[0]
    _close_pool()
    return {
        "pairs_per_s": round(pairs / elapsed, 1),
        "latency_avg_ms": float(found.group(1)) if found else None,
        "violations": violations,
    }
