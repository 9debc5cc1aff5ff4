import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from knowledge.backup import BackupError, create_backup


class Command(BaseCommand):
    help = "Write a consistent backup (database dump + media) as one .tar.gz archive."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="archive path (default: "
                            "KNOWLEDGE_DATA_DIR/backups/wissensnetz-<timestamp>.tar.gz)")

    def handle(self, *args, **options):
        target = options["output"] or (
            settings.KNOWLEDGE_DATA_DIR / "backups"
            / f"wissensnetz-{dt.datetime.now():%Y%m%d-%H%M%S}.tar.gz"
        )
        try:
            path = create_backup(target)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup written: {path}")
