"""Growing the benchmark corpus to a million passages, past what the page importer can build.

The real importer creates a Wagtail page in tens of milliseconds: 100,000 pages (a million
passages at ten per page) would take hours on two cores. Beyond ``--real-passages`` the
benchmark therefore adds passages directly: each is a deterministic function of its number
(heading and sentences drawn from the same text pool by a seeded generator), belongs to one of
the synthetic pages round-robin, carries that page's type, municipality and date, and gets a
sentence-mean vector like the rest of the scale corpus. PostgreSQL computes the German
``tsvector`` itself (a generated column), so full text sees them exactly as indexed passages.

Rows go in with ``COPY`` in chunks, one transaction each: an interrupted run keeps every
finished chunk and continues with the next number. For a large addition the HNSW and GIN
indexes are dropped first and built once at the end (one bulk build is far faster than a
million incremental inserts into the graph), with ``maintenance_work_mem`` large enough for
the graph to be built in memory.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from django.db import connection, transaction

from search.bench_corpus import EXTERNAL_ID_PREFIX
from search.models import Passage
from search.vector import vector_literal

# Bulk passages sit after every passage the indexer writes for a page.
POSITION_BASE = 100_000
CHUNK = 20_000
DEFER_INDEXES_ABOVE = 100_000
BUILD_MEMORY = "4GB"
_DEFERRED = ("passage_embedding_hnsw", "passage_search_vector_gin")
_COLUMNS = ("page_id", "position", "kind", "heading", "text", "content_hash",
            "knowledge_type", "municipality_id", "date", "embedding", "model_id")


def bulk_count() -> int:
    """Passages added by this module so far (the number the next one continues from)."""
    return Passage.objects.filter(position__gte=POSITION_BASE).count()


def synthetic_passage(number: int, pool) -> tuple[str, str]:
    """(heading, text) of bulk passage ``number``: same number, same passage."""
    heading, sentences = _drawn(number, pool)
    return heading, " ".join(sentences)


def _drawn(number: int, pool) -> tuple[str, list[str]]:
    rng = random.Random(f"bulk:{number}")  # noqa: S311 - reproducible text, not secrets
    heading = rng.choice(pool.headings)
    return heading, [rng.choice(pool.sentences) for _ in range(rng.randint(2, 4))]


def extend_to(target: int, pool, embedder, *, chunk: int = CHUNK,
              defer_indexes_above: int = DEFER_INDEXES_ABOVE,
              progress: Callable[[int], None] | None = None) -> int:
    """Add bulk passages until the index holds ``target``; returns the passage count.

    ``embedder`` gives the passage vectors (the benchmark's sentence-mean embedder).
    """
    count = Passage.objects.count()
    pages = list(Passage.objects
                 .filter(kind=Passage.Kind.OVERVIEW,
                         page__external_id__startswith=EXTERNAL_ID_PREFIX)
                 .order_by("page_id", "position").distinct("page_id")
                 .values_list("page_id", "knowledge_type", "municipality_id", "date"))
    if count < target and not pages:
        raise ValueError("bulk passages need synthetic pages to belong to; none are indexed")
    if count < target and target - count > defer_indexes_above:
        _drop_deferred_indexes()
    number = bulk_count()
    while count < target:
        size = min(chunk, target - count)
        rows = []
        texts = []
        for n in range(number, number + size):
            page_id, knowledge_type, municipality_id, date = pages[n % len(pages)]
            heading, sentences = _drawn(n, pool)
            text = " ".join(sentences)
            # One sentence per line: the sentence-mean embedder then finds every unit among
            # the sentences it embedded (joined, a sentence that starts in lower case would
            # not be split off again and cost a model call).
            texts.append("\n".join([heading, *sentences]))
            # The number itself is the position: unique per page whatever pages exist now
            # (the throughput sample adds and removes pages between runs).
            rows.append([page_id, POSITION_BASE + n, Passage.Kind.SECTION,
                         heading, text, hashlib.sha256(text.encode()).hexdigest(),
                         knowledge_type, municipality_id, date])
        vectors = embedder.embed_passages(texts)
        with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY search_passage ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row, vector in zip(rows, vectors, strict=True):
                copy.write_row([*row, vector_literal(vector), embedder.model_id])
        number += size
        count += size
        if progress is not None:
            progress(size)
    restore_indexes()
    return count


def restore_indexes() -> None:
    """Build the indexes a bulk run dropped (also after a run that died before it did)."""
    missing = [index for index in Passage._meta.indexes
               if index.name in _DEFERRED and not _index_exists(index.name)]
    if not missing:
        return
    with connection.cursor() as cursor:
        # Inside an outer transaction the rows' deferred foreign-key checks would still be
        # pending, and PostgreSQL refuses CREATE INDEX then: check them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET maintenance_work_mem = '{BUILD_MEMORY}'")
        cursor.execute("SET max_parallel_maintenance_workers = 1")
    with connection.schema_editor() as editor:
        for index in missing:
            editor.add_index(Passage, index)
    with connection.cursor() as cursor:
        cursor.execute("RESET maintenance_work_mem")
        cursor.execute("RESET max_parallel_maintenance_workers")
        cursor.execute("ANALYZE search_passage")


def _drop_deferred_indexes() -> None:
    with connection.schema_editor() as editor:
        for index in Passage._meta.indexes:
            if index.name in _DEFERRED and _index_exists(index.name):
                editor.remove_index(Passage, index)


def _index_exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        return cursor.fetchone() is not None



def grow_in_bulk(target: int, pool, embedder) -> int:
    """:func:`extend_to` with a progress bar, as ``bench_search`` runs it."""
    from tqdm import tqdm

    count = Passage.objects.count()
    with tqdm(total=target, initial=min(count, target), desc="Bulk passages",
              unit="passage") as bar:
        return extend_to(target, pool, embedder, progress=bar.update)
