from django.core.management.base import BaseCommand

from reports.services import bans_scrub_ended


class Command(BaseCommand):
    help = (
        "Mark bans that are over (expired, or lifted by a moderator) by removing their hashed client "
        "address: the hash is kept only while it keeps someone out. The ban stays as the visitor's "
        "history. Bans on an address alone are left as they are. Expired bans stop applying on their "
        "own at expires_at; this command does not change who may chat."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be marked, change nothing")

    def handle(self, *args, dry_run, **options):
        count = bans_scrub_ended(dry_run=dry_run)
        verb = "Would mark" if dry_run else "Marked"
        self.stdout.write(f"{verb} {count} ended bans (hashed address removed).")
