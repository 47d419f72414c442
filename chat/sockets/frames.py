"""Client frames: the envelope every socket kind shares, and the vocabulary each kind declares.

Parsing never touches the database: a relayed frame costs one json.loads and a few checks.
"""

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from whimsy_project.errors import FrameTooLarge, InvalidFrame, InvalidJson, UnknownFrameType

# Close codes (4000-4999 are the application's own), the same for every socket kind.
CLOSE_NORMAL = 1000  # the member ended its own membership (leave, or its other tab's)
CLOSE_FORBIDDEN = 4003  # no session, not a member, or banned
CLOSE_NOT_FOUND = 4004  # no such room / session / thread, or it has ended
CLOSE_RATE_LIMITED = 4008
CLOSE_FRAME_TOO_LARGE = 4009
CLOSE_SERVER_RESTARTING = 4012  # reconnect (to any process) and resume; daphne refuses 1012
# After an `error` frame service_unavailable (PostgreSQL or Redis down): reconnect with backoff.
# Not 1011: daphne's server sends only 1000 and 3000-4999.
CLOSE_SERVICE_UNAVAILABLE = 4503

# A frame is text; 96 KiB leaves room for a maximal signal payload plus its envelope,
# and for a 2,000-character message whose characters are all \u escapes.
MAX_FRAME_CHARS = 96 * 1024


@dataclass(frozen=True)
class FrameKind:
    """One client frame type of a socket kind.

    parse: the decoded JSON object -> the value the socket's `on_<type>` handler gets;
    raises a WhimsyError (InvalidFrame, InvalidInput, ...) for a bad frame.
    rate: which of the socket's token buckets the frame spends (see chat.sockets.limits).
    """

    parse: Callable[[dict], Any]
    rate: str


Vocabulary = Mapping[str, FrameKind]


def parse_frame(text: str | None, vocabulary: Vocabulary) -> tuple[str, Any]:
    """(type, parsed value) of a client frame, or the WhimsyError that refuses it."""
    if text is None:
        raise InvalidJson("Frames must be JSON text, not binary.")
    if len(text) > MAX_FRAME_CHARS:
        raise FrameTooLarge(f"A frame may be at most {MAX_FRAME_CHARS} characters, got {len(text)}.")
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidJson() from None
    if not isinstance(decoded, dict):
        raise InvalidFrame()
    kind = decoded.get("type")
    spec = vocabulary.get(kind) if isinstance(kind, str) else None
    if spec is None:
        if not isinstance(kind, str):
            raise InvalidFrame()
        known = ", ".join(vocabulary) or "nothing: it only speaks"
        raise UnknownFrameType(f"Unknown frame type {kind[:40]!r}: this socket takes {known}.")
    return kind, spec.parse(decoded)


def frame(type_: str, **fields) -> str:
    """A server frame, ready to send."""
    return json.dumps({"type": type_, **fields}, separators=(",", ":"))


def error_frame(code: str, detail: str, **extra) -> str:
    return frame("error", code=code, detail=detail, **extra)
