"""``manage.py restore ARCHIVE``: a backup into an empty deployment (database and MEDIA_ROOT)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wechathhu import backup


class Command(BaseCommand):
    help = (
        "Restore an archive written by `manage.py backup` into this deployment, whose database must "
        "have no tables and whose MEDIA_ROOT must hold no files. Run `manage.py migrate` afterwards "
        "when the code is newer than the backup."
    )
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path)

    def handle(self, *args, archive, **options):
        try:
            manifest = backup.restore(archive)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']} ({manifest['engine']} database "
            f"{manifest['database']}, {manifest['media_files']} uploaded files)."
        )
