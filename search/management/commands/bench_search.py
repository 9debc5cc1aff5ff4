"""``manage.py bench_search --passages 100000``: speed of indexing, search and matching.

Each corpus size (``--checkpoints``, default 10,000, and ``--passages``) is measured in a
child process on a database of its own (``knowledge.settings.bench``: an embedded PostgreSQL
in ``KNOWLEDGE_DATA_DIR/bench/<model>-<hash>/<size>/pgdata``), never the user's. The clusters are
kept: an interrupted run continues with the corpus built so far, a second run measures again
without rebuilding (``--build-only`` builds them ahead of a quiet measuring window), and
``--fresh`` starts over.

1. The demo content and a synthetic corpus from demo and dataset texts
   (:mod:`search.bench_corpus`) go in page by page through the real importer and indexer.
2. Indexing throughput (on the smallest corpus, if it is within ``--real-passages``):
   ``--sample-pages`` synthetic pages are indexed with the real model and compared with raw
   ``SentenceTransformer.encode`` of the same passage texts.
3. Per corpus size: search latency p50/p95 per mode against the floor (query embedding + raw
   HNSW query), matching against a hybrid search with the same text, and the model's
   query-embedding latency; then floor and hybrid search once more in turn, query by query,
   for a ratio that changes of the machine's pace between rows move less.
4. Peak memory of the process and the size of the database and the HNSW index.

See :mod:`search.benchmark` for what exactly is timed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from search import benchmark
from search.embedding import model_environment

CHILD_FLAG = "--inside-bench-database"
DEFAULT_DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "musterdatenkatalog"
DEMO_DIR = Path(settings.BASE_DIR) / "knowledge" / "demo_content"
DEMO_QUERIES = Path(settings.BASE_DIR) / "search" / "judgements" / "demo_queries.jsonl"
IMPORT_BATCH = 50


class Command(BaseCommand):
    help = ("Benchmark indexing throughput, search latency per mode and matching latency on a "
            "synthetic corpus in a separate database.")

    def add_arguments(self, parser):
        parser.add_argument("--passages", type=int, default=100_000,
                            help="Corpus size for the last checkpoint (default: %(default)s).")
        parser.add_argument("--checkpoints", type=int, nargs="*", default=[10_000],
                            help="Smaller corpus sizes measured on the way (default: 10000).")
        parser.add_argument("--sample-pages", type=int, default=200,
                            help="Pages indexed with the real model for the throughput figure.")
        parser.add_argument("--queries", type=int, default=60,
                            help="Queries (and descriptions) timed per mode and checkpoint.")
        parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                            help="Dataset directory whose texts feed the corpus "
                                 "(Musterdatenkatalog format; optional).")
        parser.add_argument("--real-passages", type=int, default=100_000, metavar="N",
                            help="Passages built by the real indexer; the rest in bulk.")
        parser.add_argument("--embed-all", action="store_true",
                            help="Embed every passage of the scale corpus with the model "
                                 "instead of sentence-mean vectors (slow).")
        parser.add_argument("--fresh", action="store_true",
                            help="Delete the benchmark database first.")
        parser.add_argument("--build-only", action="store_true",
                            help="Build (or complete) the corpora without measuring.")
        parser.add_argument("--throughput-only", action="store_true",
                            help="Only measure indexing throughput (with attached files) and "
                                 "PDF extraction, without building the scale corpus.")
        parser.add_argument("--measure-throughput", action="store_true",
                            help=argparse.SUPPRESS)
        parser.add_argument(CHILD_FLAG, action="store_true", dest="child",
                            help="Internal: run inside the benchmark database.")

    def handle(self, *args, **options):
        if options["passages"] < 1000:
            raise CommandError("--passages must be at least 1000.")
        if options["sample_pages"] < 10 or options["queries"] < 10:
            raise CommandError("--sample-pages and --queries must be at least 10.")
        if options["child"]:
            return self._run(options)
        return self._spawn(options)

    # --- parent -----------------------------------------------------------------------------

    def _spawn(self, options):
        model = str(settings.KNOWLEDGE_EMBEDDING_MODEL)
        external = os.environ.get("KNOWLEDGE_BENCH_DATABASE_URL", "").strip()
        sizes = sorted({n for n in options["checkpoints"] if n < options["passages"]}
                       | {options["passages"]})
        if external and len(sizes) > 1:
            raise CommandError("With KNOWLEDGE_BENCH_DATABASE_URL give a single size "
                               "(--checkpoints without values).")
        if options["throughput_only"] and sizes[0] > options["real_passages"]:
            raise CommandError("--throughput-only needs a size at or below --real-passages.")
        if options["fresh"] and external:
            raise CommandError("--fresh only deletes the embedded benchmark databases; "
                               "recreate the KNOWLEDGE_BENCH_DATABASE_URL database yourself.")
        env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        env.update({
            "DJANGO_SETTINGS_MODULE": "knowledge.settings.bench",
            **model_environment(),
        })
        for position, size in enumerate(sizes):
            # One cluster per model and size: different models' vectors never share a corpus.
            data_dir = (Path(settings.KNOWLEDGE_DATA_DIR) / "bench" / "{}-{}".format(
                re.sub(r"[^A-Za-z0-9._-]+", "_", Path(model).name),
                hashlib.sha256(model.encode()).hexdigest()[:8]) / str(size))
            if options["fresh"]:
                shutil.rmtree(data_dir, ignore_errors=True)
            argv = [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "bench_search",
                    CHILD_FLAG, "--passages", str(size), "--sample-pages",
                    str(options["sample_pages"]), "--queries", str(options["queries"]),
                    "--dataset", str(options["dataset"]), "--real-passages",
                    str(options["real_passages"])]
            # Only on a page-by-page corpus: re-indexing would delete bulk passages (bench_bulk).
            if position == 0 and not options["build_only"] \
                    and size <= options["real_passages"]:
                argv.append("--measure-throughput")
            if options["embed_all"]:
                argv.append("--embed-all")
            if options["build_only"]:
                argv.append("--build-only")
            if options["throughput_only"]:
                argv.append("--throughput-only")
            self.stdout.write(f"Benchmark database for {size} passages: {external or data_dir}")
            completed = subprocess.run(argv, env={**env, "KNOWLEDGE_BENCH_DATA_DIR":
                                                  str(data_dir)}, check=False)
            if completed.returncode:
                raise CommandError(f"benchmark failed (exit status {completed.returncode})")

    # --- child ------------------------------------------------------------------------------

    def _run(self, options):
        import torch
        from django.contrib.auth.models import AnonymousUser
        from tqdm import tqdm

        from search import bench_bulk, bench_corpus
        from search.embedding import get_embedder

        call_command("migrate", verbosity=0, interactive=False)
        if settings.KNOWLEDGE_EMBEDDING_DIMENSIONS != 384:
            call_command("set_embedding_dimension", settings.KNOWLEDGE_EMBEDDING_DIMENSIONS,
                         verbosity=0)
        call_command("load_demo_content", verbosity=0)
        embedder = get_embedder()
        self.stdout.write(f"Model {embedder.model_id} ({settings.KNOWLEDGE_EMBEDDING_MODEL}), "
                          f"batch size {embedder.batch_size}, torch threads "
                          f"{torch.get_num_threads()}")
        dataset = options["dataset"] if options["dataset"].exists() else None
        corpus = _Corpus(bench_corpus.TextPool.from_sources(DEMO_DIR, dataset))
        figures = {"model": embedder.model_id,
                   "vectors": "model" if options["embed_all"] else "sentence mean"}
        if options["measure_throughput"]:
            figures["indexing"] = self._throughput(corpus, embedder, options["sample_pages"])
        if options["throughput_only"]:
            self._report_throughput(figures["indexing"])
            return
        if options["embed_all"]:
            scale_embedder = embedder
        else:
            scale_embedder = bench_corpus.SentenceMeanEmbedder(embedder)
            if corpus.unfinished(options["passages"], embedder.model_id):
                # Shared by the corpus sizes of one model (the directory names the model).
                cache = Path(os.environ["KNOWLEDGE_BENCH_DATA_DIR"]).parent / "sentences.npz"
                scale_embedder.load(cache)
                units = sorted({*corpus.pool.titles, *corpus.pool.headings,
                                *corpus.pool.sentences})
                with tqdm(total=len(units), desc="Embed sentences", unit="text") as bar:
                    scale_embedder.prime(units, progress=bar)
                scale_embedder.save(cache)
        passages = corpus.grow_to(min(options["passages"], options["real_passages"]),
                                  scale_embedder)
        if options["passages"] > passages:
            passages = bench_bulk.grow_in_bulk(options["passages"], corpus.pool, scale_embedder)
        if options["build_only"]:
            self.stdout.write(f"Corpus ready: {passages} passages.")
            return
        queries, descriptions = bench_corpus.query_texts(DEMO_QUERIES, dataset,
                                                         options["queries"])
        figures["latency"] = self._latencies(passages, embedder, queries, descriptions,
                                             AnonymousUser())
        figures["memory"] = {"peak_rss_mb": round(benchmark.peak_rss_mb()),
                             **{f"{k}_mb": round(v) for k, v in
                                benchmark.database_sizes_mb().items()}}
        self._report(figures)

    def _throughput(self, corpus, embedder, sample_pages: int) -> dict:
        from attachments.benchmark import pdf_pages_per_second
        from attachments.models import DocumentText
        from search import bench_corpus
        from search.indexing.chunking import budget_for
        from search.indexing.page_chunks import chunk_page
        from search.indexing.writer import index_pages, read_attachments
        from search.models import PageIndexState, Passage

        page_ids = corpus.ensure_pages(sample_pages)
        documents = bench_corpus.attach_demo_files(
            corpus.pages(page_ids[::bench_corpus.ATTACHMENT_EVERY]), DEMO_DIR / "attachments")
        Passage.objects.filter(page_id__in=page_ids).delete()
        PageIndexState.objects.filter(page_id__in=page_ids).delete()
        budget = budget_for(embedder)
        read_attachments(page_ids)  # for the texts of the raw encode; read again below
        chunks = [chunk for page in corpus.pages(page_ids) for chunk in chunk_page(page, budget)]
        texts = [chunk.embedding_text for chunk in chunks]
        from_files = sum(1 for chunk in chunks if chunk.document_id)
        DocumentText.objects.filter(document__in=documents).delete()
        self.stdout.write(f"Throughput sample: {len(page_ids)} pages, {len(texts)} passages "
                          f"({from_files} from {len(documents)} attached files)")
        raw = benchmark.raw_encode_rate(embedder, texts)
        batch = settings.KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE
        started = time.perf_counter()
        embedded = 0
        for start in range(0, len(page_ids), batch):
            embedded += index_pages(page_ids[start:start + batch], embedder=embedder).embedded
        indexed = embedded / (time.perf_counter() - started)
        return {"passages": len(texts), "embedded": embedded, "from_files": from_files,
                "files": len(documents),
                "raw_encode_per_s": round(raw, 1), "indexing_per_s": round(indexed, 1),
                "ratio": round(indexed / raw, 3),
                "extraction": pdf_pages_per_second(
                    DEMO_DIR / "attachments" / bench_corpus.DEMO_PDF)}

    def _latencies(self, passages, embedder, queries, descriptions, user) -> dict:
        from search.matching import match_project
        from search.retrieval import search

        def floor(text):
            benchmark.raw_hnsw_query(embedder.embed_query(text))

        probe = embedder.embed_query(queries[0])
        if not benchmark.raw_hnsw_uses_index(probe):
            raise CommandError("the raw HNSW floor query does not use the HNSW index")
        self.stdout.write(f"Timing {len(queries)} queries at {passages} passages …")
        rows = [benchmark.measure("query embedding", queries, embedder.embed_query),
                benchmark.measure("floor: embedding + raw HNSW", queries, floor)]
        # Each call gets a fresh request, as the views pass theirs (it caches the site's root
        # paths for the result URLs, per request).
        for mode in ("fulltext", "vector", "hybrid"):
            rows.append(benchmark.measure(
                f"search {mode}", queries,
                lambda text, m=mode: search(text, user=user, mode=m, limit=10,
                                            request=benchmark.web_request())))
        # Matching against a search with the same text, the two in turn description by
        # description: measured one block after the other, the same code gave median ratios
        # from 1.07 to 1.29 in three runs (2026-12-07), the machine's pace between the blocks.
        rows.extend(benchmark.measure_interleaved(descriptions, {
            "search hybrid (description)":
                lambda text: search(text, user=user, mode="hybrid", limit=10,
                                    request=benchmark.web_request()),
            "matching (description)":
                lambda text: match_project(text, user=user, request=benchmark.web_request()),
        }).values())
        def hybrid(text):
            return search(text, user=user, mode="hybrid", limit=10,
                          request=benchmark.web_request())

        turns = benchmark.interleaved_figures(queries, floor, hybrid)
        breakdown = benchmark.time_by_statement(queries, hybrid)
        cpu = benchmark.cpu_per_call(queries, hybrid)
        return {"passages": passages,
                "latency_ms": {r.label: {"p50": round(r.p50, 1), "p95": round(r.p95, 1),
                                         "n": len(r.samples_ms)} for r in rows},
                "hybrid_breakdown_ms": {k: round(v, 2) for k, v in breakdown.items()},
                "hybrid_cpu_ms": {k: None if v is None else round(v, 1) for k, v in cpu.items()},
                "interleaved": turns,
                "matching_vs_search": benchmark.paired_ratio(rows[-1], rows[-2])}

    def _report_throughput(self, ix: dict):
        write = self.stdout.write
        write(f"\nIndexing ({ix['passages']} passages, {ix['from_files']} of them from "
              f"{ix['files']} attached files read in the timed run, real model): "
              f"{ix['indexing_per_s']} passages/s vs raw encode {ix['raw_encode_per_s']}/s "
              f"= {ix['ratio']:.2f} (target >= 0.80: "
              f"{'met' if ix['ratio'] >= 0.8 else 'MISSED'})")
        ex = ix["extraction"]
        write(f"PDF extraction ({ex['file']}, {ex['pages']} pages x {ex['repeats']}): "
              f"{ex['worker_pages_per_s']} pages/s through the worker process, "
              f"{ex['in_process_pages_per_s']} pages/s in process")

    def _report(self, figures: dict):
        write = self.stdout.write
        latency = figures["latency"]
        write(f"\n### bench_search: {figures['model']}, {latency['passages']} passages "
              f"(scale corpus vectors: {figures['vectors']})")
        if "indexing" in figures:
            self._report_throughput(figures["indexing"])
        write(benchmark.latency_report(latency))
        memory = figures["memory"]
        write(f"Peak memory of the benchmark process: {memory['peak_rss_mb']} MB; database "
              f"{memory['database_mb']} MB, passages incl. indexes {memory['passages_mb']} MB, "
              f"HNSW index {memory['hnsw_mb']} MB\n")


class _Corpus:
    """The synthetic pages in the benchmark database: created on demand, resumable."""

    def __init__(self, pool):
        from knowledge.models import Municipality, Topic

        self.pool = pool
        self.municipalities = sorted(Municipality.objects.values_list("name", flat=True))
        self.topics = sorted(Topic.objects.values_list("name", flat=True))

    def unfinished(self, passages: int, model_id: str) -> bool:
        """Does reaching ``passages`` still need embedding (pages to add or to index)?"""
        from search.indexing.state import stale_page_ids
        from search.models import Passage

        return Passage.objects.count() < passages or bool(stale_page_ids(model_id))

    def existing(self) -> int:
        from knowledge.models import KnowledgePage
        from search.bench_corpus import EXTERNAL_ID_PREFIX

        return KnowledgePage.objects.filter(external_id__startswith=EXTERNAL_ID_PREFIX).count()

    def pages(self, page_ids):
        from knowledge.models import KnowledgePage

        pages = KnowledgePage.objects.filter(pk__in=page_ids).specific()
        return sorted(pages, key=lambda page: page.pk)

    def ensure_pages(self, count: int) -> list[int]:
        """Ids of synthetic pages 0..count-1, creating the missing ones."""
        from knowledge.models import KnowledgePage
        from search.bench_corpus import EXTERNAL_ID_PREFIX

        self._create(range(self.existing(), count))
        ids = [f"{EXTERNAL_ID_PREFIX}{n:07d}" for n in range(count)]
        return sorted(KnowledgePage.objects.filter(external_id__in=ids)
                      .values_list("pk", flat=True))

    def _create(self, numbers, progress: bool = True):
        from tqdm import tqdm

        from knowledge.importing import import_records, validate_lines
        from search.bench_corpus import batched, synthetic_record

        numbers = list(numbers)
        with tqdm(total=len(numbers), desc="Create pages", unit="page",
                  disable=not progress or not numbers) as bar:
            for batch in batched(numbers, IMPORT_BATCH):
                records = [synthetic_record(n, self.pool, self.municipalities, self.topics)
                           for n in batch]
                valid, errors = validate_lines(
                    [json.dumps(r, ensure_ascii=False) for r in records])
                if errors:
                    raise CommandError(f"synthetic records are invalid: {errors[:3]}")
                import_records(valid)
                bar.update(len(batch))

    def grow_to(self, passages: int, embedder) -> int:
        """Add and index pages until the index holds ``passages`` passages; returns the count.

        Pages left unindexed by an interrupted run are indexed first.
        """
        from tqdm import tqdm

        from search.indexing.state import stale_page_ids
        from search.indexing.writer import index_pages
        from search.models import Passage

        self._index(stale_page_ids(embedder.model_id), embedder)
        count = Passage.objects.count()
        with tqdm(total=passages, initial=min(count, passages), desc="Corpus",
                  unit="passage") as bar:
            while count < passages:
                start = self.existing()
                self._create(range(start, start + IMPORT_BATCH), progress=False)
                index_pages(stale_page_ids(embedder.model_id), embedder=embedder)
                new = Passage.objects.count()
                bar.update(min(new, passages) - min(count, passages))
                count = new
        return count

    def _index(self, page_ids, embedder):
        from tqdm import tqdm

        from search.bench_corpus import batched
        from search.indexing.writer import index_pages

        if not page_ids:
            return
        with tqdm(total=len(page_ids), desc="Index pending pages", unit="page") as bar:
            for batch in batched(page_ids, settings.KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE):
                index_pages(batch, embedder=embedder)
                bar.update(len(batch))
