"""Which channels serve which member of a socket's group, as that socket has heard.

Every socket of a group says `socket.hello` to the group once it is in, each member's
socket answers it directly with `socket.here`, and `socket.bye` withdraws a channel. So
each socket holds the channels of every other socket of its group (its own member's
other tabs included), learnt through the channel layer's public API alone, and a relay
or an announcement is a direct send to exactly those channels (or a call within this
process when the socket is local) with no lookup per frame.

A new socket is in the group (and hears everything sent to it) before its hello goes
out, but the others only relay to it once they have heard the hello (a signal to a
member not heard of is refused: PartnerNotConnected). Announcements (send_to_group) go
to the directory too; one made before a socket was known is caught up from the database
once it is (GroupSocket.send_to_group says how).
"""

import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chat.sockets.consumer import GroupSocket

# This process's authorised group sockets by channel name: a relay to one of them skips
# the channel layer. Weak, so a consumer that died without its disconnect is not kept.
_sockets_here: "weakref.WeakValueDictionary[str, GroupSocket]" = weakref.WeakValueDictionary()


def socket_here(channel: str) -> "GroupSocket | None":
    return _sockets_here.get(channel)


def register_here(socket: "GroupSocket") -> None:
    _sockets_here[socket.channel_name] = socket


def unregister_here(socket: "GroupSocket") -> None:
    _sockets_here.pop(socket.channel_name, None)


def sockets_here() -> list["GroupSocket"]:
    return list(_sockets_here.values())


class Directory:
    """One socket's view of its group: member id -> channels, and the process serving each channel."""

    def __init__(self) -> None:
        self._channels: dict[str, set[str]] = {}
        self._member_of: dict[str, str] = {}
        self._process_of: dict[str, str] = {}

    def add(self, *, member: str, channel: str, process: str) -> bool:
        """Record a channel; True if it is the member's first."""
        channels = self._channels.setdefault(member, set())
        first = not channels
        channels.add(channel)
        self._member_of[channel] = member
        self._process_of[channel] = process
        return first

    def remove(self, channel: str) -> tuple[str | None, bool]:
        """Forget a channel: (its member, whether that was the member's last channel)."""
        member = self._member_of.pop(channel, None)
        self._process_of.pop(channel, None)
        if member is None:
            return None, False
        channels = self._channels[member]
        channels.discard(channel)
        if channels:
            return member, False
        del self._channels[member]
        return member, True

    def forget_member(self, member: str) -> None:
        for channel in self._channels.pop(member, ()):
            self._member_of.pop(channel, None)
            self._process_of.pop(channel, None)

    def channels_of(self, member: str) -> tuple[str, ...]:
        return tuple(self._channels.get(member, ()))

    def channels_except(self, member: str) -> tuple[str, ...]:
        """Every channel of every other member (a relay to "everyone else")."""
        return tuple(channel for other, channels in self._channels.items() if other != member for channel in channels)

    def knows(self, channel: str) -> bool:
        return channel in self._member_of

    def all_channels(self) -> tuple[str, ...]:
        return tuple(self._member_of)

    def members(self) -> tuple[str, ...]:
        return tuple(self._channels)

    def is_connected(self, member: str) -> bool:
        return bool(self._channels.get(member))

    def channels_on(self, process: str) -> tuple[str, ...]:
        return tuple(channel for channel, owner in self._process_of.items() if owner == process)

    def processes(self) -> set[str]:
        return set(self._process_of.values())
