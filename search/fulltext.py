"""Full-text retrieval: OR semantics with BM25-style IDF weights, MaxScore pruning.

Users type several words; an AND query over German municipal text finds almost nothing. Each
token is stemmed by PostgreSQL's German configuration and the tokens are OR-ed. A passage scores
the IDF weights of the terms it contains (:mod:`search.statistics`), scaled down for passages
longer than average as in BM25; a word in the page title counts as three occurrences (BM25F's
field weight); ``ts_rank`` breaks ties. Long tokens also match as prefixes, which catches the
first part of German compounds ("Abfall" finds "Abfallkalender"). Only the best candidates are
scored in full: exact MaxScore pruning skips passages that contain nothing but common words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from search.access_sql import filter_sql
from search.params import FusionParams
from search.planner import fetch_with_settings
from search.query import SearchFilters
from search.statistics import QueryTerms, term_weights

# A lexeme in a normalised tsquery text: quoted ('' escapes a quote), optionally prefix-marked.
_LEXEME_RE = re.compile(r"('(?:[^']|'')*')(?::(\*))?")
# ts_rank(_cd) with the same weight for title (A) and body (B) lexemes: the title boost lives
# in the BM25 part.
_RANK_WEIGHTS = "{0.1,0.1,0.1,0.1}"
# Planner settings of every full-text candidate statement (see run_fulltext).
FULLTEXT_PLANNER_SETTINGS = {"enable_seqscan": "off", "max_parallel_workers_per_gather": "0"}
# The tie-breaker adds less than this to a BM25 score (ts_rank scaled to [0, 1) times it).
TIE_BREAKER_BOUND = 0.1


def bm25_term_factor(length: float, average_length: float, k1: float, b: float,
                     tf: float = 1.0) -> float:
    """BM25's term-frequency part: (k1 + 1) · tf / (tf + k1 · norm).

    ``norm = 1 − b + b · length / average_length``: a passage of average length gets 1, a
    longer one less, a shorter one more. The passage length is the number of distinct
    lexemes of its tsvector. ``tf`` is 1 for a term in the body: the passages are short and
    long queries are what needs taming, not repetition. A term in the page title counts as
    ``1 + title_boost`` occurrences (BM25F's field weight), so it gains, but saturates like
    any repeated term. :func:`rank_sql` computes the same expression in SQL.
    """
    norm = 1 - b + b * length / max(average_length, 1e-9)
    return (k1 + 1) * tf / (tf + k1 * norm)


def title_terms(terms: Sequence[str]) -> list[str]:
    """The same tsquery terms restricted to weight A, i.e. to the page title.

    ``'abfal':*`` becomes ``'abfal':*A``; a term of several lexemes gets the label on each.
    """
    return [_LEXEME_RE.sub(lambda m: f"{m.group(1)}:{m.group(2) or ''}A", term)
            for term in terms]


def length_normalisation(term_count: int, params: FusionParams) -> float:
    """BM25's ``b`` for a query of ``term_count`` distinct terms.

    Length normalisation tames long queries: a description of forty words is matched by long
    passages through sheer length. A two-word keyword query is not, and normalising it only
    pushes the multi-section pages down that do contain both words. So ``b`` is 0 up to
    ``bm25_short_query_terms`` terms, the full ``bm25_b`` from ``bm25_long_query_terms`` on,
    and linear in between (measured in docs/search-ranking.md).
    """
    return params.bm25_b * params.query_length_ramp(term_count)


def rank_sql(terms: QueryTerms, params: FusionParams) -> tuple[str, list]:
    """SQL expression (over ``p`` and ``q.query``) of a passage's full-text score.

    Public because hybrid search scores the other retriever's candidates with exactly the
    same expression (:mod:`search.retrieval`).
    """
    # The tie-breaker ts_rank (term frequency) with normalisation flag 32 (rank / (rank + 1))
    # stays below TIE_BREAKER_BOUND, which the pruning in fulltext_candidates relies on. Not
    # ts_rank_cd: its cover density over a long OR query cost ten times the whole BM25 part.
    tie_breaker = ("%s::float8 * ts_rank(%s, p.search_vector, q.query, %s)",
                   [TIE_BREAKER_BOUND, _RANK_WEIGHTS, params.rank_normalization | 32])
    if params.fulltext_scoring in ("bm25", "idf"):
        # Per contained term: IDF · bm25_term_factor, where tf is 1 + title_boost for a term
        # in the page title (weight A); `idf` scoring is the same without length
        # normalisation. Plus ts_rank as a small tie-breaker that rewards repetition. One
        # inline CASE per term, not a sub-select over the term list: a SubPlan per scored
        # passage cost a third of the query and kept PostgreSQL from scanning in parallel.
        b = _effective_b(terms, params)
        parts, sql_params = [], []
        for term, title, weight in zip(terms.terms, title_terms(terms.terms), terms.weights,
                                       strict=True):
            part, part_params = term_score_sql(term, title, weight, b, terms.average_length,
                                               params)
            parts.append(part)
            sql_params += part_params
        return f"({' + '.join(parts) or '0'} + {tie_breaker[0]})", [*sql_params, *tie_breaker[1]]
    return "ts_rank_cd(%s, p.search_vector, q.query, %s)", [_RANK_WEIGHTS,
                                                            params.rank_normalization]


def term_score_sql(term: str, title: str, weight: float, b: float, average_length: float,
                   params: FusionParams) -> tuple[str, list]:
    """One term's BM25 part over ``p``: ``weight`` × :func:`bm25_term_factor`, 0 without it.

    ``title`` is the same term restricted to the page title (:func:`title_terms`); a match
    there counts as ``1 + title_boost`` occurrences. Shared by :func:`rank_sql` and the
    expansion terms of full-text feedback (:mod:`search.term_feedback`).
    """
    # (k1 + 1) · tf / (tf + k1 · norm) = (k1 + 1) / (1 + k1 · norm / tf), with
    # k1 · norm = k1 · (1 − b) + k1 · b / avg · length.
    k1 = params.bm25_k1
    return ("CASE WHEN p.search_vector @@ %s::tsquery THEN %s::float8 / (1 + (%s::float8 "
            "+ %s::float8 * length(p.search_vector)) / (1 + %s::float8 * "
            "(p.search_vector @@ %s::tsquery)::int)) ELSE 0 END",
            [term, weight * (k1 + 1), k1 * (1 - b), k1 * b / max(average_length, 1e-9),
             params.title_boost, title])


def _effective_b(terms: QueryTerms, params: FusionParams) -> float:
    if params.fulltext_scoring == "bm25":
        return length_normalisation(len(terms.terms), params)
    return 0.0


def term_bounds(terms: QueryTerms, params: FusionParams) -> list[float]:
    """The most each term can add to a passage's score: its IDF times the largest factor.

    :func:`bm25_term_factor` is largest for a title match (tf = 1 + title_boost) in the
    shortest possible passage (length → 0, norm → 1 − b); with a negative boost (title words
    count less) a body match is the largest.
    """
    b = _effective_b(terms, params)
    tf = 1 + max(params.title_boost, 0.0)
    factor = (params.bm25_k1 + 1) * tf / (tf + params.bm25_k1 * (1 - b))
    return [weight * factor for weight in terms.weights]


def fulltext_sql(terms: QueryTerms, user, filters: SearchFilters, params: FusionParams,
                 limit: int, matching: Iterable[int] | None = None) -> tuple[str, list]:
    """The full-text candidate query over passages containing any of the ``matching`` terms.

    Every candidate is scored with all terms; ``matching`` (indices into ``terms``; all by
    default) only narrows which passages are looked at (see :func:`fulltext_candidates`).
    """
    where, where_params = filter_sql(user, filters)
    rank, rank_params = rank_sql(terms, params)
    sql = f"""
        SELECT p.id, p.page_id, {rank} AS rank
        FROM search_passage p
        JOIN wagtailcore_page wp ON wp.id = p.page_id,
             (SELECT %s::tsquery AS query) q
        WHERE p.search_vector @@ %s::tsquery AND {where}
        ORDER BY rank DESC, p.id
        LIMIT %s
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    return sql, [*rank_params, terms.any_of(), terms.any_of(matching), *where_params, limit]


def fulltext_candidates(query: str, user, filters: SearchFilters, params: FusionParams,
                        limit: int, terms: QueryTerms | None = None, exact: bool = True
                        ) -> list[tuple[int, int, float]]:
    """(passage id, page id, rank) of the ``limit`` best passages matching any query term.

    OR semantics make a common word ("Stadt", "Daten") match most of the index, and scoring
    every such passage dominated the search time. The result is the exact top ``limit`` of
    that exhaustive scoring, found with MaxScore-style pruning (Turtle & Flood, 1995): first
    only the passages containing the most valuable terms (by IDF, about
    ``params.fulltext_budget`` per wanted candidate) are scored, widened by the next terms
    until ``limit`` passages are found; the ``limit``-th score is a lower bound θ of the final
    one. Terms whose bounds (:func:`term_bounds`) sum, with the tie-breaker's, to less than θ
    cannot lift a passage containing only them into the result, so only passages containing
    one of the other terms need scoring: often the passes so far already covered them.
    ``ts_rank_cd`` scoring has no such bounds and scores exhaustively. ``terms`` are the
    query's :func:`term_weights` if the caller has them already.

    ``exact=False`` stops after the first pass: the best passages among those containing the
    rarest terms that fit the budget (always at least the rarest term). Hybrid search uses it
    to nominate candidates only; every candidate of either retriever is scored exactly
    afterwards, and the passages it can miss contain only common words of the query. The
    exact top list of a short paraphrase whose rare words occur in few passages needed some
    ten thousand mid-frequency passages scored (the tail of the latency at 100k passages).
    """
    terms = terms or term_weights(query, params, user)
    if not terms.terms:
        return []
    if params.fulltext_scoring == "ts_rank_cd":
        return run_fulltext(fulltext_sql(terms, user, filters, params, limit))
    bounds = term_bounds(terms, params)
    remaining = sorted(range(len(bounds)), key=lambda i: -bounds[i])
    covered: list[int] = []
    while True:
        # Widen the pass by at least the next most valuable term, up to the passage budget.
        budget = params.fulltext_budget * limit
        widened = False
        while remaining and (not widened or budget >= terms.frequencies[remaining[0]]):
            budget -= terms.frequencies[remaining[0]]
            covered.append(remaining.pop(0))
            widened = True
        rows = run_fulltext(fulltext_sql(terms, user, filters, params, limit, covered))
        if not remaining or not exact:
            return rows
        if len(rows) == limit:
            essential = essential_terms(bounds, rows[-1][2])
            if essential <= set(covered):
                return rows
            return run_fulltext(fulltext_sql(terms, user, filters, params, limit,
                                              sorted(essential)))
        # Fewer than `limit` passages contain these terms: no threshold yet, widen.


def essential_terms(bounds: Sequence[float], threshold: float) -> set[int]:
    """Indices of the terms a passage must contain to possibly score ``threshold`` or more.

    The terms with the smallest bounds are dropped while their bounds plus the tie-breaker's
    stay below the threshold (with a margin for floating-point differences).
    """
    total = TIE_BREAKER_BOUND + 1e-9
    essential = set(range(len(bounds)))
    for index in sorted(range(len(bounds)), key=lambda i: bounds[i]):
        if total + bounds[index] >= threshold:
            break
        total += bounds[index]
        essential.discard(index)
    return essential


def run_fulltext(built: tuple[str, list]) -> list[tuple[int, int, float]]:
    """Run a candidate query with the sequential scan and parallel workers switched off.

    When common words make a tenth of the index match, the planner estimates a sequential scan
    cheaper than the GIN bitmap scan; it is not (every tsvector is read and tested). At a
    million passages the planner also chose a parallel bitmap scan for some queries; starting
    its two workers cost more than they saved, and they take the cores that other searches and
    the query embedding need: without them hybrid search was 7 % and full-text search 11 %
    faster there (median of paired runs, docs/speed-history.md, eleventh round).
    """
    rows = fetch_with_settings(*built, FULLTEXT_PLANNER_SETTINGS)
    return [(row[0], row[1], float(row[2])) for row in rows]
