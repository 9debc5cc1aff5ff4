"""Ranking quality metrics: nDCG@k (binary or graded), recall@k and MRR@k, averaged per set.

Kept apart from :mod:`search.evaluation` (datasets and runs) so that the formulas can be read
and tested on their own. Binary relevance, except for graded judgements (a mapping id ->
grade 2/1/0): there nDCG uses the gain 2^grade − 1 and the ideal ranking sorts the judged
grades, while recall and MRR count grade >= 1 as relevant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

K = 10


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of gains in rank order."""
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str] | Mapping[str, int],
              k: int = K) -> float:
    """nDCG@k; ``relevant`` is a set of ids (binary) or a mapping id -> grade (gain 2^g − 1)."""
    if isinstance(relevant, Mapping):
        gain = {item: 2.0 ** grade - 1.0 for item, grade in relevant.items() if grade > 0}
    else:
        gain = dict.fromkeys(relevant, 1.0)
    if not gain:
        return 0.0
    ideal = dcg(sorted(gain.values(), reverse=True)[:k])
    return dcg([gain.get(item, 0.0) for item in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    relevant = set(relevant)
    if not relevant:
        return 0.0
    return len(relevant & set(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int = K) -> float:
    relevant = set(relevant)
    for i, item in enumerate(ranked[:k]):
        if item in relevant:
            return 1.0 / (i + 1)
    return 0.0


def _relevant_ids(relevant: Iterable[str] | Mapping[str, int]) -> set[str]:
    """The ids that count as hits for recall and MRR (grade >= 1 in a graded judgement)."""
    if isinstance(relevant, Mapping):
        return {item for item, grade in relevant.items() if grade > 0}
    return set(relevant)


@dataclass
class Scores:
    ndcg: float = 0.0
    recall: float = 0.0
    mrr: float = 0.0
    queries: int = 0

    @classmethod
    def average(cls, rankings: Sequence[tuple[Sequence[str], Iterable[str]]], k: int = K
                ) -> Scores:
        n = len(rankings)
        if not n:
            return cls()
        judged = [(ranked, relevant, _relevant_ids(relevant)) for ranked, relevant in rankings]
        return cls(
            ndcg=sum(ndcg_at_k(r, graded, k) for r, graded, _rel in judged) / n,
            recall=sum(recall_at_k(r, rel, k) for r, _graded, rel in judged) / n,
            mrr=sum(mrr_at_k(r, rel, k) for r, _graded, rel in judged) / n,
            queries=n,
        )
