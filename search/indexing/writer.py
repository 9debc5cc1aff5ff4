"""Index and remove pages: the write side of the passage index.

:func:`index_pages` is the one place that writes passages. It re-reads each page from the
database (so a task that runs late, twice or after a retry always converges on the current
state), indexes live pages, and removes the passages of pages that are unpublished or gone.

Vectors are expensive, so a page's passages are diffed against what is stored: a passage whose
``content_hash`` is unchanged keeps its row and its vector as long as that vector was made by
the current model (``model_id``); only new or changed passages are embedded, all of a batch in
one model call. Every stored vector is labelled with the model that made it, and retrieval
compares only vectors of the current model.

If the model cannot be loaded, passages are still written (full text keeps working) with no
vector and ``model_id=''``, and the page is left ``pending`` for ``rebuild_search_index
--stale``. Nothing here raises :class:`~search.embedding.EmbeddingUnavailable`.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import F, Q

from attachments.links import documents_of, forget_pages, sync_links
from search import compounds, embedding
from search.indexing.chunking import Chunk, budget_for
from search.indexing.events import announce
from search.indexing.page_chunks import chunk_page
from search.indexing.state import NOT_INDEXABLE, indexable_pages, page_and_descendant_ids
from search.models import PageIndexState, Passage

logger = logging.getLogger(__name__)

# Namespace of the PostgreSQL advisory locks that serialise indexing of one page.
_LOCK_NAMESPACE = 0x5EA4
# Kept passages move through positions above this while they are renumbered, because the
# (page, position) unique constraint is checked row by row.
_POSITION_OFFSET = 1_000_000


@dataclass
class IndexResult:
    """What one call changed: pages by outcome, passages by how their vector was obtained."""

    indexed: list[int] = field(default_factory=list)  # live, all passages have vectors
    pending: list[int] = field(default_factory=list)  # live, written without vectors
    failed: list[int] = field(default_factory=list)  # chunking raised; see PageIndexState
    removed: list[int] = field(default_factory=list)  # not live (or gone): passages removed
    embedded: int = 0
    reused: int = 0

    def merge(self, other: IndexResult) -> None:
        """Add another batch's outcome (a rebuild sums its batches)."""
        for name in ("indexed", "pending", "failed", "removed"):
            getattr(self, name).extend(getattr(other, name))
        self.embedded += other.embedded
        self.reused += other.reused

    def as_dict(self) -> dict:
        """Counts only: what the task result and ``rebuild_search_index`` report."""
        return {
            "indexed": len(self.indexed), "pending": len(self.pending),
            "failed": len(self.failed), "removed": len(self.removed),
            "embedded": self.embedded, "reused": self.reused,
        }


def load_embedder():
    """The current embedder, or ``(None, reason)`` when the model is unavailable."""
    try:
        return embedding.get_embedder(), ""
    except embedding.EmbeddingUnavailable as exc:
        logger.warning("Indexing without vectors (degraded mode): %s", exc)
        return None, str(exc)


def index_page(page, *, include_descendants: bool = False, embedder=None) -> IndexResult:
    """(Re-)index one page (a page object or id); removes its passages if it is not live."""
    page_id = getattr(page, "pk", page)
    ids = page_and_descendant_ids(page_id) if include_descendants else [page_id]
    return index_pages(ids, embedder=embedder)


