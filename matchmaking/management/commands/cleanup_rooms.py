from django.core.management.base import BaseCommand

from chat.management.durations import duration
from matchmaking.maintenance import rooms_close_stale


class Command(BaseCommand):
    help = (
        "Close rooms whose people are gone, telling any live partner (partner_left). A person is gone when "
        "their socket has sent no heartbeat for --stale-after (or never did and they joined longer ago). "
        "An active room closes when one of its two people is gone; a waiting room when its occupant is gone "
        "and it is older than --waiting-older-than."
    )

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=duration, default="5m", help="heartbeat age (default 5m)")
        parser.add_argument(
            "--waiting-older-than", type=duration, default="10m", help="waiting room age (default 10m)"
        )
        parser.add_argument("--dry-run", action="store_true", help="count what would be closed, change nothing")

    def handle(self, *args, stale_after, waiting_older_than, dry_run, **options):
        closed = rooms_close_stale(stale_after=stale_after, waiting_older_than=waiting_older_than, dry_run=dry_run)
        verb = "Would close" if dry_run else "Closed"
        self.stdout.write(f"{verb} {closed.waiting} waiting and {closed.active} active rooms.")
