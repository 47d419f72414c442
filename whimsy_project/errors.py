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


class Banned(WhimsyError):
    status = 403
    code = "banned"

    def __init__(self, until: datetime | None):
        self.until = until
        when = f"until {until:%Y-%m-%d %H:%M} UTC" if until else "permanently"
        super().__init__(f"You are banned from Whimsy {when} for breaking the rules.")
