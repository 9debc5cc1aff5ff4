"""Topic feedback: a page-level signal from stored data, for hybrid search's final ranking.

Why: the best pages of a ranking mostly agree on what the query is about, and the editors'
topics say it in one word. After fusion, each topic of the top ``topic_feedback_pages`` pages
counts how many of them carry it; every candidate page gains ``topic_feedback_weight`` × (the
largest such count among its own topics) / ``topic_feedback_pages`` on its fused score (which
lies in [0, 1]). A page sharing a topic with all top pages gains the full weight, a page
without a shared topic nothing. The candidates' topics come from the pages' remembered
facts (:mod:`search.page_facts`, no text, no vectors); topics are public snippets, and the
candidates are pages the user may see. Measured in docs/search-ranking.md, eighth round.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from search.page_facts import facts_for
from search.params import FusionParams

Ranked = list[tuple[int, float, int]]  # (page id, score, best passage id), best first


def applies(term_count: int, params: FusionParams) -> bool:
    """Whether a query of ``term_count`` distinct terms gets topic feedback."""
    return (params.topic_feedback_pages > 0 and params.topic_feedback_weight > 0
            and term_count >= params.topic_feedback_min_terms)


def rerank(ranked: Ranked, params: FusionParams) -> Ranked:
    """``ranked`` with the topic bonus added and sorted again (ties by page id, as fusion)."""
    if len(ranked) < 2:
        return ranked
    topics = page_topics([page for page, _score, _best in ranked])
    top = params.topic_feedback_pages
    shared = Counter(topic for page, _score, _best in ranked[:top]
                     for topic in topics.get(page, ()))
    if not shared:
        return ranked
    weight = params.topic_feedback_weight / top
    rescored = [(page, score + weight * max((shared[t] for t in topics.get(page, ())),
                                            default=0), best)
                for page, score, best in ranked]
    rescored.sort(key=lambda item: (-item[1], item[0]))
    return rescored


def page_topics(page_ids: Sequence[int]) -> dict[int, frozenset[int]]:
    """Topic ids per page (pages without topics are missing), from the remembered facts."""
    return {page_id: facts.topic_ids for page_id, facts in facts_for(page_ids).items()
            if facts.topics}
