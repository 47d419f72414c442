"""Keyset paging of a conversation's messages, shared by the room, mood room and thread histories."""

from dataclasses import dataclass
from uuid import UUID

from django.db.models import Q, QuerySet

from whimsy_project.errors import InvalidInput


@dataclass(frozen=True)
class KeysetPage:
    items: list  # oldest to newest
    has_older: bool  # something older than items[0] exists (always, after a cursor)


def keyset_page(
    *,
    messages: QuerySet,
    cursors: QuerySet,
    time_field: str,
    before: UUID | None,
    after: UUID | None,
    limit: int,
    place: str,
) -> KeysetPage:
    """The newest `limit` of `messages` (older than `before` if given), or with `after` the
    oldest `limit` that came after that message (what a resumed socket missed).

    Keyset on (time_field, id), which each conversation's (parent, time, id) index serves:
    pages stay exact while new messages arrive, and deep pages cost the same as the first.
    The cursor is looked up in `cursors` (the whole conversation); one missing there is
    refused as "no such message in this <place>".
    """
    if before is not None and after is not None:
        raise InvalidInput("before, after: give one of them, not both.")
    name, cursor_id = ("after", after) if after is not None else ("before", before)
    if cursor_id is not None:
        cursor = cursors.filter(id=cursor_id).values(time_field, "id").first()
        if cursor is None:
            raise InvalidInput(f"{name}: no such message in this {place}.")
        direction = "gt" if name == "after" else "lt"
        messages = messages.filter(
            Q(**{f"{time_field}__{direction}": cursor[time_field]})
            | Q(**{time_field: cursor[time_field], f"id__{direction}": cursor["id"]})
        )
    if after is not None:
        return KeysetPage(items=list(messages.order_by(time_field, "id")[:limit]), has_older=True)
    page = list(messages.order_by(f"-{time_field}", "-id")[: limit + 1])
    has_older = len(page) > limit
    page = page[:limit]
    page.reverse()
    return KeysetPage(items=page, has_older=has_older)
