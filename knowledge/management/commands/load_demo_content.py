"""Load the demo content: member municipalities, topics and the knowledge pages.

The texts live in ``knowledge/demo_content/`` in the import format, so the demo also
exercises the importer. The command is idempotent: it runs once on a fresh database and
afterwards only when ``--update`` asks to bring changed demo files in (edits made in the
admin would otherwise be overwritten on every ``make run``).
"""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from tqdm import tqdm
from wagtail.models import PageViewRestriction

from knowledge.importing import import_records, validate_lines
from knowledge.models import KnowledgePage, Municipality, Topic

DEMO_DIR = Path(__file__).resolve().parent.parent.parent / "demo_content"

# Internal minutes of a running project: visible to logged-in members only.
RESTRICTED_DEMO_PAGES = ["prot-rahden-4", "prot-rahden-5"]


class Command(BaseCommand):
    help = "Load the demo municipalities, topics and knowledge pages (once; --update to sync)."

    def add_arguments(self, parser):
        parser.add_argument("--update", action="store_true",
                            help="re-import the demo files even if demo content exists")

    def handle(self, *args, **options):
        lines = []
        for path in sorted(DEMO_DIR.glob("*.jsonl")):
            lines.extend(path.read_text(encoding="utf-8").splitlines())
        external_ids = [json.loads(line)["external_id"] for line in lines if line.strip()]
        if not options["update"] and KnowledgePage.objects.filter(
            external_id__in=external_ids
        ).exists():
            self.stdout.write("Demo content is already loaded (use --update to re-sync).")
            return

        valid, errors = validate_lines(lines, base_dir=DEMO_DIR)
        if errors:
            raise CommandError("Demo content is invalid: " + "; ".join(map(str, errors)))
        with transaction.atomic():
            self._load_master_data()
            with tqdm(total=len(valid), desc="Demo content", unit="page",
                      disable=options["verbosity"] == 0) as progress:
                result = import_records(valid, progress=progress)
            self._restrict_internal_pages()
        self.stdout.write(
            f"Demo content: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )

    def _load_master_data(self):
        for item in json.loads((DEMO_DIR / "municipalities.json").read_text(encoding="utf-8")):
            Municipality.objects.update_or_create(
                name=item["name"],
                defaults={"kind": item["kind"], "district": item["district"],
                          "population": item["population"],
                          "contact_role": item.get("contact_role", ""),
                          "contact_email": item.get("contact_email", "")},
            )
        for item in json.loads((DEMO_DIR / "topics.json").read_text(encoding="utf-8")):
            Topic.objects.update_or_create(
                name=item["name"], defaults={"description": item["description"]}
            )

    def _restrict_internal_pages(self):
        for page in KnowledgePage.objects.filter(external_id__in=RESTRICTED_DEMO_PAGES):
            if not PageViewRestriction.objects.filter(page=page).exists():
                PageViewRestriction.objects.create(
                    page=page, restriction_type=PageViewRestriction.LOGIN
                )
