"""Group voice in a mood room (DESIGN sections 6 and 12, docs/voice.md): the voice frames of
the session socket and the rules a relay obeys.

Voice is an audio-only WebRTC mesh between the members who joined it; the server only
relays signaling. Who is in voice is live state held by each socket (never stored, so a
relayed frame costs no database work): a socket joining voice tells the group
(`voice.state`), and every socket in voice tells each newcomer's socket directly when it
says hello. A signal goes only from a socket in voice to a member this socket knows to be
in voice, and is handed to the addressee's sockets that are in voice themselves: so no ICE
candidate crosses before both sides of a pair joined (the consent rule of 1:1 video), and
a non-member or a member of another session is never in the table to begin with.

`is_muted` is stored on the participant (services.session_participant_mute: it survives
a resume and shows in room_joined); `is_speaking` is live and refused while muted.

A member leaves voice on `voice_leave`, when its voice socket closes for good (leave,
move, ban, another tab taking over) or when it is lost past the grace; every socket then
tells its page, which closes that member's peer connection. A voice socket that blips
keeps its member's place in voice for the grace: the resumed page joins again and
restarts ICE.
"""

from dataclasses import dataclass

from chat.protocol import parse_leave, signal_payload_json
from chat.sockets import CONTROL, SIGNAL, VOICE, FrameKind, frame
from chat.sockets.database import run_in_database
from moodrooms.selectors import active_participation_for
from moodrooms.services import session_participant_mute
from whimsy_project.errors import InvalidFrame, Muted, NotInVoice, PartnerNotConnected

# A description (offer or answer, perfect negotiation decides which) or an ICE candidate.
VOICE_SIGNAL_KINDS = ("description", "candidate")


# --- client frames ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VoiceStatusFrame:
    is_speaking: bool | None
    is_muted: bool | None


@dataclass(frozen=True, slots=True)
class VoiceSignalFrame:
    to: str
    kind: str
    payload_json: str  # re-serialised once, spliced into the relayed frame

    def error_context(self) -> dict:
        return {"to": self.to, "kind": self.kind}


def _optional_bool(decoded: dict, field: str) -> bool | None:
    value = decoded.get(field)
    if value is not None and not isinstance(value, bool):
        raise InvalidFrame(f"{decoded['type']}: {field} must be true or false.")
    return value


def parse_voice_join(decoded: dict) -> bool | None:
    """`voice_join` `{"is_muted"?}`: join muted (or not) in one step."""
    return _optional_bool(decoded, "is_muted")


def parse_voice_status(decoded: dict) -> VoiceStatusFrame:
    status = VoiceStatusFrame(_optional_bool(decoded, "is_speaking"), _optional_bool(decoded, "is_muted"))
    if status.is_speaking is None and status.is_muted is None:
        raise InvalidFrame("voice_status: give is_speaking, is_muted or both.")
    return status


def parse_voice_signal(decoded: dict) -> VoiceSignalFrame:
    to, kind, payload = decoded.get("to"), decoded.get("kind"), decoded.get("payload")
    if not isinstance(to, str) or not 0 < len(to) <= 64:
        raise InvalidFrame("signal: to must be a member's user id.")
    if kind not in VOICE_SIGNAL_KINDS:
        raise InvalidFrame(f"signal: kind must be one of {', '.join(VOICE_SIGNAL_KINDS)}.")
    return VoiceSignalFrame(to, kind, signal_payload_json(payload))


# Merged into the session socket's vocabulary. Joining and leaving are rare (CONTROL);
# speaking and mute changes have their own bucket (VOICE: 4 a second), so typing or a
# burst of ICE candidates never eats into them.
VOICE_VOCABULARY = {
    "voice_join": FrameKind(parse_voice_join, rate=CONTROL),
    "voice_leave": FrameKind(parse_leave, rate=CONTROL),
    "voice_status": FrameKind(parse_voice_status, rate=VOICE),
    "signal": FrameKind(parse_voice_signal, rate=SIGNAL),
}


# --- server frames ----------------------------------------------------------------------


def voice_status_frame(*, user_id: str, in_voice: bool, is_speaking: bool, is_muted: bool) -> str:
    return frame("voice_status", user_id=user_id, in_voice=in_voice, is_speaking=is_speaking, is_muted=is_muted)


def signal_frame(*, sender: str, kind: str, payload_json: str) -> str:
    # sender is a UUID string from the session cookie, kind one of VOICE_SIGNAL_KINDS and
    # payload_json came from json.dumps: splicing is safe and skips a second encoding.
    return f'{{"type":"signal","from":"{sender}","kind":"{kind}","payload":{payload_json}}}'


# --- who may call -----------------------------------------------------------------------


def in_a_mood_room(*, user_id) -> bool:
    """chat.ice asks this (registered in MoodroomsConfig.ready): members get ICE servers too."""
    return active_participation_for(user_id=user_id) is not None


# --- the socket side ----------------------------------------------------------------------


@dataclass(slots=True)
class Voice:
    """Another member in voice, as this socket has heard."""

    channel: str  # the socket that joined voice for that member
    is_muted: bool
    is_speaking: bool = False


