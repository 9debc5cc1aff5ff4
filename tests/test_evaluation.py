"""The evaluation harness: metric math on hand-made rankings, dataset loading, a tiny run."""

from __future__ import annotations

import json
import math

import pytest

from search import evaluation
from search.evaluation import Query, Scores, mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_by_hand():
    assert ndcg_at_k(["a", "b", "c"], {"a"}) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], {"a"}) == pytest.approx(1 / math.log2(3))
    # Two relevant, found at ranks 1 and 3: (1 + 1/log2(4)) / (1 + 1/log2(3)).
    expected = (1 + 1 / 2) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(["a", "x", "b"], {"a", "b"}) == pytest.approx(expected)
    assert ndcg_at_k(["x"] * 10 + ["a"], {"a"}) == 0.0  # beyond k
    assert ndcg_at_k(["a"], set()) == 0.0
    # More relevant items than k: the ideal ranking is capped at k hits.
    assert ndcg_at_k(list("abcdefghij"), set("abcdefghijklmno")) == pytest.approx(1.0)


def test_recall_and_mrr_by_hand():
    assert recall_at_k(["a", "x", "b"], {"a", "b", "c", "d"}) == pytest.approx(0.5)
    assert recall_at_k(["x"] * 10 + ["a"], {"a"}) == 0.0
    assert mrr_at_k(["x", "y", "a", "b"], {"a", "b"}) == pytest.approx(1 / 3)
    assert mrr_at_k(["x"] * 10 + ["a"], {"a"}) == 0.0
    assert mrr_at_k(["a"], {"a"}, k=1) == 1.0


def test_scores_average():
    scores = Scores.average([(["a"], {"a"}), (["x", "b"], {"b"})])
    assert scores.queries == 2
    assert scores.mrr == pytest.approx((1 + 0.5) / 2)
    assert scores.recall == pytest.approx(1.0)
    assert scores.ndcg == pytest.approx((1 + 1 / math.log2(3)) / 2)
    assert Scores.average([]).queries == 0


def test_load_musterdatenkatalog_format(tmp_path):
    rows = [
        {"id": "m-1", "title": "Abfallkalender 2020", "description": "Termine der Müllabfuhr.",
         "label": "Abfall", "theme": "Abfallwirtschaft", "municipality": "Bonn"},
        {"id": "m-2", "title": "Kurz", "description": "x " * 400, "label": "L",
         "theme": "", "municipality": "Köln"},
    ]
    (tmp_path / "records.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    (tmp_path / "queries.jsonl").write_text(json.dumps(
        {"id": "q1", "record": "m-1", "municipality": "Bonn", "query": "Müll",
         "relevant": ["m-2"]}), encoding="utf-8")
    dataset = evaluation.load_dataset(tmp_path)
    first, second = dataset.records
    assert first["external_id"] == "m-1" and first["type"] == "project"
    assert first["summary"] == "Termine der Müllabfuhr." and first["body"] == ""
    assert first["topics"] == ["Abfallwirtschaft"]
    assert second["summary"].endswith("…") and len(second["body"]) > 700
    assert dataset.queries[0].exclude_municipality == "Bonn"


def test_demo_judgements_are_valid():
    """Every judged demo query points at demo content that exists (>= 40 queries)."""
    from search.management.commands.evaluate_search import demo_content_dir, demo_queries_file

    dataset = evaluation.load_demo_dataset(demo_content_dir(), demo_queries_file())
    ids = {r["external_id"] for r in dataset.records}
    assert len(dataset.queries) >= 40
    for query in dataset.queries:
        assert query.relevant and set(query.relevant) <= ids, query.id
    assert {q.kind for q in dataset.queries} >= {"keyword", "paraphrase", "inflection"}


@pytest.mark.django_db
def test_tiny_end_to_end_evaluation():
    """Import a small dataset, evaluate all four rows; the obvious answers rank first."""
    from tests.conftest import record

    records = [
        record("best_practice", external_id="e-abfall-a", title="Abfallkalender Lemgo",
               municipality="Lemgo", summary="Müllabfuhrtermine als offene Daten."),
        record("best_practice", external_id="e-abfall-b", title="Abfallkalender Detmold",
               municipality="Detmold", summary="Termine der Müllabfuhr als Kalenderdatei."),
        record("best_practice", external_id="e-kita", title="Kita-Plätze online",
               municipality="Detmold", summary="Eltern melden Kinder online an."),
    ]
    dataset = evaluation.Dataset("tiny", records, [
        Query("q1", "Abfallkalender Müllabfuhrtermine", ["e-abfall-b"],
              exclude_municipality="Lemgo"),
        Query("q2", "Kita-Plätze", ["e-kita"]),
    ])
    ids = evaluation.import_dataset(dataset)
    assert sorted(ids.values()) == ["e-abfall-a", "e-abfall-b", "e-kita"]
    scores = evaluation.evaluate(dataset, ids)
    assert set(scores) == {"fulltext", "vector", "hybrid", "wagtail"}
    for mode in ("fulltext", "hybrid"):
        assert scores[mode].mrr == pytest.approx(1.0), mode
    assert scores["hybrid"].queries == 2
    table = evaluation.format_table("### tiny", scores)
    assert "nDCG@10" in table and "Wagtail" in table
