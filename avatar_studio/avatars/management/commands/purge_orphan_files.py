"""Delete stored files that no row points to (the filesystem or the S3 bucket alike)."""

from django.core.management.base import BaseCommand, CommandError

from avatar_studio.avatars.files import STORAGE_ERRORS
from avatar_studio.avatars.orphans import DEFAULT_MIN_AGE_MINUTES, purge_orphan_files


class Command(BaseCommand):
    help = (
        "Find the files in the media storage (MEDIA_ROOT or the S3 bucket) that no row of any "
        "model's file field points to, older than --older-than-minutes, and delete them, "
        "printing each one."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only print what would be deleted."
        )
        parser.add_argument(
            "--older-than-minutes",
            type=int,
            default=DEFAULT_MIN_AGE_MINUTES,
            help=(
                "Leave younger files alone: an upload or a finished prediction writes its file "
                f"before its row is saved (default {DEFAULT_MIN_AGE_MINUTES})."
            ),
        )

    def handle(self, *args, dry_run=False, older_than_minutes=DEFAULT_MIN_AGE_MINUTES, **options):
        if older_than_minutes < 1:
            raise CommandError(
                "--older-than-minutes must be 1 or more: a younger file may belong to an upload "
                "whose row is not saved yet."
            )
        try:
            report = purge_orphan_files(min_age_minutes=older_than_minutes, dry_run=dry_run)
        except STORAGE_ERRORS as error:
            raise CommandError(
                f"The media storage could not be listed ({error}); nothing was deleted. Run the "
                "command again once it answers."
            ) from error
        verb = "would delete" if dry_run else "deleted"
        for stored in report.orphans:
            if stored.name in report.failed:
                self.stderr.write(f"could not delete {stored.name}")
            else:
                self.stdout.write(
                    f"{verb} {stored.name} ({stored.size} bytes, "
                    f"modified {stored.modified_at:%Y-%m-%d %H:%M:%S %Z})"
                )
        done = [stored for stored in report.orphans if stored.name not in report.failed]
        summary = "would be deleted" if dry_run else "deleted"
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{len(done)} orphan file(s) "
            f"({sum(stored.size for stored in done)} bytes) {summary}; {report.referenced} "
            f"file(s) in use kept; {report.too_recent} unreferenced file(s) younger than "
            f"{older_than_minutes} minutes kept."
        )
        if report.failed:
            raise CommandError(
                f"{len(report.failed)} orphan file(s) could not be deleted (see the log); "
                "run the command again once the storage answers."
            )
