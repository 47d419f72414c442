"""Each benchmark runs at a tiny size and prints valid JSON figures with nothing lost or broken.

Correctness only: the figures' speed is never asserted (bench/RESULTS.md records it).
The benchmarks run in their own database, named after the test run's with "_bench_smoke",
which they create and migrate themselves, as `make bench` does on a fresh machine.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
TINY = {
    "matchmaking": ["--clients", "4", "--seconds", "2"],
    "start": ["--workers", "1", "2", "--clients", "4", "--seconds", "1", "--sequential", "5", "--repeat", "1"],
    "relay": ["--pairs", "5", "--seconds", "1", "--rates", "4", "--warmup-seconds", "0.5"],
    "moodrooms": ["--sessions", "3", "--members", "3", "--seconds", "1"],
    "connections": ["--connections", "20", "--settle-seconds", "0.5"],
    "presence": ["--watchers", "10", "--churn", "5", "--seconds", "2"],
}
# Figures that count failures: each must be 0 in every line that has it.
MUST_BE_ZERO = {"violations", "lost", "unacked", "duplicates", "errors", "failed", "reused_visitors"}


def _bench_env() -> dict:
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/") or "whimsy"
    return {
        **os.environ,
        "DATABASE_URL": urlunsplit(url._replace(path=f"/{name}_bench_smoke")),
        "REDIS_URL": os.environ["REDIS_URL"],
    }


@pytest.mark.parametrize("name", list(TINY))
def test_the_benchmark_prints_json_figures_with_nothing_lost(name):
    if not os.environ.get("REDIS_URL"):
        pytest.skip("the benchmarks need Redis: run with REDIS_URL=redis://...")
    if name == "matchmaking" and shutil.which("pgbench") is None:
        pytest.skip("pgbench is missing (Debian's postgresql-client)")
    if name == "start" and shutil.which("wrk") is None:
        pytest.skip("wrk is missing (Debian's wrk)")

    result = subprocess.run(
        [sys.executable, "-m", "bench", "--no-record", name, *TINY[name]],
        cwd=ROOT, env=_bench_env(), capture_output=True, text=True, timeout=240,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr[-3000:]
    figures = [json.loads(line) for line in result.stdout.splitlines()]
    assert figures, f"no figures printed; stderr:\n{result.stderr[-3000:]}"
    assert all(record["bench"] == name and "figure" in record and "value" in record for record in figures)
    failures = [r for r in figures if r["figure"] in MUST_BE_ZERO and r["value"] != 0]
    assert not failures, failures
    printed = {record["figure"] for record in figures}
    expected = {
        "matchmaking": {"pairs_per_s", "start_p99_ms", "violations", "pairs_ratio_vs_pgbench"},
        "start": {"start_per_s", "static_per_s", "start_ratio_vs_static", "sequential_start_p50_ms",
                  "two_workers_vs_one"},
        "relay": {"delivered_per_s", "latency_p99_ms", "lost", "throughput_ratio"},
        "moodrooms": {"delivered_per_s", "latency_p99_ms", "lost", "throughput_ratio"},
        "connections": {"connected", "connect_p99_ms", "server_kb_per_connection"},
        "presence": {"frames_per_s_per_client", "server_cpu_percent"},
    }[name]
    assert expected <= printed, expected - printed
    assert all(r["value"] is not None for r in figures if r["figure"] in expected - {"throughput_ratio"})
