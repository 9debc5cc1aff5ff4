"""Vector retrieval over the HNSW index, and which embedding model may be compared.

Vectors never mix models: only passages whose ``model_id`` equals the current embedder's are
compared; if none exists the index was built with another model and the search degrades to full
text with a message to run ``rebuild_search_index``. The HNSW scan uses pgvector's iterative
scan so that filters (type, municipality, permissions) still fill a page.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from django.core.cache import cache
from django.utils.translation import gettext as _

from search.access_sql import filter_sql
from search.params import FusionParams
from search.planner import fetch_with_settings
from search.query import SearchFilters

logger = logging.getLogger(__name__)
# At most this many queries of one process are embedded at once (gunicorn runs 8 threads per
# process on two cores; more would only queue inside the model).
_EMBEDDING_THREADS = 4
# The model check is keyed by the index generation; the timeout only bounds memory.
MODEL_CHECK_CACHE_SECONDS = 3600


def vector_literal(vector) -> str:
    """A vector as pgvector's text input (``[x,y,…]``): raw SQL passes vectors as parameters.

    Remembered for the last few vectors: a hybrid search passes its query vector to more than
    one statement, and formatting 384 numbers costs twice a statement's round trip.
    """
    array = np.asarray(vector)
    return _literal(array.dtype.str, array.tobytes())


@functools.lru_cache(maxsize=64)
def _literal(dtype: str, raw: bytes) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in np.frombuffer(raw, dtype=dtype)) + "]"


def hnsw_candidates_sql(vector, model_id: str, user, filters: SearchFilters,
                        limit: int, exclusions: Sequence[str] = (),
                        exclusion_params: Sequence = ()) -> tuple[str, list]:
    """The HNSW scan as a sub-query: (id, page_id, distance) of the nearest passages.

    Only passages of the current model, under all filters and ``exclusions``
    (:func:`search.access_sql.filter_sql`). Public because hybrid search wraps it in a
    statement that also scores the candidates' full text (:mod:`search.retrieval`), and
    related material in one that keeps the best passage per page (:mod:`search.related`); it
    must run with :func:`hnsw_settings` or :func:`hnsw_scan_settings`.
    """
    where, where_params = filter_sql(user, filters, exclusions, exclusion_params)
    literal = vector_literal(vector)
    sql = f"""
        SELECT p.id, p.page_id, p.embedding <=> %s::vector AS distance
        FROM search_passage p
        JOIN wagtailcore_page wp ON wp.id = p.page_id
        WHERE p.model_id = %s AND p.embedding IS NOT NULL AND {where}
        ORDER BY p.embedding <=> %s::vector
        LIMIT %s
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    return sql, [literal, model_id, *where_params, literal, limit]


def hnsw_settings(params: FusionParams, limit: int) -> dict[str, str]:
    """pgvector's scan settings for ``limit`` candidates.

    ``hnsw.iterative_scan = relaxed_order`` lets pgvector keep scanning the graph until the
    filters (permissions, type, municipality, ...) let ``limit`` rows through; the relaxed
    order is repaired by sorting the materialised candidates by exact distance.
    """
    return hnsw_scan_settings(max(params.ef_search, limit))


def hnsw_scan_settings(ef_search: int) -> dict[str, str]:
    """pgvector's scan settings with an explicit ``ef_search`` (see :func:`hnsw_settings`)."""
    return {"hnsw.ef_search": str(ef_search), "hnsw.iterative_scan": "relaxed_order"}


def vector_candidates(vector, model_id: str, user, filters: SearchFilters,
                      params: FusionParams, limit: int) -> list[tuple[int, int, float]]:
    """(passage id, page id, cosine similarity) of the nearest passages, via the HNSW index."""
    inner, inner_params = hnsw_candidates_sql(vector, model_id, user, filters, limit)
    sql = f"""
        WITH c AS MATERIALIZED ({inner})
        SELECT id, page_id, 1 - distance FROM c ORDER BY distance, id
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    rows = fetch_with_settings(sql, inner_params, hnsw_settings(params, limit))
    return [(row[0], row[1], float(row[2])) for row in rows]


def query_vector(embedder, query: str, *, background: bool) -> Future:
    """The query's vector as a future: computed on a helper thread when ``background``.

    Embedding a query is the largest single cost of a hybrid search, and it needs no
    database: the model runs (releasing the GIL) while the calling thread has PostgreSQL
    nominate the full-text candidates. Without ``background`` it is computed right here.
    ``result()`` raises :class:`search.embedding.EmbeddingUnavailable` like ``embed_query``.
    """
    if background:
        return _embedding_pool().submit(embedder.embed_query, query)
    done: Future = Future()
    try:
        done.set_result(embedder.embed_query(query))
    except Exception as exc:  # handed to the caller through result(), as from the pool
        done.set_exception(exc)
    return done


@functools.cache
def _embedding_pool() -> ThreadPoolExecutor:
    """Threads for query embeddings, made on first use (after gunicorn has forked)."""
    return ThreadPoolExecutor(max_workers=_EMBEDDING_THREADS,
                              thread_name_prefix="query-embedding")


def current_embedder():
    """``(embedder, "")``, or ``(None, German notice)`` when the model cannot be loaded.

    Search and matching both degrade to full text instead of failing, with the same notice.
    """
    from search.embedding import EmbeddingUnavailable, get_embedder

    try:
        return get_embedder(), ""
    except EmbeddingUnavailable as exc:
        logger.warning("Semantic search unavailable, falling back to full text: %s", exc)
        return None, _(
            "Die semantische Suche ist gerade nicht verfügbar; es werden nur Treffer der "
            "Volltextsuche angezeigt."
        )


def model_has_passages(model_id: str) -> bool:
    """Whether any passage carries a vector of ``model_id``: else vector search finds nothing.

    Asked by every search; the answer changes only with the passages, so it is cached per
    index generation (which every passage write bumps), like the index statistics.
    """
    from search.models import IndexGeneration, Passage

    key = f"search:model-has-passages:{IndexGeneration.current()}:{model_id}"
    found = cache.get(key)
    if found is None:
        found = Passage.objects.filter(model_id=model_id).exists()
        cache.set(key, found, MODEL_CHECK_CACHE_SECONDS)
    return found


def index_model_mismatch() -> bool:
    """Whether the index holds vectors, but (with :func:`model_has_passages`) of another model."""
    from search.models import Passage

    return Passage.objects.exclude(embedding=None).exists()
