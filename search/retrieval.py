"""Full-text, vector and hybrid retrieval over the passage index, aggregated to pages.

The public entry points: :func:`search` for the search page, the API and the CLI, and
:func:`rank_pages` for the evaluation and matching. Hybrid search takes candidates from both
retrievers, computes *both* scores exactly for every candidate passage and fuses them at page
level (:mod:`search.fusion`). Full text only nominates candidates here: from the passages with
the query's rarest words, within a budget (:func:`search.fulltext.fulltext_candidates` with
``exact=False``). See ``docs/architecture.md`` for how the modules fit together.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.utils.translation import gettext as _

from knowledge.access import remembered_access
from search import page_facts, term_feedback, topic_feedback, typos
from search.embedding import EmbeddingUnavailable
from search.feedback import feedback_vector, similarities
from search.fulltext import fulltext_candidates, rank_sql
from search.fusion import (
    aggregate_pages,
    fuse,
    fuse_pages,
    minmax,
    reciprocal_rank_fusion,
    vector_weight_for,
)
from search.models import IndexGeneration
from search.params import FusionParams
from search.planner import fetch_with_settings
from search.query import SearchFilters, clean_mode, clean_query, int_array
from search.results import SearchResults, facet_counts, load_hits
from search.statistics import QueryTerms, term_weights
from search.vector import (
    current_embedder,
    hnsw_candidates_sql,
    hnsw_settings,
    index_model_mismatch,
    model_has_passages,
    query_vector,
    vector_candidates,
    vector_literal,
)

logger = logging.getLogger(__name__)


def vector_side_sql(vector, model_id: str, user, filters: SearchFilters, params: FusionParams,
                    terms: QueryTerms, fulltext_only: Iterable[int]) -> tuple[str, list]:
    """Hybrid search's second statement: the HNSW candidates and the scores both pools lack.

    Rows ``(passage id, page id, similarity, full-text score, from the HNSW scan)``: the
    nearest passages with their exact BM25 score, then the full-text candidates the scan did
    not find with their exact similarity (none for another model's vectors). One statement
    instead of a scan and a scoring round trip: every candidate ends up with both scores.
    """
    inner, inner_params = hnsw_candidates_sql(vector, model_id, user, filters, params.candidates)
    rank, rank_params = rank_sql(terms, params)
    sql = f"""
        WITH c AS MATERIALIZED ({inner})
        SELECT c.id, c.page_id, 1 - c.distance,
               CASE WHEN p.search_vector @@ q.query THEN {rank} ELSE 0 END, true
        FROM c JOIN search_passage p ON p.id = c.id, (SELECT %s::tsquery AS query) q
        UNION ALL
        SELECT p.id, p.page_id, 1 - (p.embedding <=> %s::vector), NULL, false
        FROM search_passage p
        WHERE p.id = ANY(%s::bigint[]) AND p.model_id = %s AND p.embedding IS NOT NULL
              AND p.id NOT IN (SELECT id FROM c)
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    return sql, [*inner_params, *rank_params, terms.any_of(), vector_literal(vector),
                 int_array(fulltext_only), model_id]


def _add_vector_side(ft: dict[int, float], vec: dict[int, float], pages: dict[int, int],
                     vector, model_id: str, user, filters: SearchFilters, params: FusionParams,
                     terms: QueryTerms, *, only_new: bool = False) -> None:
    """Merge the HNSW candidates into the pools, so every candidate has both exact scores.

    ``only_new`` adds just the passages not in the pools yet (the moved vector of feedback
    nominating more), and asks no similarities of the others.
    """
    fulltext_only = [] if only_new else sorted(pid for pid in pages if pid not in vec)
    rows = fetch_with_settings(*vector_side_sql(vector, model_id, user, filters, params, terms,
                                                fulltext_only),
                               hnsw_settings(params, params.candidates))
    for pid, page, sim, rank, scanned in rows:
        if not scanned:
            vec.setdefault(pid, float(sim))
        elif not (only_new and pid in pages):
            vec[pid] = float(sim)
            pages[pid] = page
            ft.setdefault(pid, float(rank))


@dataclass
class Ranking:
    """What :func:`rank_pages` found: ranked pages and the passage scores behind them."""

    pages: list[tuple[int, float, int]]  # (page id, score, best passage id), best first
    mode: str  # the effective mode (full text if the model was unavailable)
    notice: str  # German notice when degraded, else ""
    passage_scores: dict[int, float]  # candidate passage -> its (fused) score
    passage_pages: dict[int, int]  # candidate passage -> page
    # How many pages contain a word of the query (None in vector mode): semantic search always
    # finds something, so "no results" for the Redaktion's gap report means no such page.
    word_pages: int | None = None
    # Words searched in place of misspelt ones: snippets highlight them, the page names them.
    corrections: tuple[str, ...] = ()


def rank_pages(query: str, *, user, mode: str, filters: SearchFilters,
               params: FusionParams, embedder=None) -> Ranking:
    """The full ranking of pages with its candidate passages' scores.

    Separate from :func:`search` so that the evaluation can rank without loading pages, and
    matching can explain its suggestions from the scores already computed.
    """
    with remembered_access(user), IndexGeneration.pinned(), page_facts.pinned():
        found = typos.corrections(query, user)  # issue 17: misspelt short queries
        ranking = _rank_pages(typos.with_corrections(query, found), user=user, mode=mode,
                              filters=filters, params=params, embedder=embedder)
        return replace(ranking, corrections=tuple(found))


def _rank_pages(query: str, *, user, mode: str, filters: SearchFilters,
                params: FusionParams, embedder) -> Ranking:
    notice = ""
    vector = model_id = pending = None
    if mode in ("vector", "hybrid"):
        if embedder is None:
            embedder, notice = current_embedder()
        if embedder is not None:
            model_id = embedder.model_id
            if not model_has_passages(model_id) and index_model_mismatch():
                notice = _(
                    "Der Suchindex wurde mit einem anderen Sprachmodell erstellt als dem "
                    "eingestellten; es werden nur Treffer der Volltextsuche angezeigt. Bitte "
                    "den Index mit „python manage.py rebuild_search_index“ neu aufbauen."
                )
                embedder = None
        if embedder is None:
            mode = "fulltext"
        else:
            # In hybrid mode the model works while PostgreSQL nominates full-text candidates.
            pending = query_vector(embedder, query, background=mode == "hybrid"
                                   and params.embed_in_background)
    if mode == "hybrid":
        terms = term_weights(query, params, user)
        params = replace(params, vector_weight=vector_weight_for(len(terms.terms), params))
        ft_rows = fulltext_candidates(query, user, filters, params,
                                      params.fulltext_nominees or params.candidates,
                                      terms=terms, exact=params.exact_hybrid_fulltext)
    if pending is not None:
        try:
            vector = pending.result()
        except EmbeddingUnavailable as exc:
            logger.warning("Query embedding failed: %s", exc)
            notice = _(
                "Die semantische Suche ist gerade nicht verfügbar; es werden nur Treffer "
                "der Volltextsuche angezeigt."
            )
            mode = "fulltext"

    if mode == "fulltext":
        rows = fulltext_candidates(query, user, filters, params, params.fulltext_candidates)
        scores = {pid: rank for pid, _page, rank in rows}
        pages = {pid: page for pid, page, _rank in rows}
        word_pages = len(set(pages.values()))
        top = max(scores.values(), default=0.0) or 1.0
        scores = {k: v / top for k, v in scores.items()}
    elif mode == "vector":
        rows = vector_candidates(vector, model_id, user, filters, params, params.candidates)
        # Normalised like in hybrid mode, so the multi-passage bonus means the same thing
        # (raw cosine similarities of one query are squeezed into a narrow band).
        scores = minmax({pid: sim for pid, _page, sim in rows})
        pages = {pid: page for pid, page, _sim in rows}
        word_pages = None
    else:
        ft = {pid: rank for pid, _page, rank in ft_rows}
        vec, pages = {}, {pid: page for pid, page, _ in ft_rows}
        _add_vector_side(ft, vec, pages, vector, model_id, user, filters, params, terms)
        if params.feedback_pages > 0 and len(terms.terms) >= params.feedback_min_terms:
            vector = _with_feedback(ft, vec, pages, vector, model_id, params, user, filters,
                                    terms)
        if term_feedback.applies(terms, params):  # eighth round: full-text feedback
            term_feedback.expand(ft, vec, pages, terms, params, user)
        scores = fuse(ft, vec, params.vector_weight)
        word_pages = len({pages[pid] for pid, score in ft.items() if score > 0})
        if params.fusion_level == "page":
            ranked = fuse_pages(ft, vec, pages, params, scores)
            if topic_feedback.applies(len(terms.terms), params):  # eighth round
                ranked = topic_feedback.rerank(ranked, params)
            return Ranking(ranked, mode, notice, scores, pages, word_pages)
        if params.fusion_level == "rrf":  # the naive baseline, kept for the evaluation
            return Ranking(reciprocal_rank_fusion(ft, vec, pages, params), mode, notice,
                           scores, pages, word_pages)
    return Ranking(aggregate_pages(scores, pages, params.passage_bonus), mode, notice, scores,
                   pages, word_pages)


def _with_feedback(ft: dict[int, float], vec: dict[int, float], pages: dict[int, int],
                   vector, model_id: str, params: FusionParams, user, filters: SearchFilters,
                   terms: QueryTerms):
    """Re-score the vector side with the query moved towards the first ranking's best pages.

    ``vec`` is replaced in place by the moved vector's similarities (the full-text side is
    untouched); with ``feedback_expand`` the moved vector also nominates new candidates.
    Returns the moved vector.
    """
    first = fuse_pages(ft, vec, pages, params)
    moved = feedback_vector(vector, [best for _page, _score, best in
                                     first[:params.feedback_pages]],
                            params.feedback_weight, model_id)
    if params.feedback_expand:
        _add_vector_side(ft, vec, pages, moved, model_id, user, filters, params, terms,
                         only_new=True)
    vec.clear()
    vec.update(similarities(list(pages), moved, model_id))
    return moved


def search(
    query: str,
    *,
    user=None,
    mode: str = "hybrid",
    limit: int = 10,
    offset: int = 0,
    filters: SearchFilters | None = None,
    request=None,
    params: FusionParams | None = None,
) -> SearchResults:
    """Search pages the user may see; ``query`` and ``mode`` are validated here as well.

    Raises :class:`SearchError` (German message) for invalid input. A missing or unusable
    embedding model is not an error: the result is full text with ``degraded=True``.
    """
    query = clean_query(query)
    requested = clean_mode(mode)
    filters = filters or SearchFilters()
    params = params or FusionParams.from_settings()
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    with page_facts.pinned():  # topic feedback, hits and facets: one view of the facts
        return _search(query, requested, user, limit, offset, filters, params, request)


def _search(query: str, requested: str, user, limit: int, offset: int, filters: SearchFilters,
            params: FusionParams, request) -> SearchResults:
    ranking = rank_pages(query, user=user, mode=requested, filters=filters, params=params)
    ranked, effective, notice = ranking.pages, ranking.mode, ranking.notice
    window = ranked[offset:offset + limit]
    return SearchResults(
        query=query,
        mode=effective,
        requested_mode=requested,
        results=load_hits(window, typos.with_corrections(query, list(ranking.corrections)),
                          params, request),
        total=len(ranked),
        offset=offset,
        limit=limit,
        degraded=effective != requested,
        notice=notice,
        facets=facet_counts([page_id for page_id, _s, _p in ranked]),
        ranked_page_ids=[page_id for page_id, _s, _p in ranked],
        word_pages=ranking.word_pages,
        corrections=list(ranking.corrections),
    )
