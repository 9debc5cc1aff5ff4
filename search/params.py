"""The tunable knobs of ranking, read from settings in one place.

Full text, vectors, fusion and snippets all take a :class:`FusionParams`, so the evaluation
and matching can rank with other values than the search page without touching settings.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings


def setting(name: str, default):
    """A search setting with its default: the ``KNOWLEDGE_SEARCH_*`` / ``KNOWLEDGE_MATCH_*``
    settings are optional, so a deployment sets only what it tunes."""
    return getattr(settings, name, default)


def optional_float(value) -> float | None:
    """A setting that may be unset (None or an empty string from the environment)."""
    return None if value in (None, "") else float(value)


@dataclass(frozen=True)
class FusionParams:
    """The tunable knobs of ranking; defaults come from settings (see docs/search-ranking.md)."""

    vector_weight: float
    candidates: int
    fulltext_candidates: int
    passage_bonus: float
    ef_search: int
    rank_normalization: int
    prefix_min_length: int
    fusion_level: str = "page"
    fulltext_scoring: str = "bm25"
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    bm25_short_query_terms: int = 2
    bm25_long_query_terms: int = 6
    title_boost: float = 2.0
    exact_hybrid_fulltext: bool = False
    # The first pass of full-text pruning scores about this many passages per wanted candidate.
    fulltext_budget: int = 10
    # Hybrid mode: how many passages full text nominates; None = ``candidates``, as many as
    # the HNSW scan. Matching keeps more of the same scored passages (search.matching).
    fulltext_nominees: int | None = None
    # Pseudo-relevance feedback (search.feedback): the query vector moves towards the best
    # passages of this many top pages of the first ranking by this weight; 0 pages = off.
    feedback_pages: int = 3
    feedback_weight: float = 0.5
    # Whether the moved vector also asks the HNSW index for new candidates (one more scan).
    feedback_expand: bool = False
    # Feedback only for queries of at least this many distinct terms (as BM25's ramp counts).
    feedback_min_terms: int = 15
    # Full-text pseudo-relevance feedback (search.term_feedback): the best ``term_feedback_terms``
    # lexemes of the first ranking's top ``term_feedback_pages`` pages join the query as BM25
    # terms of weight ``term_feedback_weight`` × IDF, for queries of at least
    # ``term_feedback_min_terms`` distinct terms; 0 pages = off.
    term_feedback_pages: int = 0
    term_feedback_terms: int = 20
    term_feedback_weight: float = 0.1
    term_feedback_min_terms: int = 6
    # Topic feedback (search.topic_feedback): a page gains ``topic_feedback_weight`` × the share
    # of the top ``topic_feedback_pages`` pages that carry one of its topics; 0 pages = off.
    topic_feedback_pages: int = 3
    topic_feedback_weight: float = 0.2
    topic_feedback_min_terms: int = 0
    # Share of the vector score for short queries (up to ``bm25_short_query_terms`` terms),
    # rising linearly to ``vector_weight`` at ``bm25_long_query_terms``; None = no ramp.
    vector_weight_short: float | None = None
    # Hybrid search embeds the query on a helper thread while full text nominates candidates.
    embed_in_background: bool = True

    def query_length_ramp(self, term_count: int) -> float:
        """0 up to ``bm25_short_query_terms`` distinct terms, 1 from ``bm25_long_query_terms``
        on, linear in between: how far a query is from a keyword query to a description.

        BM25's length normalisation and the fusion weight by query length share this ramp.
        """
        if term_count >= self.bm25_long_query_terms:
            return 1.0
        if term_count <= self.bm25_short_query_terms:
            return 0.0
        span = self.bm25_long_query_terms - self.bm25_short_query_terms
        return (term_count - self.bm25_short_query_terms) / span

    @classmethod
    def from_settings(cls, **overrides) -> FusionParams:
        """The settings' values (``KNOWLEDGE_SEARCH_*``), with ``overrides`` that are not None."""
        values = {
            "vector_weight": float(setting("KNOWLEDGE_SEARCH_VECTOR_WEIGHT", 0.75)),
            "candidates": int(setting("KNOWLEDGE_SEARCH_CANDIDATES", 70)),
            "fulltext_candidates": int(setting("KNOWLEDGE_SEARCH_FULLTEXT_CANDIDATES", 1000)),
            "passage_bonus": float(setting("KNOWLEDGE_SEARCH_PASSAGE_BONUS", 0.0)),
            "ef_search": int(setting("KNOWLEDGE_SEARCH_EF_SEARCH", 70)),
            "rank_normalization": int(setting("KNOWLEDGE_SEARCH_RANK_NORMALIZATION", 1)),
            "prefix_min_length": int(setting("KNOWLEDGE_SEARCH_PREFIX_MIN_LENGTH", 5)),
            "fusion_level": str(setting("KNOWLEDGE_SEARCH_FUSION_LEVEL", "page")),
            "fulltext_scoring": str(setting("KNOWLEDGE_SEARCH_FULLTEXT_SCORING", "bm25")),
            "bm25_k1": float(setting("KNOWLEDGE_SEARCH_BM25_K1", 1.2)),
            "bm25_b": float(setting("KNOWLEDGE_SEARCH_BM25_B", 0.75)),
            "bm25_short_query_terms": int(setting("KNOWLEDGE_SEARCH_BM25_SHORT_QUERY_TERMS", 2)),
            "bm25_long_query_terms": int(setting("KNOWLEDGE_SEARCH_BM25_LONG_QUERY_TERMS", 6)),
            "title_boost": float(setting("KNOWLEDGE_SEARCH_TITLE_BOOST", 2.0)),
            "exact_hybrid_fulltext": bool(setting("KNOWLEDGE_SEARCH_HYBRID_EXACT_FULLTEXT",
                                                   False)),
            "fulltext_budget": int(setting("KNOWLEDGE_SEARCH_FULLTEXT_BUDGET", 10)),
            "feedback_pages": int(setting("KNOWLEDGE_SEARCH_FEEDBACK_PAGES", 3)),
            "feedback_weight": float(setting("KNOWLEDGE_SEARCH_FEEDBACK_WEIGHT", 0.5)),
            "feedback_expand": bool(setting("KNOWLEDGE_SEARCH_FEEDBACK_EXPAND", False)),
            "feedback_min_terms": int(setting("KNOWLEDGE_SEARCH_FEEDBACK_MIN_TERMS", 15)),
            "term_feedback_pages": int(setting("KNOWLEDGE_SEARCH_TERM_FEEDBACK_PAGES", 0)),
            "term_feedback_terms": int(setting("KNOWLEDGE_SEARCH_TERM_FEEDBACK_TERMS", 20)),
            "term_feedback_weight": float(setting("KNOWLEDGE_SEARCH_TERM_FEEDBACK_WEIGHT", 0.1)),
            "term_feedback_min_terms": int(setting("KNOWLEDGE_SEARCH_TERM_FEEDBACK_MIN_TERMS",
                                                   6)),
            "topic_feedback_pages": int(setting("KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_PAGES", 3)),
            "topic_feedback_weight": float(setting("KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_WEIGHT",
                                                   0.2)),
            "topic_feedback_min_terms": int(setting("KNOWLEDGE_SEARCH_TOPIC_FEEDBACK_MIN_TERMS",
                                                    0)),
            "vector_weight_short": optional_float(setting("KNOWLEDGE_SEARCH_VECTOR_WEIGHT_SHORT",
                                                          None)),
            "embed_in_background": bool(setting("KNOWLEDGE_SEARCH_EMBED_IN_BACKGROUND", True)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)
