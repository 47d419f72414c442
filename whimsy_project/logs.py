"""Log lines an operator can search: one per HTTP request, one per socket lifetime.

Their fields travel in `extra={"fields": {...}}`: with LOG_FORMAT=json every line is one
JSON object with the fields as keys; otherwise they follow the message as key=value.
Fields never hold message text or an IP address: a visitor appears as visitor_hash(),
which lets an operator follow one visitor's lines without learning who they are.
"""

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from functools import lru_cache
from uuid import UUID

from django.conf import settings

request_logger = logging.getLogger("whimsy.requests")
socket_logger = logging.getLogger("whimsy.sockets")


def visitor_hash(visitor_id: UUID | str | None) -> str:
    """A short keyed hash of the visitor id (the id itself is the secret in their cookie)."""
    if not visitor_id:
        return ""
    return hmac.new(_hash_key(settings.SECRET_KEY), str(visitor_id).encode(), hashlib.sha256).hexdigest()[:16]


@lru_cache(maxsize=2)
def _hash_key(secret_key: str) -> bytes:
    # Derived, so that a log hash can never be confused with the IP hashes kept for bans.
    return hashlib.sha256(b"whimsy.logs.visitor:" + secret_key.encode()).digest()


def log_request(*, method: str, route: str, status: int, duration: float, visitor_id) -> None:
    request_logger.info(
        "request",
        extra={
            "fields": {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(duration * 1000, 1),
                "visitor": visitor_hash(visitor_id),
            }
        },
    )


def log_socket(*, kind: str, route: str, close_code: int | None, duration: float, visitor_id) -> None:
    """One line when a socket closes, for its whole lifetime."""
    socket_logger.info(
        "socket closed",
        extra={
            "fields": {
                "kind": kind,
                "route": route,
                "close_code": close_code,
                "duration_s": round(duration, 3),
                "visitor": visitor_hash(visitor_id),
            }
        },
    )


class TextFormatter(logging.Formatter):
    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **(getattr(record, "fields", None) or {}),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)
