"""schemathesis fuzzes every operation of /api/schema/ on a live daphne, with a session and
its CSRF token, all checks on: the server answers as the document says, errors included,
and the document states the limits the server enforces."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from whimsy_project.tests.servers import Browser, daphne, server_env

HERE = Path(__file__).resolve().parent
# Enough to reach every check on each operation while the whole run stays near 30 s.
MAX_EXAMPLES = "25"


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_failure_in_any_operation(tmp_path):
    with daphne(server_env(), tmp_path / "daphne.log") as url:
        browser = Browser(url)
        env = {
            **os.environ,
            "WHIMSY_SESSION_COOKIE": browser.cookie("sessionid"),
            "WHIMSY_CSRF_TOKEN": browser.cookie("csrftoken"),
            "SCHEMATHESIS_HOOKS": "whimsy_project.tests.schemathesis_hooks",
            "PYTHONPATH": str(HERE.parents[1]),
        }
        seed = ["--seed", os.environ["SCHEMATHESIS_SEED"]] if os.environ.get("SCHEMATHESIS_SEED") else []
        result = subprocess.run(
            [
                str(Path(sys.executable).with_name("st")),
                "--config-file", str(HERE / "schemathesis.toml"),
                "run", f"{url}/api/schema/",
                "--checks", "all",
                "--header", f"X-CSRFToken: {browser.cookie('csrftoken')}",
                "--header", f"Origin: {url}",
                "--max-examples", MAX_EXAMPLES,
                "--workers", "2",
                "--generation-database", "none",
                "--request-timeout", "10",
                "--no-color",
                *seed,
            ],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout and "failure" not in result.stdout.split("SUMMARY")[-1], report
