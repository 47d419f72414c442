from django.core.management.base import BaseCommand, CommandError

from chat.maintenance import messages_purge
from chat.management.durations import duration


class Command(BaseCommand):
    help = (
        "Delete chat messages older than --older-than from closed rooms, in batches of --batch-size. "
        "Rooms still waiting or active keep all their messages; reports keep their own evidence copy."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=duration, required=True, help="message age, e.g. 7d")
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per delete (default 1000)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, change nothing")

    def handle(self, *args, older_than, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        count = messages_purge(older_than=older_than, batch_size=batch_size, dry_run=dry_run)
        self.stdout.write(f"{'Would delete' if dry_run else 'Deleted'} {count} messages.")
