from datetime import timedelta

from django.core.management.base import BaseCommand
from django.utils import timezone

from reports.selectors import moderation_stats


class Command(BaseCommand):
    help = (
        "Print open reports, active bans, waiting and active rooms now, and the reports, bans "
        "(automatic ones apart), rooms and messages created in the last --hours (default 24)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24, help="the look-back window (default 24)")
        parser.add_argument("--dry-run", action="store_true", help="accepted like the other commands; this one only reads")

    def handle(self, *args, hours, **options):
        stats = moderation_stats(since=timezone.now() - timedelta(hours=hours))
        width = max(len(name) for name in stats)
        for name, value in stats.items():
            self.stdout.write(f"{name.replace('_since', f'_last_{hours}h'):<{width + 4}} {value}")
