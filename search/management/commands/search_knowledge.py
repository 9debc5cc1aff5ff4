"""``manage.py search_knowledge "TEXT"``: the search from the command line, as an anonymous user.

Anonymous on purpose: a shell on the server must not become a way around page privacy, and the
output is what the public search shows. ``--json`` prints a list of result objects (``title``,
``url``, ``type``, ``municipality``, ``external_id``, ``score``, ``snippet``, ``date``,
``topics``) for scripts; the snippet keeps its ``<mark>`` HTML there.
"""

from __future__ import annotations

import html
import json

from django.contrib.auth.models import AnonymousUser
from django.core.management.base import BaseCommand, CommandError

from search.query import MODES, SearchError, resolve_filters
from search.retrieval import search


class Command(BaseCommand):
    help = "Search the knowledge base (anonymous permissions)."

    def add_arguments(self, parser):
        parser.add_argument("text", help="The search text.")
        parser.add_argument("--mode", choices=MODES, default="hybrid")
        parser.add_argument("--limit", type=int, default=10, help="Number of results (1-100).")
        parser.add_argument("--exclude-municipality", action="append", default=[],
                            metavar="NAME", help="Leave out this municipality (repeatable).")
        parser.add_argument("--municipality", action="append", default=[], metavar="NAME")
        parser.add_argument("--type", action="append", default=[], dest="types",
                            metavar="TYPE", help="project, session_protocol, lesson_learned, "
                            "best_practice (repeatable).")
        parser.add_argument("--topic", action="append", default=[], metavar="NAME")
        parser.add_argument("--json", action="store_true", help="Print JSON.")

    def handle(self, *args, **options):
        if not 1 <= options["limit"] <= 100:
            raise CommandError("--limit muss zwischen 1 und 100 liegen.")
        try:
            filters = resolve_filters(
                types=options["types"], municipality=options["municipality"],
                exclude_municipality=options["exclude_municipality"], topic=options["topic"],
            )
            results = search(options["text"], user=AnonymousUser(), mode=options["mode"],
                             limit=options["limit"], filters=filters)
        except SearchError as exc:
            raise CommandError(str(exc)) from exc
        if results.degraded:
            self.stderr.write(self.style.WARNING(f"Eingeschränkt: {results.notice}"))
        if options["json"]:
            self.stdout.write(json.dumps([hit.as_dict() for hit in results.results],
                                         ensure_ascii=False, indent=2))
            return
        if not results.results:
            self.stdout.write("Keine Treffer.")
            return
        self.stdout.write(f"{results.total} Treffer ({results.mode}):")
        for rank, hit in enumerate(results.results, start=1):
            snippet = html.unescape(hit.snippet.replace("<mark>", "»").replace("</mark>", "«"))
            self.stdout.write(
                f"\n{rank:>2}. {hit.title}  [{hit.type_label} · {hit.municipality} · "
                f"{hit.date:%d.%m.%Y}]  {hit.score:.3f}\n    {hit.url}\n    {snippet}"
            )
            if hit.attachment is not None:
                self.stdout.write(f"    aus Anhang: {hit.attachment.label} "
                                  f"({hit.attachment.url})")
