"""Builders for moderation tests: real pairings made through the matchmaking service."""

import uuid
from dataclasses import dataclass

import pytest

from chat.models import ChatMessage, ChatRoom, Visitor
from matchmaking.services import find_available_room


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


@pytest.fixture
def pairing(db) -> Pairing:
    return pair()


def visitor_row(user_id: uuid.UUID) -> Visitor:
    return Visitor.objects.get(id=user_id)
