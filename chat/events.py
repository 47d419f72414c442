"""Channel-layer groups and the room events that services announce.

Events about a database change are sent in transaction.on_commit, so a listener
never hears of a row it cannot yet read. Group names come from server ids only.
"""

import asyncio
import logging
import threading
from uuid import UUID

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

from whimsy_project.errors import DeliveryFailed

logger = logging.getLogger(__name__)


def room_group(room_id: UUID) -> str:
    return f"room.{room_id.hex}"


def visitor_group(user_id: UUID) -> str:
    return f"visitor.{user_id.hex}"


def session_group(session_id: UUID) -> str:
    """A mood room session's sockets."""
    return f"session.{session_id.hex}"


def thread_group(thread_id: str) -> str:
    """A keep-in-touch thread's sockets; thread ids are two UUIDs joined by "__" (group-name safe)."""
    return f"thread.{thread_id}"


_sender_loop: asyncio.AbstractEventLoop | None = None
_sender_lock = threading.Lock()


def group_send(group: str, event: dict) -> None:
    """Send to a group from sync code, without a new event loop per send.

    On a thread that the server's event loop handed work to (a request thread, Channels'
    database thread) asgiref runs the send on that loop, whose Redis connections stay open.
    Any other thread (a management command, a benchmark client) would get a new loop, and a
    new Redis connection, from async_to_sync for every send: one loop of its own, started
    once per process, serves those instead (not for the in-memory layer: nothing outside
    the process listens to it, and its queues belong to the listener's loop).
    """
    layer = get_channel_layer()
    server_loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if (server_loop is not None and server_loop.is_running()) or isinstance(layer, InMemoryChannelLayer):
        async_to_sync(layer.group_send)(group, event)
        return
    asyncio.run_coroutine_threadsafe(layer.group_send(group, event), _loop_for_sends()).result()


def _loop_for_sends() -> asyncio.AbstractEventLoop:
    global _sender_loop
    with _sender_lock:
        if _sender_loop is None:
            _sender_loop = asyncio.new_event_loop()
            threading.Thread(target=_sender_loop.run_forever, name="channel-layer-sends", daemon=True).start()
        return _sender_loop


def send_to_group_on_commit(group: str, event: dict) -> None:
    transaction.on_commit(lambda: group_send(group, event))


def announce_frame(*, group: str, frame: str) -> None:
    """After the commit, every socket in the group (any kind) sends this ready server frame to its client."""
    send_to_group_on_commit(group, {"type": "socket.frame", "text": frame})


def announce_partner_joined(
    *, room_id: UUID, user_ids: tuple[UUID, UUID], common_interests: list[str], moved_user_id: UUID | None = None
) -> None:
    """Both people of a newly active room learn who they are with.

    A waiting user who is moved into someone else's room is told on their personal
    group too, because their sockets are still on the room they left.
    """
    event = {
        "type": "partner.joined",
        "room_id": str(room_id),
        "user_ids": [str(user_id) for user_id in user_ids],
        "common_interests": common_interests,
    }
    send_to_group_on_commit(room_group(room_id), event)
    if moved_user_id is not None:
        send_to_group_on_commit(visitor_group(moved_user_id), event)


def announce_partner_left(*, room_id: UUID, user_id: UUID, reason: str) -> None:
    """The room ended because this visitor left it: reason is skipped, ended, lost or banned."""
    event = {"type": "partner.left", "room_id": str(room_id), "user_id": str(user_id), "reason": reason}
    send_to_group_on_commit(room_group(room_id), event)


def announce_visitor_banned(*, user_id: UUID, until: str | None) -> None:
    """Every live socket of this visitor closes (code 4003) and their partners are told."""
    send_to_group_on_commit(visitor_group(user_id), {"type": "visitor.banned", "until": until})


def announce_new_message(*, room_id: UUID, event: dict) -> None:
    """Both people of the room (every tab) get a newly stored message (chat.protocol.message_event).

    A failed send raises DeliveryFailed after the commit, so the sender is told instead
    of the message vanishing quietly; it is stored, and the room's history has it.
    """
    group = room_group(room_id)

    def send() -> None:
        try:
            group_send(group, event)
        except Exception as exc:  # whatever the layer raises (Redis down, ...), the sender must hear of it
            logger.exception("could not deliver message %s to %s", event["message"]["id"], group)
            raise DeliveryFailed() from exc

    transaction.on_commit(send)
