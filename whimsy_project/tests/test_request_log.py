"""One log line per HTTP request and per socket lifetime, with route, status, duration and
an anonymous visitor hash; JSON lines with LOG_FORMAT=json; no message text, no IP."""

import json
import logging

import pytest

from whimsy_project.logs import JsonFormatter, TextFormatter, visitor_hash
from whimsy_project.tests.servers import Browser, daphne, get, server_env


@pytest.mark.django_db
def test_each_request_is_one_line_with_its_route_pattern_status_duration_and_visitor_hash(visitor, caplog):
    alice = visitor()
    caplog.set_level(logging.INFO, logger="whimsy.requests")
    caplog.clear()

    alice.get("/api/chat/rooms/8d5f1a0c-0d0e-4d5e-9f1a-2b3c4d5e6f70/messages", REMOTE_ADDR="198.51.100.23")

    (record,) = [record for record in caplog.records if record.name == "whimsy.requests"]
    assert record.fields == {
        "method": "GET",
        "route": "/api/chat/rooms/<uuid:room_id>/messages",
        "status": 404,
        "duration_ms": record.fields["duration_ms"],
        "visitor": visitor_hash(alice.user_id),
    }
    assert record.fields["duration_ms"] >= 0
    assert len(record.fields["visitor"]) == 16 and alice.user_id not in record.fields["visitor"]
    assert "198.51.100.23" not in caplog.text


def record_with(**fields) -> logging.LogRecord:
    record = logging.LogRecord("whimsy.requests", logging.INFO, __file__, 1, "request", None, None)
    record.fields = fields
    return record


def test_the_text_format_puts_the_fields_after_the_message_and_json_makes_them_keys():
    record = record_with(method="POST", route="/api/chat/start", status=200)

    assert TextFormatter().format(record).endswith("request method=POST route=/api/chat/start status=200")
    line = json.loads(JsonFormatter().format(record))
    assert {k: line[k] for k in ("level", "logger", "message", "method", "route", "status")} == {
        "level": "INFO",
        "logger": "whimsy.requests",
        "message": "request",
        "method": "POST",
        "route": "/api/chat/start",
        "status": 200,
    }
    assert line["time"].endswith("+00:00")


@pytest.mark.django_db(transaction=True)
def test_with_log_format_json_a_served_process_writes_json_lines_without_addresses(tmp_path):
    log = tmp_path / "daphne.log"
    # daphne's own access log writes client addresses: operators turn it off (docs/operations.md).
    with daphne(server_env(LOG_FORMAT="json"), log, "--access-log", "/dev/null") as url:
        browser = Browser(url)
        browser.post("/api/chat/start", b'{"interests": ["a secret interest"]}')
        get(url + "/api/presence")

    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    requests = [line for line in lines if line["logger"] == "whimsy.requests"]
    assert [(line["method"], line["route"], line["status"]) for line in requests] == [
        ("GET", "/", 200),
        ("POST", "/api/chat/start", 200),
        ("GET", "/api/presence", 200),
    ]
    assert len({line["visitor"] for line in requests[:2]}) == 1  # the same visitor, by its hash
    client_lines = [line for line in log.read_text().splitlines() if "Listening on" not in line]
    assert not any("127.0.0.1" in line or "secret" in line for line in client_lines)
