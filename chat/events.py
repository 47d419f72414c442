"""Channel-layer groups and the room events that services announce.

Events about a database change are sent in transaction.on_commit, so a listener
never hears of a row it cannot yet read. Group names come from server ids only.
"""

import logging
from uuid import UUID

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from whimsy_project.errors import DeliveryFailed

logger = logging.getLogger(__name__)


def room_group(room_id: UUID) -> str:
    return f"room.{room_id.hex}"


def visitor_group(user_id: UUID) -> str:
    return f"visitor.{user_id.hex}"


def send_to_group_on_commit(group: str, event: dict) -> None:
    transaction.on_commit(lambda: async_to_sync(get_channel_layer().group_send)(group, event))


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


def announce_partner_left(*, room_id: UUID, user_id: UUID) -> None:
    send_to_group_on_commit(
        room_group(room_id), {"type": "partner.left", "room_id": str(room_id), "user_id": str(user_id)}
    )


def announce_visitor_banned(*, user_id: UUID, until: str | None) -> None:
    """Every live socket of this visitor closes (code 4003) and their partners are told."""
    send_to_group_on_commit(visitor_group(user_id), {"type": "visitor.banned", "until": until})


def announce_new_message(*, room_id: UUID, message: dict) -> None:
    """Both people of the room (every tab) get a newly stored message.

    A failed send raises DeliveryFailed after the commit, so the sender is told instead
    of the message vanishing quietly; it is stored, and the room's history has it.
    """
    group = room_group(room_id)
    event = {"type": "chat.message", "message": message}

    def send() -> None:
        try:
            async_to_sync(get_channel_layer().group_send)(group, event)
        except Exception as exc:  # whatever the layer raises (Redis down, ...), the sender must hear of it
            logger.exception("could not deliver message %s to %s", message["id"], group)
            raise DeliveryFailed() from exc

    transaction.on_commit(send)