class VoiceSocketMixin:
    """Group voice for a GroupSocket of a mood room; put it before GroupSocket in the bases.

    Needs `self.session_id` and `self.access.participant` (set by authorise). The session
    socket calls `voice_forget(user_id)` when the room says a member left.
    """

    in_voice: bool = False
    is_speaking: bool = False

    @property
    def voices(self) -> dict[str, Voice]:
        if "_voices" not in self.__dict__:
            self._voices: dict[str, Voice] = {}
        return self._voices

    @property
    def is_muted(self) -> bool:
        return self.__dict__.get("_is_muted", self.access.participant.is_muted)

    # --- frames from the client -------------------------------------------------------

    async def on_voice_join(self, is_muted: bool | None) -> None:
        if is_muted is not None:
            await self._store_mute(is_muted)
        # Again after a resume: the others learn this socket is the member's voice now.
        self.in_voice, self.is_speaking = True, False
        await self._announce()

    async def on_voice_leave(self, _) -> None:
        if not self.in_voice:
            return
        self.in_voice, self.is_speaking = False, False
        await self._announce()

    async def on_voice_status(self, status: VoiceStatusFrame) -> None:
        muted = self.is_muted if status.is_muted is None else status.is_muted
        if status.is_speaking and muted:
            raise Muted()
        if status.is_speaking and not self.in_voice:
            raise NotInVoice("Join voice first.")
        before = (self.is_muted, self.is_speaking)
        if muted != self.is_muted:
            await self._store_mute(muted)
        if status.is_speaking is not None:
            self.is_speaking = status.is_speaking and not muted
        if (self.is_muted, self.is_speaking) != before:
            await self._announce()

    async def on_signal(self, signal: VoiceSignalFrame) -> None:
        if not self.in_voice:
            raise NotInVoice("Join voice first.")
        if signal.to not in self.voices:
            raise NotInVoice("That person is not in voice in this room; nothing was sent.")
        text = signal_frame(sender=self.member, kind=signal.kind, payload_json=signal.payload_json)
        if not await self.relay({"type": "voice.signal", "text": text}, to=signal.to):
            raise PartnerNotConnected("That person is not connected right now; nothing was sent.")

    # --- events from the channel layer (handler name = event type) -------------------

    async def voice_state(self, event) -> None:
        if not self.authorised:
            return
        member = event["member"]
        if member == self.member:
            self._is_muted = event["is_muted"]
            if event["channel"] != self.channel_name and event["in_voice"] and self.in_voice:
                self.in_voice = self.is_speaking = False  # another tab of ours took voice over
        elif event["in_voice"]:
            self.voices[member] = Voice(event["channel"], event["is_muted"], event["is_speaking"])
        elif (voice := self.voices.get(member)) is not None and voice.channel == event["channel"]:
            del self.voices[member]
        await self.send(
            voice_status_frame(
                user_id=member, in_voice=event["in_voice"], is_speaking=event["is_speaking"], is_muted=event["is_muted"]
            )
        )

    async def voice_signal(self, event) -> None:
        # Only the member's socket that is in voice takes it (the others are tabs without a call).
        if self.authorised and self.in_voice:
            await self.send(event["text"])

    async def socket_hello(self, event) -> None:
        await super().socket_hello(event)
        if self.authorised and self.in_voice and event["channel"] != self.channel_name:
            # Straight to the newcomer, after the machinery's socket.here: it learns who is in voice.
            await self.channel_layer.send(event["channel"], self._state_event())

    async def socket_bye(self, event) -> None:
        voice = self.voices.get(event["member"]) if self.authorised else None
        last = voice is not None and self.directory.channels_of(event["member"]) == (event["channel"],)
        await super().socket_bye(event)
        # A blip of a member's only socket keeps its voice for the grace (a resume rejoins);
        # a socket closed for good, or one tab of several closing, ends it.
        if voice is not None and voice.channel == event["channel"] and (event["done"] or not last):
            await self.voice_forget(event["member"])

    async def voice_forget(self, member: str) -> None:
        """That member is out of voice (left the room, lost past the grace, banned): tell the page."""
        voice = self.voices.pop(member, None)
        if voice is not None and self.authorised:
            left = voice_status_frame(user_id=member, in_voice=False, is_speaking=False, is_muted=voice.is_muted)
            await self.send(left)

    # --- helpers ------------------------------------------------------------------------

    async def _store_mute(self, is_muted: bool) -> None:
        await run_in_database(
            session_participant_mute, session_id=self.session_id, user_id=self.visitor_id, is_muted=is_muted
        )
        self._is_muted = is_muted
        if is_muted:
            self.is_speaking = False

    async def _announce(self) -> None:
        # The whole group, not this socket's directory: a socket that just opened (a resumed
        # page joins voice at once) has not heard the others' here yet, but they hear it.
        await self.channel_layer.group_send(self.group, self._state_event())

    def _state_event(self) -> dict:
        return {
            "type": "voice.state",
            "member": self.member,
            "channel": self.channel_name,
            "in_voice": self.in_voice,
            "is_muted": self.is_muted,
            "is_speaking": self.is_speaking,
        }
