"""`manage.py check --deploy` is clean under production settings as README describes them
(DEBUG off, a real SECRET_KEY, the host, TLS at the proxy): HSTS, secure cookies, HTTPS redirect."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def deploy_check(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    production = {
        "DJANGO_SETTINGS_MODULE": "whimsy_project.settings",
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "whimsy.example",
        "CSRF_TRUSTED_ORIGINS": "https://whimsy.example",
        "BEHIND_TLS_PROXY": "1",
        "DATABASE_URL": "postgres://whimsy@db.internal:5432/whimsy",
        "REDIS_URL": "redis://redis.internal:6379/0",
    }
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **production, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_under_production_settings():
    result = deploy_check()

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_catches_a_production_setting_turned_off():
    result = deploy_check(HSTS_SECONDS="0", SECURE_COOKIES="0")

    assert result.returncode != 0
    for warning in ("security.W004", "security.W012", "security.W016"):
        assert warning in result.stderr, result.stderr
