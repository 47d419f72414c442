"""The WebSocket vocabulary of the room and presence sockets (docs/protocol.md).

Frame types, limits, close and error codes, and the parsing of client frames. Parsing
never touches the database: a relayed frame costs one json.loads and a few checks.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from chat.models import ChatMessage
from whimsy_project.errors import InvalidInput

MAX_MESSAGE_CHARS = 2000
MAX_CLIENT_ID_CHARS = 64
MAX_SIGNAL_PAYLOAD_CHARS = 64 * 1024
# A frame is text; 96 KiB leaves room for a maximal signal payload plus its envelope,
# and for a 2,000-character message whose characters are all \u escapes.
MAX_FRAME_CHARS = 96 * 1024
SIGNAL_KINDS = frozenset({"video-offer", "video-answer", "ice-candidate", "video-stop"})
# A socket that keeps sending after this many rate-limit refusals in a row is closed.
MAX_REFUSALS_IN_A_ROW = 5

# Close codes (4000-4999 are the application's own).
CLOSE_FORBIDDEN = 4003  # no session, not a participant of this room, or banned
CLOSE_NO_SUCH_ROOM = 4004  # the room does not exist or has ended
CLOSE_RATE_LIMITED = 4008
CLOSE_FRAME_TOO_LARGE = 4009
CLOSE_NORMAL = 1000  # the chat ended by this visitor's own leave (or their other tab's)


class FrameError(Exception):
    """A client frame the server refuses; the socket stays open unless close_code is set."""

    def __init__(self, code: str, detail: str, *, close_code: int | None = None):
        self.code = code
        self.detail = detail
        self.close_code = close_code
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class MessageFrame:
    text: str
    client_id: str | None


@dataclass(frozen=True, slots=True)
class TypingFrame:
    is_typing: bool


@dataclass(frozen=True, slots=True)
class SignalFrame:
    kind: str
    # The payload re-serialised once, ready to be spliced into the relayed frame.
    payload_json: str


@dataclass(frozen=True, slots=True)
class LeaveFrame:
    pass


ClientFrame = MessageFrame | TypingFrame | SignalFrame | LeaveFrame
_LEAVE = LeaveFrame()


def parse_client_frame(text: str | None) -> ClientFrame:
    if text is None:
        raise FrameError("invalid_json", "Frames must be JSON text, not binary.")
    if len(text) > MAX_FRAME_CHARS:
        raise FrameError(
            "frame_too_large",
            f"A frame may be at most {MAX_FRAME_CHARS} characters, got {len(text)}.",
            close_code=CLOSE_FRAME_TOO_LARGE,
        )
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "The frame is not valid JSON.") from None
    if not isinstance(frame, dict):
        raise FrameError("invalid_frame", "A frame must be a JSON object with a \"type\".")
    kind = frame.get("type")
    if kind == "signal":
        return _signal(frame)
    if kind == "typing":
        is_typing = frame.get("is_typing")
        if not isinstance(is_typing, bool):
            raise FrameError("invalid_frame", "typing: is_typing must be true or false.")
        return TypingFrame(is_typing)
    if kind == "message":
        return _message(frame)
    if kind == "leave":
        return _LEAVE
    if not isinstance(kind, str):
        raise FrameError("invalid_frame", "A frame must be a JSON object with a string \"type\".")
    raise FrameError("unknown_type", f"Unknown frame type {kind[:40]!r}: use message, typing, signal or leave.")


def _message(frame: dict) -> MessageFrame:
    text = frame.get("text")
    client_id = frame.get("client_id")
    if not isinstance(text, str):
        raise FrameError("invalid_frame", "message: text must be a string.")
    try:
        return MessageFrame(clean_message_text(text), clean_client_id(client_id))
    except InvalidInput as exc:
        raise FrameError(exc.code, exc.detail) from None


def _signal(frame: dict) -> SignalFrame:
    kind = frame.get("kind")
    payload = frame.get("payload", {})
    if kind not in SIGNAL_KINDS:
        raise FrameError("invalid_frame", f"signal: kind must be one of {', '.join(sorted(SIGNAL_KINDS))}.")
    if not isinstance(payload, dict):
        raise FrameError("invalid_frame", "signal: payload must be a JSON object.")
    try:
        # ASCII output, so characters are bytes; no NaN, which browsers' JSON.parse rejects.
        payload_json = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    except (ValueError, RecursionError):
        raise FrameError("invalid", "signal: the payload must be plain JSON (no NaN or Infinity).") from None
    if len(payload_json) > MAX_SIGNAL_PAYLOAD_CHARS:
        raise FrameError("invalid", f"signal: the payload may be at most {MAX_SIGNAL_PAYLOAD_CHARS} bytes of JSON.")
    return SignalFrame(kind, payload_json)


# --- rules shared with the HTTP API ----------------------------------------------------


def clean_message_text(text: str) -> str:
    """The text as it will be stored: surrounding whitespace trimmed, never empty, never too long."""
    text = text.strip()
    if not text:
        raise InvalidInput("text: a message cannot be empty.")
    if len(text) > MAX_MESSAGE_CHARS:
        raise InvalidInput(f"text: a message may be at most {MAX_MESSAGE_CHARS} characters, got {len(text)}.")
    return text


def clean_client_id(client_id) -> str | None:
    if client_id is None:
        return None
    if not isinstance(client_id, str) or not client_id or len(client_id) > MAX_CLIENT_ID_CHARS:
        raise InvalidInput(f"client_id: must be a non-empty string of at most {MAX_CLIENT_ID_CHARS} characters.")
    return client_id


# --- server frames ---------------------------------------------------------------------


def iso_timestamp(moment: datetime) -> str:
    """The same ISO 8601 form DRF gives datetimes: UTC written as Z."""
    value = moment.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


def message_payload(message: ChatMessage) -> dict:
    """A stored message as both the HTTP API and the new_message frame show it."""
    return {
        "id": str(message.id),
        "room_id": str(message.room_id),
        "sender_id": str(message.sender_id) if message.sender_id else None,
        "message": message.message,
        "timestamp": iso_timestamp(message.timestamp),
        "is_system": message.is_system,
        "client_id": message.client_id,
    }


def frame(type_: str, **fields) -> str:
    return json.dumps({"type": type_, **fields}, separators=(",", ":"))


def error_frame(code: str, detail: str, **extra) -> str:
    return frame("error", code=code, detail=detail, **extra)


def signal_frame(kind: str, payload_json: str) -> str:
    # kind is one of SIGNAL_KINDS and payload_json came from json.dumps: splicing is safe
    # and spares the relay a second serialisation of up to 64 KiB.
    return f'{{"type":"signal","kind":"{kind}","payload":{payload_json}}}'


TYPING_TRUE = frame("typing", is_typing=True)
TYPING_FALSE = frame("typing", is_typing=False)
PARTNER_LEFT = frame("partner_left")
PARTNER_CONNECTED = frame("partner_connected")
