"""Conversation starters a quiet session is offered: a curated list per mood, no external AI."""

import random

from moodrooms.models import Category

STARTERS: dict[str, tuple[str, ...]] = {
    Category.MOTIVATED: (
        "What is one small thing you want to get done today?",
        "What keeps you going when a goal feels far away?",
        "Share a win from this week, however small.",
        "What habit are you building right now?",
    ),
    Category.HOPEFUL: (
        "What is something you are looking forward to?",
        "What gave you a bit of hope recently?",
        "If next month went well, what would it look like?",
        "Who is someone that makes the future feel brighter?",
    ),
    Category.LONELY: (
        "What is a comfort thing you do when the evening feels long?",
        "What is a place where you have felt at home?",
        "If you could call anyone right now, who would it be and why?",
        "What is a song that keeps you company?",
    ),
    Category.JOYFUL: (
        "What made you smile today?",
        "What is the best thing you ate this week?",
        "Share something that always makes you laugh.",
        "What is a tiny pleasure you would recommend to everyone?",
    ),
    Category.CALM: (
        "What helps you slow down at the end of a day?",
        "Describe a place where you feel completely at peace.",
        "What sound do you find most relaxing?",
        "Take a slow breath: what do you notice around you right now?",
    ),
    Category.LOVING: (
        "Who are you grateful for today?",
        "What is a kind thing someone did for you that you still remember?",
        "How do you like to show people you care?",
        "What is something you love about yourself?",
    ),
    Category.BOOKS: (
        "What are you reading right now, and would you recommend it?",
        "Which book would you read again for the first time?",
        "Share a line from a book that stayed with you.",
        "Which character would you like to have coffee with?",
    ),
}


def starter_for(*, category: str, avoid: set[str] = frozenset()) -> str:
    """A starter that fits the session's mood, not one of `avoid` (the recent ones) if possible."""
    choices = [text for text in STARTERS[category] if text not in avoid] or list(STARTERS[category])
    return random.choice(choices)
