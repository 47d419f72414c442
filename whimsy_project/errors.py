"""Domain errors. Services raise them; HTTP and WebSocket adapters turn them into
`{"error": {"code", "detail"}}` replies or `error` frames."""

from datetime import datetime


class WhimsyError(Exception):
    status = 400
    code = "invalid"
    default_detail = "The request could not be processed."

    def __init__(self, detail: str | None = None):
        self.detail = detail or self.default_detail
        super().__init__(self.detail)

    def extra(self) -> dict:
        """Fields added to the error object beside code and detail."""
        return {}

    def headers(self) -> dict:
        return {}


class InvalidInput(WhimsyError):
    status = 400
    code = "invalid"


class RoomNotFound(WhimsyError):
    status = 404
    code = "room_not_found"
    default_detail = "There is no such chat room."


class NotParticipant(WhimsyError):
    status = 403
    code = "not_participant"
    default_detail = "You are not in this chat room."


class AlreadyLeft(WhimsyError):
    status = 409
    code = "already_left"
    default_detail = "You have already left this chat room."


class RoomClosed(WhimsyError):
    status = 409
    code = "room_closed"
    default_detail = "This chat has ended: start a new one to talk to someone."


class NoPartnerYet(WhimsyError):
    status = 409
    code = "no_partner"
    default_detail = "Nobody has joined this chat yet."


class ServiceUnavailable(WhimsyError):
    status = 503
    code = "service_unavailable"
    default_detail = "A service Whimsy needs is briefly unavailable; please try again in a moment."

    def headers(self) -> dict:
        return {"Retry-After": "1"}


class DeliveryFailed(WhimsyError):
    status = 503
    code = "delivery_failed"
    default_detail = "The server could not pass this on right now; please try again."


class Banned(WhimsyError):
    status = 403
    code = "banned"

    def __init__(self, until: datetime | None):
        self.until = until
        when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "permanently"
        super().__init__(f"You are banned from Whimsy {when} for breaking the rules.")


class RateLimited(WhimsyError):
    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: float, detail: str | None = None):
        self.retry_after = retry_after  # whole seconds over HTTP (Retry-After), 0.01 s on sockets
        super().__init__(detail or f"Too many requests: please wait {retry_after} s and try again.")

    def extra(self) -> dict:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


class NoPartnerToReport(WhimsyError):
    status = 409
    code = "no_partner_to_report"
    default_detail = "Nobody joined you in this chat room, so there is no one to report."


class AlreadyReported(WhimsyError):
    status = 409
    code = "already_reported"
    default_detail = "You have already reported the stranger from this chat."


class KeepWindowClosed(WhimsyError):
    status = 409
    code = "keep_expired"
    default_detail = "This chat ended too long ago to keep in touch."


class ThreadNotFound(WhimsyError):
    status = 404
    code = "thread_not_found"
    default_detail = "There is no such thread."


class ThreadEnded(WhimsyError):
    status = 410
    code = "thread_ended"
    default_detail = "This thread has been ended."


# --- socket-only refusals (error frames; the close code, if any, is the socket's) ---


class NoSession(WhimsyError):
    status = 403
    code = "no_session"
    default_detail = "Open the site first to get an identity."


class PartnerNotConnected(WhimsyError):
    status = 409
    code = "partner_not_connected"
    default_detail = "Your partner is not connected; nothing was sent."


class InvalidJson(WhimsyError):
    code = "invalid_json"
    default_detail = "The frame is not valid JSON."


class InvalidFrame(WhimsyError):
    code = "invalid_frame"
    default_detail = 'A frame must be a JSON object with a string "type".'


class UnknownFrameType(WhimsyError):
    code = "unknown_type"
    default_detail = "This socket does not take frames of that type."


class FrameTooLarge(WhimsyError):
    status = 413
    code = "frame_too_large"


class SessionNotFound(WhimsyError):
    status = 404
    code = "session_not_found"
    default_detail = "There is no such mood room."


class SessionClosed(WhimsyError):
    status = 409
    code = "session_closed"
    default_detail = "This mood room has closed: pick another one."


class RoomFull(WhimsyError):
    status = 409
    code = "room_full"
    default_detail = "This room is full."


class NotMember(WhimsyError):
    status = 403
    code = "not_member"
    default_detail = "You are not in this mood room: join it first."


class MessageNotFound(WhimsyError):
    status = 404
    code = "message_not_found"
    default_detail = "There is no such message in this room."


class NotAuthor(WhimsyError):
    status = 403
    code = "not_author"
    default_detail = "Only the person who wrote a message can edit it."


class EditWindowClosed(WhimsyError):
    status = 409
    code = "edit_window_closed"
    default_detail = "A message can only be edited within 10 minutes of sending it."


class Muted(WhimsyError):
    status = 409
    code = "muted"
    default_detail = "You are muted: unmute to speak."


class NotInVoice(WhimsyError):
    status = 409
    code = "not_in_voice"
    default_detail = "Both of you must have joined voice in this room."


class NotRoommate(WhimsyError):
    status = 403
    code = "not_roommate"
    default_detail = "You can only report someone who was in this mood room with you in the last 10 minutes."
