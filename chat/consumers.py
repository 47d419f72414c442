"""The presence socket (docs/protocol.md), on the socket machinery of chat.sockets.

The 1:1 room socket is matchmaking.consumers.RoomConsumer.
"""

from chat import presence
from chat.sockets import Socket, frame


class PresenceConsumer(Socket):
    """Pushes {"type": "presence", "online": N} on connect and whenever N changes; takes no frames."""

    requires_visitor = False  # a page without a session may watch but is nobody
    last_online: int | None = None

    async def started(self) -> None:
        presence.watch(self)
        await self.send_online(await presence.online_count())

    async def stopped(self, code: int) -> None:
        presence.unwatch(self)

    async def send_online(self, online: int) -> None:
        if online != self.last_online:
            self.last_online = online
            await self.send(frame("presence", online=online))
