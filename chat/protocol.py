"""The WebSocket vocabulary of the 1:1 room socket (docs/protocol.md).

Frame types, limits and the parsing of client frames; the envelope, close codes and
rate classes every socket kind shares are in chat.sockets.
"""

import json
from dataclasses import dataclass
from datetime import datetime

from chat.models import ChatMessage
from chat.sockets import CONTROL, MESSAGE, SIGNAL, TYPING, FrameKind, frame
from whimsy_project.errors import InvalidFrame, InvalidInput

MAX_MESSAGE_CHARS = 2000
MAX_CLIENT_ID_CHARS = 64
MAX_SIGNAL_PAYLOAD_CHARS = 64 * 1024
SIGNAL_KINDS = frozenset({"video-offer", "video-answer", "ice-candidate", "video-stop"})


@dataclass(frozen=True, slots=True)
class MessageFrame:
    text: str
    client_id: str | None

    def error_context(self) -> dict:
        return {"client_id": self.client_id}


@dataclass(frozen=True, slots=True)
class SignalFrame:
    kind: str
    # The payload re-serialised once, ready to be spliced into the relayed frame.
    payload_json: str

    def error_context(self) -> dict:
        return {"kind": self.kind}


def parse_message(decoded: dict) -> MessageFrame:
    text = decoded.get("text")
    if not isinstance(text, str):
        raise InvalidFrame("message: text must be a string.")
    return MessageFrame(clean_message_text(text), clean_client_id(decoded.get("client_id")))


def parse_typing(decoded: dict) -> bool:
    is_typing = decoded.get("is_typing")
    if not isinstance(is_typing, bool):
        raise InvalidFrame("typing: is_typing must be true or false.")
    return is_typing


def parse_signal(decoded: dict) -> SignalFrame:
    kind = decoded.get("kind")
    payload = decoded.get("payload", {})
    if kind not in SIGNAL_KINDS:
        raise InvalidFrame(f"signal: kind must be one of {', '.join(sorted(SIGNAL_KINDS))}.")
    return SignalFrame(kind, signal_payload_json(payload))


def signal_payload_json(payload) -> str:
    """A WebRTC signal's payload (1:1 or voice) as the compact JSON that is relayed."""
    if not isinstance(payload, dict):
        raise InvalidFrame("signal: payload must be a JSON object.")
    try:
        # ASCII output, so characters are bytes; no NaN, which browsers' JSON.parse rejects.
        payload_json = json.dumps(payload, separators=(",", ":"), allow_nan=False)
    except (ValueError, RecursionError):
        raise InvalidInput("signal: the payload must be plain JSON (no NaN or Infinity).") from None
    if len(payload_json) > MAX_SIGNAL_PAYLOAD_CHARS:
        raise InvalidInput(f"signal: the payload may be at most {MAX_SIGNAL_PAYLOAD_CHARS} bytes of JSON.")
    return payload_json


def parse_leave(decoded: dict) -> None:
    return None


ROOM_VOCABULARY = {
    "message": FrameKind(parse_message, rate=MESSAGE),
    "typing": FrameKind(parse_typing, rate=TYPING),
    "signal": FrameKind(parse_signal, rate=SIGNAL),
    "leave": FrameKind(parse_leave, rate=CONTROL),
}


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


def message_event(message: ChatMessage) -> dict:
    """The channel-layer event announcing a stored message (HTTP and socket alike)."""
    return {"type": "chat.message", "message": message_payload(message)}


def signal_frame(kind: str, payload_json: str) -> str:
    # kind is one of SIGNAL_KINDS and payload_json came from json.dumps: splicing is safe
    # and spares the relay a second serialisation of up to 64 KiB.
    return f'{{"type":"signal","kind":"{kind}","payload":{payload_json}}}'


TYPING_TRUE = frame("typing", is_typing=True)
TYPING_FALSE = frame("typing", is_typing=False)
PARTNER_CONNECTED = frame("partner_connected")
PARTNER_RESUMED = frame("partner_resumed")
