"""The thread socket, /ws/threads/<thread_id>/ (docs/threads.md): the private channel of a
thread's two members, on the shared socket machinery (chat.sockets, docs/sockets.md).

Authorised once at connect through threads.services.thread_connect. Messages are sent
over HTTP (POST /api/threads/<id>/messages) and arrive here as ready new_message frames
after their commit (announce_frame -> socket.frame); typing is relayed to the other
member's sockets without touching the database. A thread outlives its sockets: a member
who goes away is simply offline, so the machinery's grace period ends nothing here.
"""

from chat.events import thread_group
from chat.sockets import GroupSocket
from chat.sockets.database import run_in_database
from chat.sockets.frames import CLOSE_NOT_FOUND
from threads.protocol import THREAD_VOCABULARY, thread_state_frame, typing_frame
from threads.selectors import thread_for_member
from threads.services import thread_connect


class ThreadSocket(GroupSocket):
    vocabulary = THREAD_VOCABULARY

    async def authorise(self) -> None:
        thread_id = self.scope["url_route"]["kwargs"]["thread_id"]
        thread = await run_in_database(
            thread_connect, thread_id=thread_id, user_id=self.visitor_id, ip_hash=self.scope.get("ip_hash", "")
        )
        await self.join(group=thread_group(thread.thread_id), member=str(self.visitor_id))
        # Again now that we listen: a thread ended in between is not missed (a ban in between
        # reaches this socket through the visitor group it has just joined).
        self.thread = await run_in_database(thread_for_member, thread_id=thread_id, user_id=self.visitor_id)

    async def started(self) -> None:
        await self.send(thread_state_frame(thread=self.thread, user_id=self.visitor_id))

    async def banned(self) -> None:
        self.done = True

    async def on_typing(self, is_typing: bool) -> None:
        await self.relay({"type": "socket.frame", "text": typing_frame(is_typing)})

    async def thread_closed(self, event):
        """A member ended the thread (threads.services.thread_end): say so, and close for good."""
        if not self.authorised:
            return
        self.done = True
        await self.send(event["text"])
        await self.close(code=CLOSE_NOT_FOUND, reason="thread_ended")
