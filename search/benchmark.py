"""Measurements of ``bench_search``: indexing throughput, search and matching latency, memory.

Each figure is compared with a floor measured in the same run, so that the numbers say how
much the product adds on top of what the model and pgvector cost anyway:

* indexing throughput (chunking, embedding, writing passages, GIN and HNSW maintenance) against
  raw ``SentenceTransformer.encode`` of exactly the same passage texts, prompt and batch size;
* search latency per mode (the whole :func:`search.retrieval.search` as the search page and the
  API call it, with a request: permissions, fusion, snippets, facets, URLs) against
  embedding the query plus the raw HNSW query ``ORDER BY embedding <=> q LIMIT 10`` without
  any filter;
* matching latency (:func:`search.matching.match_project`) against a hybrid search with the
  same text.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from django.db import connection

from search.vector import vector_literal

RAW_HNSW_SQL = "SELECT id FROM search_passage ORDER BY embedding <=> %s::vector LIMIT 10"


@dataclass
class Latency:
    label: str
    samples_ms: list[float]

    @property
    def p50(self) -> float:
        return float(np.percentile(self.samples_ms, 50))

    @property
    def p95(self) -> float:
        return float(np.percentile(self.samples_ms, 95))


def timed(fn: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure(label: str, texts: Sequence[str], call: Callable[[str], object],
            warmup: int | None = None) -> Latency:
    """Latency of ``call`` over ``texts`` after ``warmup`` untimed calls (default: all texts).

    A full untimed pass first puts every index page the calls touch into the caches, so that
    each row is measured warm: otherwise whichever row runs first (the floor) pays for reading
    the 100k HNSW graph from disk and looks slower than the searches measured after it.
    """
    for text in texts[: len(texts) if warmup is None else warmup]:
        call(text)
    return Latency(label, [timed(lambda t=text: call(t)) for text in texts])


def paired_ratio(first: Latency, second: Latency) -> dict[str, float]:
    """``first`` against ``second`` text by text (both measured over the same texts).

    A 60-sample p95 moves by several percent between runs; the per-text ratio says whether one
    is systematically slower: its median, and the share of texts where ``first`` took no
    longer than ``second``.
    """
    ratios = [a / b for a, b in zip(first.samples_ms, second.samples_ms, strict=True)]
    return {"median_ratio": float(np.median(ratios)),
            "share_not_slower": sum(r <= 1.0 for r in ratios) / len(ratios)}


def web_request():
    """A GET request like the search page's: search and matching get one per call."""
    from django.test import RequestFactory

    return RequestFactory().get("/suche/")


def raw_encode_rate(embedder, texts: list[str]) -> float:
    """Passages per second of plain ``SentenceTransformer.encode`` (same prompt and batch)."""
    prompted = [embedder.passage_prompt + t for t in texts]
    embedder.model.encode(prompted[: embedder.batch_size], batch_size=embedder.batch_size)
    started = time.perf_counter()
    embedder.model.encode(prompted, batch_size=embedder.batch_size, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - started)


def raw_hnsw_query(vector) -> list[int]:
    """The floor's database part: nearest passages by the HNSW index, nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(RAW_HNSW_SQL, [vector_literal(vector)])
        return [row[0] for row in cursor.fetchall()]


def raw_hnsw_uses_index(vector) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + RAW_HNSW_SQL, [vector_literal(vector)])
        return any("passage_embedding_hnsw" in row[0] for row in cursor.fetchall())


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def database_sizes_mb() -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT pg_database_size(current_database()),
                   pg_total_relation_size('search_passage'),
                   COALESCE((SELECT sum(pg_relation_size(indexrelid)) FROM pg_index i
                             JOIN pg_class c ON c.oid = i.indexrelid
                             WHERE i.indrelid = 'search_passage'::regclass
                               AND c.relname = 'passage_embedding_hnsw'), 0)
        """)
        database, passages, hnsw = cursor.fetchone()
    mb = 1024 * 1024
    return {"database": database / mb, "passages": passages / mb, "hnsw": float(hnsw) / mb}
