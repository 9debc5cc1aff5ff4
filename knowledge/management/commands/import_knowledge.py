"""``manage.py import_knowledge FILE.jsonl [--skip-invalid]`` (format: knowledge/importing.py)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from knowledge.importing import ImportFailed, import_records, validate_lines


class Command(BaseCommand):
    help = (
        "Import knowledge pages from a JSON Lines file. Every bad line is reported with its "
        "number and reason; nothing is imported unless --skip-invalid is given. The exit "
        "status is non-zero whenever a line was bad."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="JSON Lines file, one page per line")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid lines even if others are bad (still exits non-zero)",
        )

    def handle(self, *args, **options):
        path: Path = options["file"]
        try:
            # Only "\n" ends a line: str.splitlines() also breaks at U+2028/U+2029/U+0085,
            # which the export writes raw inside JSON strings (text pasted from Word or PDF).
            lines = path.read_text(encoding="utf-8").split("\n")  # (blank lines are skipped)
        except FileNotFoundError:
            raise CommandError(f"File not found: {path}") from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text: {exc}") from None
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from None

        valid, errors = validate_lines(lines, base_dir=path.resolve().parent)
        for error in errors:
            self.stderr.write(f"{path.name}: {error}")
        if errors and not options["skip_invalid"]:
            raise CommandError(
                f"{len(errors)} invalid line(s); nothing was imported "
                "(fix them, or use --skip-invalid to import the valid lines)."
            )

        with tqdm(total=len(valid), desc="Importing", unit="page",
                  disable=options["verbosity"] == 0) as progress:
            try:
                result = import_records(valid, progress=progress)
            except ImportFailed as exc:
                raise CommandError(f"{path.name}: {exc.error}; nothing was imported.") from None
        self.stdout.write(
            f"{result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
        if errors:
            raise CommandError(f"{len(errors)} invalid line(s) were skipped.")
