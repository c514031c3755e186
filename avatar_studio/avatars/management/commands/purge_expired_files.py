"""Delete selfies and try-ons' garment images past their retention (the hourly beat task runs
the same purge)."""

from django.conf import settings
from django.core.management.base import BaseCommand

from avatar_studio.avatars.retention import purge_expired_files


class Command(BaseCommand):
    help = (
        "Delete the selfies (and try-ons' garment images) of completed jobs (after "
        "AVATAR_COMPLETED_SELFIE_RETENTION_HOURS) and of failed ones (after "
        "AVATAR_FAILED_SELFIE_RETENTION_DAYS), printing each file."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only print what would be deleted."
        )

    def handle(self, *args, dry_run=False, **options):
        report = purge_expired_files(dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for kind, entries in (("completed", report.completed), ("failed", report.failed)):
            for job_id, name in entries:
                what = "garment image of {} try-on" if name.startswith("garments/") else None
                what = (what or "selfie of {} avatar").format(kind)
                self.stdout.write(f"{verb} {name} ({what} {job_id})")
        self.stdout.write(
            f"{'Dry run: ' if dry_run else ''}{report.total} selfie(s) {verb}: "
            f"{len(report.completed)} of completed avatars (kept "
            f"{settings.AVATAR_COMPLETED_SELFIE_RETENTION_HOURS} h), {len(report.failed)} of "
            f"failed avatars (kept {settings.AVATAR_FAILED_SELFIE_RETENTION_DAYS} days)."
        )
