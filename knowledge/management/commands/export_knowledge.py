"""``manage.py export_knowledge FILE.jsonl``: all live knowledge pages in the import format.

Attached files are written next to the file (``anhaenge/<external_id>/<filename>``, the paths
the lines name), so that the directory imports again as it is. Standard output carries only
the lines (no files).
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from attachments.files import write_export_file
from knowledge.importing import (
    attachment_documents,
    export_pages,
    municipality_records,
    record_from_page,
)


class Command(BaseCommand):
    help = "Export all live knowledge pages as JSON Lines, readable by import_knowledge."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="target file ('-' for standard output)")
        parser.add_argument("--with-municipalities", action="store_true",
                            help="begin with one 'municipality' line per municipality "
                                 "(master data of the profile pages)")

    def handle(self, *args, **options):
        pages = export_pages()
        lines = [
            json.dumps(record_from_page(page), ensure_ascii=False)
            for page in tqdm(pages, desc="Exporting", unit="page",
                             disable=options["verbosity"] == 0 or str(options["file"]) == "-")
        ]
        if options["with_municipalities"]:
            lines = [json.dumps(r, ensure_ascii=False) for r in municipality_records()] + lines
        text = "".join(line + "\n" for line in lines)
        if str(options["file"]) == "-":
            self.stdout.write(text, ending="")
            return
        target: Path = options["file"]
        try:
            for page in pages:
                for document, _description in attachment_documents(page):
                    write_export_file(target.resolve().parent, page.external_id, document)
            # Write next to the target and rename, so a failed export never truncates a file.
            partial = target.with_name(target.name + ".partial")
            partial.write_text(text, encoding="utf-8")
            partial.replace(target)
        except (OSError, ValueError) as exc:  # ValueError: a document whose file is missing
            raise CommandError(f"Cannot write {target}: {exc}") from None
        self.stderr.write(f"{len(lines)} line(s) exported to {target}.")
