"""Two daphne processes sharing PROMETHEUS_MULTIPROC_DIR report one view: a pairing whose
two Starts land on different processes shows in either process's /metrics."""

import json
import os
import re
import subprocess
import sys

import pytest

from whimsy_project.tests.servers import Browser, daphne, get, server_env

TOKEN = "scrape-token-for-the-test"


def scrape(url: str) -> str:
    status, body = get(url + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 200, body
    return body.decode()


def sample(text: str, series: str) -> float:
    match = re.search(rf"^{re.escape(series)} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


@pytest.mark.django_db(transaction=True)
def test_a_pairing_across_two_processes_shows_in_one_merged_view(tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = server_env(PROMETHEUS_MULTIPROC_DIR=str(metrics_dir), METRICS_TOKEN=TOKEN)
    with daphne(env, tmp_path / "one.log") as one, daphne(env, tmp_path / "two.log") as two:
        waiting, joining = Browser(one), Browser(two)

        status, body = waiting.post("/api/chat/start")
        assert status == 200 and json.loads(body)["status"] == "searching"
        status, body = joining.post("/api/chat/start")
        assert status == 200 and json.loads(body)["status"] == "chatting"

        for view in (scrape(one), scrape(two)):
            assert sample(view, 'whimsy_starts_total{mode="text"}') == 2  # one on each process
            assert sample(view, 'whimsy_pairs_total{mode="text"}') == 1
            assert sample(view, 'whimsy_time_to_match_seconds_count{mode="text"}') == 1
            assert sample(view, 'whimsy_time_to_match_seconds_bucket{le="+Inf",mode="text"}') == 1
            # the HTTP histogram merges too: GET / and one Start on each process
            assert sample(view, 'whimsy_http_request_duration_seconds_count{method="POST",route="/api/chat/start"}') == 2


def run_python(code: str, metrics_dir) -> subprocess.CompletedProcess:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)


def test_the_sockets_of_a_killed_process_stop_counting_at_the_next_scrape(tmp_path):
    """A process that dies without exiting (kill -9) leaves its live gauges behind."""
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    opens = "from whimsy_project import metrics; metrics.OPEN_SOCKETS.labels(kind='room').inc({n}); "
    scrape_once = "print(metrics.exposition(readiness={{}})[0].decode())"

    killed = run_python(opens.format(n=3) + "import os, signal; os.kill(os.getpid(), signal.SIGKILL)", metrics_dir)
    assert killed.returncode == -9
    alive = run_python(opens.format(n=2) + scrape_once.format(), metrics_dir)

    assert alive.returncode == 0, alive.stderr
    assert sample(alive.stdout, 'whimsy_open_sockets{kind="room"}') == 2  # not 5
