"""The presence socket (docs/protocol.md), on the socket machinery of chat.sockets.

The 1:1 room socket is matchmaking.consumers.RoomConsumer.
"""

from chat import presence
from chat.events import visitor_group
from chat.sockets import Socket, frame


class PresenceConsumer(Socket):
    """Pushes {"type": "presence", "online": N} on connect and whenever N changes; takes no frames.

    A visitor's socket listens to their own group too, so a ban closes it like their other
    sockets (the machinery's visitor_banned: `banned`, then 4003).
    """

    requires_visitor = False  # a page without a session may watch but is nobody
    last_online: int | None = None

    async def authorise(self) -> None:
        if self.visitor_id is not None:
            await self.listen(visitor_group(self.visitor_id))

    async def started(self) -> None:
        presence.watch(self)
        await self.send_online(await presence.online_count())

    async def stopped(self, code: int) -> None:
        presence.unwatch(self)

    async def send_online(self, online: int) -> None:
        if online != self.last_online:
            self.last_online = online
            await self.send(frame("presence", online=online))
