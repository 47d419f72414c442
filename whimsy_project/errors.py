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

    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"Too many requests: please wait {retry_after} s and try again.")

    def extra(self) -> dict:
        return {"retry_after": self.retry_after}

    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


class NoPartnerToReport(WhimsyError):
    status = 409
    code = "no_partner"
    default_detail = "Nobody joined you in this chat room, so there is no one to report."


class AlreadyReported(WhimsyError):
    status = 409
    code = "already_reported"
    default_detail = "You have already reported the stranger from this chat."
