"""The vocabulary of keep in touch: thread socket frames, the room socket's keep frames,
and the payload a thread message has in the API and on the socket (docs/threads.md)."""

from chat.protocol import (
    MAX_MESSAGE_CHARS,
    TYPING_FALSE,
    TYPING_TRUE,
    clean_message_text,
    frame,
    iso_timestamp,
    parse_typing,
)
from chat.sockets import TYPING, FrameKind
from threads.models import ThreadMessage
from whimsy_project.errors import InvalidInput

MAX_BODY_CHARS = MAX_MESSAGE_CHARS


def clean_body(body: str) -> str:
    """The body as stored: the 1:1 chat's text rules (trimmed, not empty, at most MAX_BODY_CHARS)."""
    try:
        return clean_message_text(body)
    except InvalidInput as exc:
        raise InvalidInput(exc.detail.replace("text:", "body:", 1)) from None


def thread_message_payload(message: ThreadMessage) -> dict:
    return {
        "id": str(message.id),
        "thread_id": message.thread_id,
        "sender_id": str(message.sender_id) if message.sender_id else None,
        "body": message.body,
        "created_at": iso_timestamp(message.created_at),
        "client_id": message.client_id,
    }


# --- room socket (the 1:1 chat page) ----------------------------------------------------


def keep_requested_frame(*, room_id, user_id) -> str:
    """To the room: user_id asked to keep in touch (their own page ignores it)."""
    return frame("keep_requested", room_id=str(room_id), user_id=str(user_id))


def kept_frame(*, room_id, thread_id: str) -> str:
    return frame("kept", room_id=str(room_id), thread_id=thread_id)


# --- thread socket ----------------------------------------------------------------------


def new_message_frame(message: ThreadMessage) -> str:
    return frame("new_message", message=thread_message_payload(message))


def thread_closed_frame(*, thread_id: str) -> str:
    return frame("thread_closed", thread_id=thread_id)


def thread_state_frame(*, thread, user_id) -> str:
    """The first frame of an authorised thread socket."""
    return frame(
        "thread_state", thread_id=thread.thread_id, user_id=str(user_id), partner_id=str(thread.partner_of(user_id))
    )


def typing_frame(is_typing: bool) -> str:
    return TYPING_TRUE if is_typing else TYPING_FALSE


# Client frames of the thread socket (messages go over HTTP, idempotent per client_id).
THREAD_VOCABULARY = {"typing": FrameKind(parse_typing, rate=TYPING)}