def index_pages(page_ids: Iterable[int], *, embedder=None,
                without_vectors: bool = False) -> IndexResult:
    """Bring the passages of these pages in line with their current state, in one transaction.

    ``embedder`` defaults to the configured model; when it cannot be loaded (or
    ``without_vectors`` is set) the pages are indexed for full text only and left pending.
    """
    ids = sorted(set(page_ids))
    result = IndexResult()
    if not ids:
        return result
    reason = "indexed without vectors on request" if without_vectors else ""
    if embedder is None and not without_vectors:
        embedder, reason = load_embedder()
    budget = budget_for(embedder)
    read_attachments(ids)

    with transaction.atomic():
        _lock(ids)
        pages = {p.pk: p for p in indexable_pages().filter(pk__in=ids).specific()}
        gone = [pk for pk in ids if pk not in pages]
        if gone:
            _remove(gone)
            result.removed.extend(gone)
        for page in pages.values():
            sync_links(page, live=True)

        chunks_by_page: dict[int, list[Chunk]] = {}
        for pk, page in pages.items():
            try:
                chunks_by_page[pk] = chunk_page(page, budget)
            except Exception as exc:  # a bug in one page must not stop a whole rebuild
                logger.exception("Cannot split page %s into passages", pk)
                _set_state(pk, PageIndexState.Status.FAILED, "", f"chunking failed: {exc!r}")
                result.failed.append(pk)

        existing = _existing_rows(list(chunks_by_page))
        model_id = embedder.model_id if embedder is not None else ""
        vectors, reason = _embed_missing(embedder, chunks_by_page, existing, model_id, reason)
        if embedder is not None and vectors is None:
            model_id = ""  # the model failed while encoding: write this batch without vectors

        for pk, chunks in chunks_by_page.items():
            embedded, reused = _write_page(pages[pk], chunks, existing.get(pk, []),
                                           model_id, vectors or {})
            result.embedded += embedded
            result.reused += reused
            if model_id:
                _set_state(pk, PageIndexState.Status.INDEXED, model_id, "")
                result.indexed.append(pk)
            else:
                _set_state(pk, PageIndexState.Status.PENDING, "", reason)
                result.pending.append(pk)

        changed = [*chunks_by_page, *gone]
        transaction.on_commit(lambda: announce(changed), robust=True)
    return result


def read_attachments(page_ids: Iterable[int]) -> None:
    """Read the files of these live pages that have no current text yet.

    Runs before the indexing transaction: reading a large file takes seconds and must not
    hold the page locks; each file's result is committed on its own, so a crash keeps what
    was read. Unreadable files are recorded with their message, never raised.
    """
    from attachments.extraction import extract_document

    for page in indexable_pages().filter(pk__in=list(page_ids)).specific():
        for document in documents_of(page):
            extract_document(document)


def remove_page(page_id: int) -> int:
    """Delete a page's passages and index state (unpublished or deleted); returns rows deleted."""
    with transaction.atomic():
        _lock([page_id])
        deleted = _remove([page_id])
        transaction.on_commit(lambda: announce([page_id]), robust=True)
    return deleted


def remove_unpublished() -> list[int]:
    """Remove passages and states of pages that are no longer live (or are aliases)."""
    stale = sorted(
        set(Passage.objects.filter(NOT_INDEXABLE).values_list("page_id", flat=True))
        | set(PageIndexState.objects.filter(NOT_INDEXABLE).values_list("page_id", flat=True))
    )
    if stale:
        with transaction.atomic():
            _lock(stale)
            _remove(stale)
            transaction.on_commit(lambda: announce(stale), robust=True)
    return stale


