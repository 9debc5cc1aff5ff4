from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from knowledge.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Replace all content and media with a backup archive written by backup_data."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")

    def handle(self, *args, **options):
        if not options["yes"]:
            answer = input("This replaces ALL content of this installation. Continue? [y/N] ")
            if answer.strip().lower() not in ("y", "yes", "j", "ja"):
                raise CommandError("Restore cancelled.")
        try:
            manifest = restore_backup(options["file"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored backup from {manifest['created_at']}.")
