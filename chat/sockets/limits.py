"""Per-socket rate limits: one token bucket per rate class, for every frame a client sends.

A frame kind names its class in its FrameKind. The classes are sized for what a page
really sends: a trickle of ICE candidates arrives in a burst of a few dozen at once and
must pass; typing changes at most a few times a second; messages follow the
MESSAGE_RATE_* settings. Anything beyond is a flood that would fill the partner's
channel, so it is refused (and after MAX_REFUSALS_IN_A_ROW the socket is closed).
"""

from collections.abc import Callable

from django.conf import settings

from whimsy_project.ratelimit import Limit, TokenBucket

# A socket that keeps sending after this many refusals in a row is closed (4008).
MAX_REFUSALS_IN_A_ROW = 5

MESSAGE = "message"  # stored frames (messages, edits, reactions)
SIGNAL = "signal"  # WebRTC signalling
TYPING = "typing"
VOICE = "voice"  # a mood room member's speaking and mute changes: at most 4 a second
CONTROL = "control"  # leave and the like

# Read at connect, so tests can override settings (or patch an entry) per test.
RATE_CLASSES: dict[str, Callable[[], Limit]] = {
    MESSAGE: lambda: Limit(burst=settings.MESSAGE_RATE_BURST, rate=settings.MESSAGE_RATE_PER_SECOND),
    SIGNAL: lambda: Limit(burst=settings.SIGNAL_RATE_BURST, rate=settings.SIGNAL_RATE_PER_SECOND),
    TYPING: lambda: Limit(burst=10, rate=4),
    VOICE: lambda: Limit(burst=4, rate=4),
    CONTROL: lambda: Limit(burst=10, rate=2),
}


class SocketLimits:
    """One socket's buckets, by rate class, created on first use."""

    def __init__(self) -> None:
        self._buckets: dict[str, TokenBucket] = {}
        self.refusals_in_a_row = 0

    def take(self, rate_class: str) -> float:
        """0.0 if the frame may pass, else the seconds until it could."""
        bucket = self._buckets.get(rate_class)
        if bucket is None:
            limit = RATE_CLASSES[rate_class]()
            bucket = self._buckets[rate_class] = TokenBucket(rate=limit.rate, burst=limit.burst)
        wait = bucket.take()
        self.refusals_in_a_row = self.refusals_in_a_row + 1 if wait else 0
        return wait

    @property
    def flooding(self) -> bool:
        return self.refusals_in_a_row >= MAX_REFUSALS_IN_A_ROW
