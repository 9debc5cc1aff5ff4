"""Score fusion and page aggregation: pure functions over passage scores.

Hybrid is weighted score fusion at page level, not reciprocal rank fusion: each retriever's
scores are aggregated per page (best passage, optionally plus a bonus for further passages),
min-max normalised over the candidate pages and mixed with ``KNOWLEDGE_SEARCH_VECTOR_WEIGHT``.
The defaults were tuned on judged queries (``docs/search-ranking.md``); passage-level fusion and
plain RRF remain selectable for the evaluation.
"""

from __future__ import annotations

from collections import defaultdict

from search.params import FusionParams


def vector_weight_for(term_count: int, params: FusionParams) -> float:
    """The vector share of fusion for a query of ``term_count`` distinct terms.

    A two-word keyword query is answered by its words; a question in a colleague's own words
    by its meaning. With ``vector_weight_short`` set, short queries lean on full text and the
    weight rises along the same query-length ramp as BM25's ``b`` to ``vector_weight``.
    """
    short = params.vector_weight_short
    if short is None:
        return params.vector_weight
    return short + (params.vector_weight - short) * params.query_length_ramp(term_count)


def minmax(values: dict[int, float]) -> dict[int, float]:
    """Scores scaled to [0, 1]: the two retrievers' scores live on unrelated scales."""
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high - low < 1e-9:
        return dict.fromkeys(values, 1.0 if high > 0 else 0.0)
    return {k: (v - low) / (high - low) for k, v in values.items()}


def fuse(fulltext: dict[int, float], vector: dict[int, float], vector_weight: float
         ) -> dict[int, float]:
    """Weighted sum of min-max normalised scores; a passage missing a score gets 0 for it."""
    ft_norm = minmax({k: v for k, v in fulltext.items() if v > 0})
    vec_norm = minmax(vector)
    keys = set(fulltext) | set(vector)
    return {
        k: vector_weight * vec_norm.get(k, 0.0) + (1 - vector_weight) * ft_norm.get(k, 0.0)
        for k in keys
    }


def aggregate_pages(passage_scores: dict[int, float], passage_pages: dict[int, int],
                    bonus: float) -> list[tuple[int, float, int]]:
    """Pages ranked by best passage score plus ``bonus`` times the sum of further passages.

    The bonus is small and capped (at most one extra best score) so that a long page with many
    mediocre passages cannot outrank a short page with one excellent passage.
    Returns (page id, score, best passage id), best first.
    """
    by_page: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for passage_id, score in passage_scores.items():
        by_page[passage_pages[passage_id]].append((score, passage_id))
    ranked = []
    for page_id, scored in by_page.items():
        scored.sort(key=lambda item: (-item[0], item[1]))
        best, best_id = scored[0]
        extra = sum(s for s, _ in scored[1:4])
        ranked.append((page_id, best + bonus * min(extra, max(best, 0.0)), best_id))
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked


def fuse_pages(fulltext: dict[int, float], vector: dict[int, float],
               passage_pages: dict[int, int], params: FusionParams,
               passage_scores: dict[int, float] | None = None
               ) -> list[tuple[int, float, int]]:
    """Fusion at page level: each retriever's evidence is first aggregated per page.

    A page whose title passage matches the words and whose body passage matches the meaning
    combines both, which passage-level fusion would miss (each passage would only carry one
    strong score). The snippet is the passage with the best fused passage score;
    ``passage_scores`` are those scores (:func:`fuse`) when the caller has them already.
    """
    ft_pages = aggregate_pages({k: v for k, v in fulltext.items() if v > 0}, passage_pages,
                               params.passage_bonus)
    vec_pages = aggregate_pages(minmax(vector), passage_pages, params.passage_bonus)
    ft_norm = minmax({page: score for page, score, _best in ft_pages})
    vec_norm = minmax({page: score for page, score, _best in vec_pages})
    if passage_scores is None:
        passage_scores = fuse(fulltext, vector, params.vector_weight)
    best_passage: dict[int, tuple[float, int]] = {}
    for passage_id, score in passage_scores.items():
        page = passage_pages[passage_id]
        if page not in best_passage or (score, -passage_id) > (best_passage[page][0],
                                                                -best_passage[page][1]):
            best_passage[page] = (score, passage_id)
    weight = params.vector_weight
    ranked = [
        (page, weight * vec_norm.get(page, 0.0) + (1 - weight) * ft_norm.get(page, 0.0),
         best_passage[page][1])
        for page in best_passage
    ]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked


def reciprocal_rank_fusion(fulltext: dict[int, float], vector: dict[int, float],
                           passage_pages: dict[int, int], params: FusionParams, k: int = 60
                           ) -> list[tuple[int, float, int]]:
    """Plain RRF over the two page rankings (1/(k + rank) summed): only a baseline.

    It ignores how far apart the scores are, so a weak retriever's top ranks count as much as
    a strong one's; on our judged sets it loses to the better single mode.
    """
    scores: dict[int, float] = defaultdict(float)
    best: dict[int, int] = {}
    for ranking in (
        aggregate_pages({k_: v for k_, v in fulltext.items() if v > 0}, passage_pages,
                        params.passage_bonus),
        aggregate_pages(minmax(vector), passage_pages, params.passage_bonus),
    ):
        for rank, (page, _score, passage) in enumerate(ranking, start=1):
            scores[page] += 1.0 / (k + rank)
            best.setdefault(page, passage)
    ranked = [(page, score, best[page]) for page, score in scores.items()]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked
