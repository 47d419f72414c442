"""Generated display names and avatars for mood rooms and threads.

A visitor's generated name and avatar are derived from their UUID, so the same person
sees the same name before and after their row exists (GET /api/me writes nothing), and
no lookup table is needed. The 1:1 random chat never shows them.
"""

import random
import unicodedata
from uuid import UUID

from whimsy_project.errors import InvalidInput

MIN_NAME_CHARS = 2
MAX_NAME_CHARS = 24

_ADJECTIVES = (
    "Quiet", "Gentle", "Brave", "Bright", "Calm", "Clever", "Cosy", "Curious", "Daring", "Dreamy",
    "Eager", "Fuzzy", "Glad", "Golden", "Happy", "Hazy", "Honest", "Humble", "Jolly", "Kind",
    "Lively", "Lucky", "Mellow", "Merry", "Misty", "Nimble", "Patient", "Peaceful", "Playful", "Polite",
    "Proud", "Rosy", "Silver", "Sleepy", "Snowy", "Sunny", "Swift", "Tender", "Warm", "Witty",
)
_ANIMALS = (
    "Heron", "Otter", "Badger", "Finch", "Fox", "Hare", "Hedgehog", "Koala", "Lark", "Lynx",
    "Marten", "Mole", "Moth", "Newt", "Owl", "Panda", "Puffin", "Quail", "Raven", "Robin",
    "Seal", "Sparrow", "Squirrel", "Stoat", "Swan", "Tiger", "Toad", "Turtle", "Vole", "Wren",
    "Beaver", "Bison", "Crane", "Deer", "Dolphin", "Falcon", "Gecko", "Lemur", "Pelican", "Walrus",
)
# Emoji without "#" (the avatar is stored as emoji + "#rrggbb") on colours that keep
# white-on-colour text readable in light and dark themes.
_AVATAR_EMOJI = (
    "🦊", "🦉", "🐢", "🐧", "🦔", "🐼", "🐨", "🦦", "🐝", "🦋", "🐙", "🐳", "🦜", "🐸", "🐰", "🦁",
    "🌻", "🌙", "⭐", "🍀", "🌈", "🍄", "🌊", "🔥",
)
_AVATAR_COLOURS = (
    "#2f6f9f", "#7a4fa3", "#2e7d5b", "#b5532d", "#9c3d67", "#5a6b2f", "#33628a", "#8a5a00",
    "#3d5a99", "#6b4f3a", "#1f7a7a", "#a23b3b",
)


def _rng(user_id: UUID) -> random.Random:
    return random.Random(user_id.int)


def display_name_for(user_id: UUID) -> str:
    """The generated two-word name of this visitor, e.g. "Quiet Heron"."""
    rng = _rng(user_id)
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_ANIMALS)}"


def avatar_for(user_id: UUID) -> str:
    """The generated avatar of this visitor: an emoji and a colour, stored as "🦊#2f6f9f"."""
    rng = random.Random(~user_id.int)  # independent of the name's draw
    return f"{rng.choice(_AVATAR_EMOJI)}{rng.choice(_AVATAR_COLOURS)}"


def avatar_parts(avatar: str) -> dict:
    """{"emoji", "color"} of a stored avatar, as the API and frames show it."""
    emoji, _, colour = avatar.rpartition("#")
    return {"emoji": emoji, "color": f"#{colour}"}


def clean_display_name(name: str) -> str:
    """A chosen name as stored: trimmed, inner whitespace collapsed, 2-24 characters, no control characters."""
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs", "Co", "Cn"} for char in name):
        raise InvalidInput("username: control and invisible characters are not allowed.")
    name = " ".join(name.split())
    if not MIN_NAME_CHARS <= len(name) <= MAX_NAME_CHARS:
        raise InvalidInput(
            f"username: {MIN_NAME_CHARS}-{MAX_NAME_CHARS} characters after trimming, got {len(name)}."
        )
    return name
