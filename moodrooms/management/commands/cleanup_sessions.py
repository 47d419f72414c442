from django.core.management.base import BaseCommand

from chat.management.durations import duration
from moodrooms.services import session_members_sweep, sessions_close_empty, sessions_prompt_quiet


class Command(BaseCommand):
    help = (
        "Mood room housekeeping, cleanup_rooms' sibling. Ends memberships whose socket is gone (no heartbeat "
        "for --stale-after, or never connected and joined longer ago), telling the room (user_left, reason "
        "lost); closes overflow sessions that have been empty for --empty-older-than (the seeded ones stay); "
        "posts a conversation starter in sessions quiet for MOOD_ROOM_QUIET_SECONDS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=duration, default="5m", help="heartbeat age (default 5m)")
        parser.add_argument(
            "--empty-older-than", type=duration, default="10m", help="empty overflow session age (default 10m)"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would change, change nothing")

    def handle(self, *args, stale_after, empty_older_than, dry_run, **options):
        ended = session_members_sweep(stale_after=stale_after, connect_grace=stale_after, dry_run=dry_run)
        closed = sessions_close_empty(older_than=empty_older_than, dry_run=dry_run)
        prompted = 0 if dry_run else sessions_prompt_quiet()
        if dry_run:
            self.stdout.write(f"Would end {ended} stale memberships and close {closed} empty overflow sessions.")
        else:
            self.stdout.write(
                f"{ended} stale memberships ended, {closed} empty overflow sessions closed, "
                f"{prompted} quiet sessions given a starter."
            )
