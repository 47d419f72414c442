"""Bad configuration fails at start-up with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG"}}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; settings.DATABASES"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "whimsy_project.settings", "DEBUG": "1", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"DATABASE_URL": "mysql://root@localhost/whimsy"}, "DATABASE_URL must be a postgres:// or sqlite:// URL"),
        ({"DATABASE_URL": "postgres://localhost:99999/whimsy"}, "DATABASE_URL could not be parsed"),
        ({"DATABASE_URL": "postgres://localhost:5432"}, "DATABASE_URL must name a database"),
        ({"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL must be a redis://"),
        ({"REDIS_URL": "redis://127.0.0.1:notaport/0"}, "REDIS_URL has an invalid port"),
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"DEBUG": "0"}, "SECRET_KEY must be set when DEBUG is off"),
        ({"INTEREST_FALLBACK_SECONDS": "soon"}, "INTEREST_FALLBACK_SECONDS must be a whole number"),
        ({"CSRF_TRUSTED_ORIGINS": "example.com"}, "CSRF_TRUSTED_ORIGINS entries need a scheme"),
        ({"AUTO_BAN_REPORTERS": "three"}, "AUTO_BAN_REPORTERS must be a whole number"),
        ({"AUTO_BAN_WINDOW_HOURS": "0"}, "AUTO_BAN_WINDOW_HOURS must be at least 1"),
        ({"RATE_LIMIT_MATCH_BURST": "0"}, "RATE_LIMIT_MATCH_BURST must be at least 1"),
        ({"RATE_LIMIT_REPORT_PER_HOUR": "-5"}, "RATE_LIMIT_REPORT_PER_HOUR must be at least 1"),
        ({"MESSAGE_RATE_BURST": "0"}, "MESSAGE_RATE_BURST"),
        ({"ICE_SERVERS": "stun:x"}, "ICE_SERVERS"),
        ({"ICE_SERVERS": '{"urls": "stun:x"}'}, "ICE_SERVERS"),
        ({"ICE_SERVERS": '[{"url": "stun:x"}]'}, "ICE_SERVERS"),
        ({"TURN_URLS": "stun:x"}, "TURN_URLS"),
        ({"TURN_URLS": "turn:x"}, "TURN_SECRET"),
        ({"TURN_URLS": "turn:x", "TURN_SECRET": "s", "TURN_TTL": "5"}, "TURN_TTL"),
        ({"ICE_TRANSPORT_POLICY": "sometimes"}, "ICE_TRANSPORT_POLICY"),
        ({"ICE_TRANSPORT_POLICY": "relay"}, "TURN server"),
        ({"METRICS_ALLOWED_IPS": "10.0.0.0/8,prometheus"}, "METRICS_ALLOWED_IPS entries must be IP addresses"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN must be at least 16 characters"),
        ({"PROMETHEUS_MULTIPROC_DIR": "/nonexistent/metrics"}, "PROMETHEUS_MULTIPROC_DIR must be a writable directory"),
        ({"LOG_FORMAT": "yaml"}, "LOG_FORMAT must be one of json, text"),
        ({"READINESS_TIMEOUT_SECONDS": "0"}, "READINESS_TIMEOUT_SECONDS must be at least 1"),
        ({"SOCKET_DB_THREADS": "0"}, "SOCKET_DB_THREADS must be at least 1"),
        (
            {"DATABASE_URL": "postgres://localhost:5432/whimsy", "DB_POOL_MAX_SIZE": "6", "SOCKET_DB_THREADS": "5"},
            "SOCKET_DB_THREADS must be at most 4",
        ),
        ({"HSTS_SECONDS": "a year"}, "HSTS_SECONDS must be a whole number"),
        ({"SSL_REDIRECT": "sometimes"}, "SSL_REDIRECT must be a boolean"),
    ],
)
def test_a_bad_value_fails_with_a_clear_message(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_good_values_load():
    result = load_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/whimsy", REDIS_URL="redis://127.0.0.1:6379/0"
    )
    assert result.returncode == 0, result.stderr


def test_the_embedded_default_is_sqlite_with_immediate_transactions(settings):
    if os.environ.get("DATABASE_URL"):
        pytest.skip("the suite runs on DATABASE_URL, not the embedded default")
    options = settings.DATABASES["default"]["OPTIONS"]
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert options["transaction_mode"] == "IMMEDIATE"
