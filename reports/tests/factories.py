"""Builders for moderation tests: real pairings made through the matchmaking service, group listeners."""

import asyncio
import uuid
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from chat.models import ChatMessage, ChatRoom, Visitor
from matchmaking.services import find_available_room, leave_room


@dataclass
class Pairing:
    room_id: uuid.UUID
    first: uuid.UUID  # waited in the room
    second: uuid.UUID  # joined it

    def say(self, sender: uuid.UUID | None, text: str) -> ChatMessage:
        return ChatMessage.objects.create(
            room_id=self.room_id, sender_id=sender, message=text, is_system=sender is None
        )

    @property
    def room(self) -> ChatRoom:
        return ChatRoom.objects.get(id=self.room_id)


def pair(*, first: uuid.UUID | None = None, second: uuid.UUID | None = None, ip_hash: str = "") -> Pairing:
    first, second = first or uuid.uuid4(), second or uuid.uuid4()
    waiting = find_available_room(user_id=first, ip_hash=ip_hash)
    joined = find_available_room(user_id=second)
    assert joined.room_id == waiting.room_id, "the two were not paired"
    return Pairing(room_id=waiting.room_id, first=first, second=second)


def past_pairings(*, first: uuid.UUID, seconds: list[uuid.UUID]) -> list[Pairing]:
    """`first` meets each of `seconds` in turn, leaving each room before the next Start."""
    pairings = []
    for second in seconds:
        pairing = pair(first=first, second=second)
        leave_room(user_id=first, room_id=pairing.room_id)
        pairings.append(pairing)
    return pairings


def visitor_row(user_id: uuid.UUID) -> Visitor:
    return Visitor.objects.get(id=user_id)


class GroupListener:
    """A channel subscribed to a group, as a consumer would be, for asserting events."""

    def __init__(self, group: str):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(group, self.channel)

    def receive(self, *, timeout: float = 2) -> dict:
        async def receive_within():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return async_to_sync(receive_within)()

    def events(self, *, timeout: float = 0.3) -> list[dict]:
        """Every event that arrives until `timeout` passes without another."""
        received = []
        while True:
            try:
                received.append(self.receive(timeout=timeout))
            except TimeoutError:
                return received
