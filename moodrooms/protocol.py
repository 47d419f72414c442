"""The mood room socket's vocabulary (DESIGN section 12): payload shapes, limits and the
parsing of client frames. Shared by the HTTP API, the services' announcements and the
consumer, so a message looks the same everywhere."""

from dataclasses import dataclass
from uuid import UUID

from chat.names import avatar_parts
from chat.protocol import clean_client_id, clean_message_text, frame, iso_timestamp, parse_leave, parse_typing
from chat.sockets import CONTROL, MESSAGE, TYPING, FrameKind
from moodrooms.models import ChatSession, SessionMessage, SessionParticipant
from whimsy_project.errors import InvalidFrame

EDIT_WINDOW_SECONDS = 10 * 60
# The reactions offered: a fixed set keeps chips readable and cannot carry text.
REACTION_EMOJI = ("❤️", "👍", "😂", "😮", "😢", "🙏", "🤗", "🔥")
MOODS = ("motivated", "hopeful", "lonely", "joyful", "calm", "loving", "anxious", "tired", "sad", "curious")
SYSTEM_SENDER = "EchoRoom"
MOOD_CHECK_TEXT = "How are you feeling?"


def session_payload(session: ChatSession) -> dict:
    return {
        "id": str(session.id),
        "category": session.category,
        "name": session.name,
        "description": session.description,
        "max_participants": session.max_participants,
        "current_participants": session.current_participants,
        "is_active": session.is_active,
    }


def participant_payload(participant: SessionParticipant, *, is_speaking: bool = False) -> dict:
    """A member as GET participants and the room frames show them; `participant.user` is loaded."""
    return {
        "user_id": str(participant.user_id),
        "username": participant.user.username,
        "avatar": avatar_parts(participant.user.avatar_or_generated),
        "mood": participant.mood,
        "is_muted": participant.is_muted,
        "is_speaking": is_speaking,  # live state of the voice mesh (next issue), never stored
        "joined_at": iso_timestamp(participant.joined_at),
    }


def message_payload(message: SessionMessage, *, reactions: list[dict] | None = None) -> dict:
    return {
        "id": str(message.id),
        "session_id": str(message.session_id),
        "user_id": str(message.user_id) if message.user_id else None,
        "sender_name": message.sender_name,
        "content": message.content,
        "message_type": message.message_type,
        "reply_to": str(message.reply_to_id) if message.reply_to_id else None,
        "is_edited": message.is_edited,
        "edited_at": iso_timestamp(message.edited_at) if message.edited_at else None,
        "created_at": iso_timestamp(message.created_at),
        "client_id": message.client_id,
        "reactions": reactions or [],
    }


def user_joined_frame(participant: SessionParticipant) -> str:
    return frame("user_joined", user=participant_payload(participant))


def user_left_frame(*, user_id, reason: str) -> str:
    return frame("user_left", user_id=str(user_id), reason=reason)


def new_message_frame(message: SessionMessage, *, reactions: list[dict] | None = None) -> str:
    return frame("new_message", message=message_payload(message, reactions=reactions))


def message_edited_frame(message: SessionMessage, *, reactions: list[dict]) -> str:
    return frame("message_edited", message=message_payload(message, reactions=reactions))


def reaction_frame(*, message_id, emoji: str, user_id, added: bool, count: int) -> str:
    return frame("reaction", message_id=str(message_id), emoji=emoji, user_id=str(user_id), added=added, count=count)


def user_updated_frame(participant: SessionParticipant) -> str:
    return frame("user_updated", user=participant_payload(participant))


def room_joined_frame(*, session: ChatSession, participants: list[SessionParticipant], you: SessionParticipant) -> str:
    return frame(
        "room_joined",
        session=session_payload(session),
        participants=[participant_payload(member) for member in participants],
        you=participant_payload(you),
    )


def typing_frame(*, user_id: str, username: str, is_typing: bool) -> str:
    return frame("typing", user_id=user_id, username=username, is_typing=is_typing)


# --- client frames ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MessageFrame:
    text: str
    client_id: str | None
    reply_to: UUID | None

    def error_context(self) -> dict:
        return {"client_id": self.client_id}


@dataclass(frozen=True, slots=True)
class EditFrame:
    message_id: UUID
    text: str

    def error_context(self) -> dict:
        return {"message_id": str(self.message_id)}


@dataclass(frozen=True, slots=True)
class ReactFrame:
    message_id: UUID
    emoji: str

    def error_context(self) -> dict:
        return {"message_id": str(self.message_id)}


def _message_id(decoded: dict, field: str, *, required: bool = True) -> UUID | None:
    value = decoded.get(field)
    if value is None and not required:
        return None
    try:
        return UUID(value) if isinstance(value, str) else UUID("")
    except ValueError:
        raise InvalidFrame(f"{decoded['type']}: {field} must be a message id.") from None


def _text(decoded: dict) -> str:
    text = decoded.get("text")
    if not isinstance(text, str):
        raise InvalidFrame(f"{decoded['type']}: text must be a string.")
    return clean_message_text(text)


def parse_message(decoded: dict) -> MessageFrame:
    return MessageFrame(
        _text(decoded), clean_client_id(decoded.get("client_id")), _message_id(decoded, "reply_to", required=False)
    )


def parse_edit(decoded: dict) -> EditFrame:
    return EditFrame(_message_id(decoded, "message_id"), _text(decoded))


def parse_react(decoded: dict) -> ReactFrame:
    emoji = decoded.get("emoji")
    if emoji not in REACTION_EMOJI:
        raise InvalidFrame(f"react: emoji must be one of {' '.join(REACTION_EMOJI)}.")
    return ReactFrame(_message_id(decoded, "message_id"), emoji)


# Group voice (voice_join, voice_leave, voice_status, signal) is moodrooms.voice's VOICE_VOCABULARY.
SESSION_VOCABULARY = {
    "message": FrameKind(parse_message, rate=MESSAGE),
    "edit": FrameKind(parse_edit, rate=MESSAGE),
    "react": FrameKind(parse_react, rate=CONTROL),
    "typing": FrameKind(parse_typing, rate=TYPING),
    "leave": FrameKind(parse_leave, rate=CONTROL),
}
