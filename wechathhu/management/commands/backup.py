"""``manage.py backup [--output PATH]``: the database and the uploaded files in one archive."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wechathhu import backup


class Command(BaseCommand):
    help = (
        "Back up the database and the uploaded files (MEDIA_ROOT) into one .tar.gz, consistent with "
        "each other, while the site runs. Default: VAR_DIR/backups/wechathhu-<time>.tar.gz."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="archive file, or a folder to write it into")

    def handle(self, *args, output, **options):
        try:
            summary = backup.backup(output=output)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Backed up the {summary.engine} database ({summary.database_bytes} bytes) and "
            f"{summary.media_files} uploaded files to {summary.path}"
        )
