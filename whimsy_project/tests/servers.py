"""Real server processes for the tests that need them (daphne, `whimsy_project.serve`),
serving the test database: their environment, starting daphne, waiting until a server serves."""

import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

START_TIMEOUT = 30


def database_url() -> str:
    """The URL of the database pytest-django made, for a server in another process."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**changes: str | None) -> dict:
    """This process's environment in debug mode, with `changes`; a change to None removes the variable."""
    env = {**os.environ, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "whimsy_project.settings", **changes}
    return {key: value for key, value in env.items() if value is not None}


def server_env(**changes: str | None) -> dict:
    """The environment of a server on the test database and this process's Redis (if any)."""
    defaults = {
        "DATABASE_URL": database_url(),
        "DB_POOL_MIN_SIZE": "0",
        "REDIS_URL": settings.REDIS_URL or None,
        # A metrics directory belongs to one group of servers: a test that wants one gives its own.
        "PROMETHEUS_MULTIPROC_DIR": None,
    }
    return process_env(**{**defaults, **changes})


def free_port() -> int:
    """A loopback port free now, for a server that binds its own socket (another process may take it first)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def daphne(env: dict, log_path: Path, *args: str):
    """daphne on a loopback socket we bound (no port race); yields its base URL."""
    with daphne_process(env, log_path, *args) as (url, _):
        yield url


@contextmanager
def daphne_process(env: dict, log_path: Path, *args: str):
    """daphne as above; yields (base URL, the process), for tests that signal or kill it."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    listener.set_inheritable(True)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), *args, "whimsy_project.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[listener.fileno()],
        )
    listener.close()  # daphne holds its own copy
    try:
        wait_until_serving(url, process, log_path)
        yield url, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def wait_until_serving(url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Until `url` answers /healthz with 200; fails with the end of the log if the process exits or time runs out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"daphne exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"daphne did not serve {url} within {START_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")


class Browser:
    """A visitor over real HTTP: opens the site for its cookies, then calls the JSON API."""

    def __init__(self, url: str):
        self.url = url
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.opener.open(url + "/", timeout=10).read()

    def cookie(self, name: str) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == name)

    def post(self, path: str, body: bytes = b"{}") -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": self.cookie("csrftoken")},
        )
        return _open(self.opener, request)


def get(url: str, headers: dict | None = None) -> tuple[int, bytes]:
    return _open(urllib.request.build_opener(), urllib.request.Request(url, headers=headers or {}))


def _open(opener, request) -> tuple[int, bytes]:
    try:
        with opener.open(request, timeout=15) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