def _lock(ids: list[int]) -> None:
    """Serialise indexing per page (e.g. a publish task racing a rebuild batch)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, id) FROM unnest(%s::int[]) AS id ORDER BY id",
            [_LOCK_NAMESPACE, sorted(ids)],
        )


def _remove(ids: list[int]) -> int:
    deleted, _ = Passage.objects.filter(page_id__in=ids).delete()
    PageIndexState.objects.filter(page_id__in=ids).delete()
    forget_pages(ids)
    return deleted


def _existing_rows(page_ids: list[int]) -> dict[int, list[dict]]:
    rows = defaultdict(list)
    queryset = (
        Passage.objects.filter(page_id__in=page_ids)
        .annotate(has_vector=Q(embedding__isnull=False))
        .values("id", "page_id", "position", "kind", "heading", "content_hash", "model_id",
                "has_vector", "document_id", "source_page", "title_parts", "compound_parts")
        .order_by("page_id", "position")
    )
    for row in queryset:
        rows[row["page_id"]].append(row)
    return rows


def _reusable(row: dict, model_id: str) -> bool:
    return bool(model_id) and row["has_vector"] and row["model_id"] == model_id


def _embed_missing(embedder, chunks_by_page, existing, model_id, reason):
    """Vectors (by content hash) for passages that have no current vector yet.

    Returns ``(vectors, reason)``; ``vectors`` is None when there is no model or it failed.
    """
    if embedder is None:
        return None, reason
    texts: dict[str, str] = {}
    for pk, chunks in chunks_by_page.items():
        # A hash may occur twice on a page (two identical sections): count, don't just test.
        current = Counter(r["content_hash"] for r in existing.get(pk, [])
                          if _reusable(r, model_id))
        for chunk in chunks:
            if current[chunk.content_hash] > 0:
                current[chunk.content_hash] -= 1
            else:
                texts.setdefault(chunk.content_hash, chunk.embedding_text)
    if not texts:
        return {}, ""
    try:
        matrix = embedder.embed_passages(list(texts.values()))
    except embedding.EmbeddingUnavailable as exc:
        logger.warning("Embedding failed, indexing without vectors: %s", exc)
        return None, str(exc)
    return dict(zip(texts, matrix, strict=True)), ""


def _write_page(page, chunks: list[Chunk], rows: list[dict], model_id: str,
                vectors: dict) -> tuple[int, int]:
    """Diff ``chunks`` against the stored rows of one page; returns (embedded, reused).

    A row whose content hash reappears is kept (same id, and its vector if it belongs to the
    current model); rows whose text disappeared are deleted, new texts are inserted.
    """
    pool: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        pool[row["content_hash"]].append(row)
    matched = []
    for position, chunk in enumerate(chunks):
        candidates = pool.get(chunk.content_hash)
        matched.append((position, chunk, candidates.pop(0) if candidates else None))

    leftover = [row["id"] for remaining in pool.values() for row in remaining]
    if leftover:
        Passage.objects.filter(id__in=leftover).delete()
    moving = [row["id"] for position, _chunk, row in matched
              if row is not None and row["position"] != position]
    if moving:
        Passage.objects.filter(id__in=moving).update(position=F("position") + _POSITION_OFFSET)

    embedded = reused = 0
    updates: dict[tuple[str, ...], list[Passage]] = defaultdict(list)
    creates: list[Passage] = []
    for position, chunk, row in matched:
        vector = vectors.get(chunk.content_hash) if model_id else None
        values = {"position": position, "kind": chunk.kind, "heading": chunk.heading,
                  "document_id": chunk.document_id, "source_page": chunk.source_page,
                  **compounds.passage_parts(chunk.kind, chunk.heading, chunk.text)}
        if row is None:
            embedded += vector is not None
            creates.append(Passage(
                page_id=page.pk, text=chunk.text, content_hash=chunk.content_hash,
                knowledge_type=page.knowledge_type, municipality_id=page.municipality_id,
                date=page.date, embedding=vector,
                model_id=model_id if vector is not None else "", **values,
            ))
            continue
        if _reusable(row, model_id):
            reused += 1
        elif vector is not None:
            embedded += 1
            values.update(embedding=vector, model_id=model_id)
        # else: no model now; an old model's vector stays, labelled, so it is never mixed up.
        if "embedding" in values or any(row[name] != values[name] for name in _ROW_FIELDS):
            updates[tuple(sorted(values))].append(Passage(id=row["id"], **values))
    for fields, passages in updates.items():
        Passage.objects.bulk_update(passages, list(fields))
    if creates:
        Passage.objects.bulk_create(creates)

    # Metadata that is not part of the text (municipality, date) changes without re-embedding.
    Passage.objects.filter(page_id=page.pk).exclude(
        knowledge_type=page.knowledge_type, municipality_id=page.municipality_id, date=page.date
    ).update(knowledge_type=page.knowledge_type, municipality_id=page.municipality_id,
             date=page.date)
    return embedded, reused


_ROW_FIELDS = ("position", "kind", "heading", "document_id", "source_page", "title_parts",
               "compound_parts")


def _set_state(page_id: int, status: str, model_id: str, error: str) -> None:
    PageIndexState.objects.update_or_create(
        page_id=page_id, defaults={"status": status, "model_id": model_id, "error": error[:2000]}
    )
