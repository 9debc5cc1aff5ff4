"""``manage.py rebuild_search_index``: (re-)build the passage index in resumable batches.

Without options every live knowledge page is first marked pending, then the pending pages are
indexed batch by batch, each batch in its own transaction. An interrupted run (Ctrl-C, a
killed worker) therefore leaves exactly the unfinished pages pending, and ``--stale``
continues where it stopped. Running the full rebuild again also works and is cheap: passages
whose text did not change keep their vectors (same content hash, same model).

``--stale`` handles only pages that need it: pending or failed, never indexed, or indexed with
another model (after ``KNOWLEDGE_EMBEDDING_MODEL`` changed); when no page is stale it does not
load the model (``make run`` calls it on every start). Both modes first delete the passages of
pages that are no longer live.

If the model cannot be loaded the command fails (a rebuild is run to get vectors; silently
writing none would hide the problem) unless ``--fulltext-only`` asks for passages without
vectors, which keeps full-text search complete until the model is available.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from search import embedding
from search.indexing import state, writer
from search.models import Passage


class Command(BaseCommand):
    help = (
        "Rebuild the semantic search index (passages and their embeddings). Batches are "
        "committed one by one: after an interruption, run it again with --stale to continue."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale", action="store_true",
            help="Only pages that are pending, failed, never indexed or indexed with another "
                 "model (and remove passages of pages that are no longer live).",
        )
        parser.add_argument(
            "--batch-size", type=int, default=settings.KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE,
            help="Pages per batch and per transaction (default: %(default)s).",
        )
        parser.add_argument(
            "--reembed", action="store_true",
            help="Discard all stored vectors first and embed every passage again (use after "
                 "replacing a model's weights without changing its name).",
        )
        parser.add_argument(
            "--fulltext-only", action="store_true",
            help="Write passages without vectors (for when the model is not available yet); "
                 "pages stay pending for a later --stale run.",
        )
        parser.add_argument(
            "--check", action="store_true",
            help="Only report the state of the index; exit with an error if pages are stale.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, **options):
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["reembed"] and (options["stale"] or options["fulltext_only"]):
            raise CommandError("--reembed cannot be combined with --stale or --fulltext-only.")

        # --stale asks which pages are stale before loading the model, which takes seconds (on
        # every `make run`) and is not needed when none are; the answer is used below too.
        configured = embedding.configured_model_id()
        stale = (state.stale_page_ids(configured)
                 if options["stale"] and not options["fulltext_only"] else None)
        if stale == []:
            self._remove_unpublished()
            self.stdout.write(self.style.SUCCESS("The search index is up to date."))
            return

        embedder = None
        if not options["fulltext_only"]:
            try:
                embedder = embedding.get_embedder()
            except embedding.EmbeddingUnavailable as exc:
                if options["check"]:
                    self.stdout.write(json.dumps(state.index_status(None), indent=2))
                raise CommandError(
                    f"The embedding model is not available: {exc}\n"
                    "Fix KNOWLEDGE_EMBEDDING_MODEL (or run `python manage.py "
                    "build_embedding_model`), or run with --fulltext-only to index for full-text "
                    "search only."
                ) from exc
            self._check_dimensions(embedder)
        model_id = embedder.model_id if embedder is not None else ""

        if options["check"]:
            return self._check(model_id)

        self._remove_unpublished()
        if not options["stale"]:
            if options["reembed"]:
                Passage.objects.update(embedding=None, model_id="")
                self.stdout.write("Discarded all stored vectors.")
            marked = state.mark_pending(reason="full rebuild")
            self.stdout.write(f"Marked {marked} live pages for indexing.")

        # Passages of pages no longer live, just removed, never made a live page stale.
        page_ids = (stale if stale is not None and model_id == configured
                    else state.stale_page_ids(model_id))
        if not page_ids:
            self.stdout.write(self.style.SUCCESS("The search index is up to date."))
            return
        label = embedder.model_id if embedder is not None else "no vectors (full text only)"
        self.stdout.write(f"Indexing {len(page_ids)} pages with {label}, "
                          f"{options['batch_size']} pages per batch.")

        total = writer.IndexResult()
        size = options["batch_size"]
        with tqdm(total=len(page_ids), unit="page", disable=options["no_progress"],
                  file=self.stderr._out) as progress:
            for start in range(0, len(page_ids), size):
                batch = page_ids[start:start + size]
                result = writer.index_pages(batch, embedder=embedder,
                                              without_vectors=embedder is None)
                total.merge(result)
                progress.update(len(batch))
                progress.set_postfix(embedded=total.embedded, reused=total.reused)

        self.stdout.write(
            f"Indexed {len(total.indexed)} pages, {len(total.pending)} without vectors, "
            f"{len(total.failed)} failed, {len(total.removed)} removed; embedded "
            f"{total.embedded} passages, reused {total.reused} stored vectors."
        )
        if total.failed:
            raise CommandError(
                f"{len(total.failed)} pages could not be indexed (ids {total.failed[:20]}); "
                "see the log and search_pageindexstate.error, then run again with --stale."
            )
        if total.pending and embedder is not None:
            raise CommandError(
                f"{len(total.pending)} pages were written without vectors because the model "
                "failed while encoding; run again with --stale."
            )
        self.stdout.write(self.style.SUCCESS("Done."))

    def _remove_unpublished(self):
        removed = writer.remove_unpublished()
        if removed:
            self.stdout.write(f"Removed the passages of {len(removed)} pages that are no "
                              "longer live.")

    def _check_dimensions(self, embedder):
        column = state.column_dimensions()
        if column is not None and column != embedder.dimensions:
            raise CommandError(
                f"The model produces {embedder.dimensions}-dimensional vectors but the "
                f"embedding column has {column}; run `python manage.py set_embedding_dimension "
                f"{embedder.dimensions}` first (see docs/search-indexing.md)."
            )

    def _check(self, model_id):
        status = state.index_status(model_id)
        status["model_id"] = model_id
        self.stdout.write(json.dumps(status, indent=2, ensure_ascii=False))
        if status["stale"] or status["pages_not_live_with_passages"]:
            raise CommandError(
                f"{status['stale']} pages are stale; run `python manage.py "
                "rebuild_search_index --stale`."
            )
