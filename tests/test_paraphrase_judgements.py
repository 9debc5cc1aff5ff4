"""The graded paraphrase set: integrity of the judgements and the graded metric by hand."""

from __future__ import annotations

import json
import math
import re

import pytest

from search import evaluation
from search.management.commands.evaluate_search import (
    demo_content_dir,
    paraphrase_queries_file,
)
from search.metrics import Scores, ndcg_at_k


def _halves():
    return {half: evaluation.load_paraphrase_dataset(demo_content_dir(),
                                                     paraphrase_queries_file(), half)
            for half in evaluation.PARAPHRASE_HALVES}


def test_every_line_is_well_formed():
    lines = paraphrase_queries_file().read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    assert len(rows) >= 40
    assert len({row["id"] for row in rows}) == len(rows)
    assert len({row["query"].casefold() for row in rows}) == len(rows)
    for row in rows:
        assert set(row) == {"id", "half", "query", "grades"}, row["id"]
        assert row["half"] in evaluation.PARAPHRASE_HALVES, row["id"]


def test_judged_ids_exist_and_grades_are_2_1_0():
    halves = _halves()
    ids = {record["external_id"] for record in halves["tuning"].records}
    for dataset in halves.values():
        for query in dataset.queries:
            assert query.grades and set(query.grades) <= ids, query.id
            assert set(query.grades.values()) <= {0, 1, 2}, query.id
            assert 2 in query.grades.values(), query.id  # every query has an answer


def test_halves_are_disjoint_and_big_enough():
    halves = _halves()
    tuning, heldout = ({q.id for q in halves[h].queries} for h in evaluation.PARAPHRASE_HALVES)
    assert len(tuning) >= 20 and len(heldout) >= 20
    assert not tuning & heldout
    texts = [{q.text for q in halves[h].queries} for h in evaluation.PARAPHRASE_HALVES]
    assert not texts[0] & texts[1]


def test_queries_share_few_words_with_their_best_answers():
    """Paraphrases, not keyword queries: on average at most a fifth of a query's longer words
    (>= 5 letters, a crude stand-in for content words) occur in the title or summary of its
    grade-2 pages."""
    halves = _halves()
    texts = {r["external_id"]: f"{r['title']} {r.get('summary', '')}".casefold()
             for r in halves["tuning"].records}
    shares = []
    for dataset in halves.values():
        for query in dataset.queries:
            words = {w for w in re.findall(r"\w+", query.text.casefold()) if len(w) >= 5}
            answers = " ".join(texts[i] for i, grade in query.grades.items() if grade == 2)
            answer_words = set(re.findall(r"\w+", answers))
            shares.append(len(words & answer_words) / len(words))
    assert sum(shares) / len(shares) <= 0.2


def test_graded_ndcg_by_hand():
    grades = {"a": 2, "b": 1, "z": 0}
    assert ndcg_at_k(["a", "b"], grades) == pytest.approx(1.0)
    # Gains 2^g - 1: ideal 3 + 1/log2(3); swapped order 1 + 3/log2(3).
    swapped = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ndcg_at_k(["b", "a"], grades) == pytest.approx(swapped)
    assert ndcg_at_k(["z", "x"], grades) == 0.0  # grade 0 is judged, but no gain
    assert ndcg_at_k(["a"], {"z": 0}) == 0.0


def test_graded_recall_and_mrr_count_grade_one_and_up():
    scores = Scores.average([(["z", "b"], {"a": 2, "b": 1, "z": 0})])
    assert scores.recall == pytest.approx(0.5)
    assert scores.mrr == pytest.approx(0.5)
