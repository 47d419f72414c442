from django.core.management.base import BaseCommand, CommandError

from chat.maintenance import messages_purge, more_purges
from chat.management.durations import duration


class Command(BaseCommand):
    help = (
        "Delete chat messages older than --older-than from closed rooms, in batches of --batch-size. "
        "Rooms still waiting or active keep all their messages; reports keep their own evidence copy. "
        "Then the apps' own purges, each by its setting: thread messages older than THREAD_MESSAGE_RETENTION_DAYS, "
        "threads ended THREAD_ENDED_RETENTION_DAYS ago, keep-in-touch asks whose window has passed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=duration, required=True, help="message age, e.g. 7d")
        parser.add_argument("--batch-size", type=int, default=1000, help="rows per delete (default 1000)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be deleted, change nothing")

    def handle(self, *args, older_than, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        count = messages_purge(older_than=older_than, batch_size=batch_size, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} messages.")
        for noun, purge in more_purges():
            self.stdout.write(f"{verb} {purge(batch_size=batch_size, dry_run=dry_run)} {noun}.")
