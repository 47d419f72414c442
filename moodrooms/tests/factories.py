"""Test helpers for mood rooms (not a test module)."""

import uuid

from moodrooms.models import ChatSession
from moodrooms.services import session_join, session_join_by_category

CALM_ID = uuid.UUID("5eed0000-0000-4000-8000-000000000005")
BOOKS_ID = uuid.UUID("5eed0000-0000-4000-8000-000000000007")


def calm() -> ChatSession:
    return ChatSession.objects.get(id=CALM_ID)


def members(count: int, *, category: str = "calm", mood: str = "calm") -> list[uuid.UUID]:
    """`count` new visitors who joined a session of this mood through the service."""
    user_ids = [uuid.uuid4() for _ in range(count)]
    for user_id in user_ids:
        session_join_by_category(user_id=user_id, category=category, mood=mood)
    return user_ids


def member_of(session_id: uuid.UUID, *, mood: str = "calm") -> uuid.UUID:
    user_id = uuid.uuid4()
    session_join(user_id=user_id, session_id=session_id, mood=mood)
    return user_id
