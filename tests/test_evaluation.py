"""The evaluation harness: metric math on hand-made rankings, dataset loading, a tiny run."""

from __future__ import annotations

import json
import math
import re

import pytest

from search import evaluation
from search.evaluation import Query
from search.metrics import Scores, mrr_at_k, ndcg_at_k, recall_at_k


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


# --- Matching (/lernen/) -------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ„])")


def test_matching_judgements_are_valid():
    """The judged project descriptions: >= 20, 3-6 sentences, material of OTHER municipalities."""
    from search.management.commands.evaluate_search import (
        demo_content_dir,
        matching_descriptions_file,
    )

    dataset = evaluation.load_matching_dataset(demo_content_dir(), matching_descriptions_file())
    records = {r["external_id"]: r for r in dataset.records}
    municipalities = {r["municipality"] for r in records.values()}
    topics = {t["name"] for t in json.loads(
        (demo_content_dir() / "topics.json").read_text(encoding="utf-8"))}
    assert len(dataset.queries) >= 20
    assert len({q.id for q in dataset.queries}) == len(dataset.queries)
    assert len({q.text for q in dataset.queries}) == len(dataset.queries)
    for query in dataset.queries:
        assert query.exclude_municipality in municipalities, query.id
        assert 3 <= len(_SENTENCE.split(query.text)) <= 6, query.id
        assert 2 <= len(query.relevant) <= 8 and len(set(query.relevant)) == len(query.relevant)
        for external_id in query.relevant:
            assert external_id in records, (query.id, external_id)
            assert records[external_id]["municipality"] != query.exclude_municipality, (
                query.id, external_id)
        assert set(query.topics) <= topics, query.id
    # Spread over the demo content, not one topic: many different pages are judged helpful.
    judged = {e for q in dataset.queries for e in q.relevant}
    assert len(judged) >= 60
    assert {records[e]["type"] for e in judged} == {"project", "session_protocol",
                                                     "lesson_learned", "best_practice"}


def _item(page_id, score, kind="best_practice", members=()):
    from search.match_items import MatchItem

    return MatchItem(page_id=page_id, title=str(page_id), url="", knowledge_type=kind,
                     type_label="", municipality="", municipality_slug="", external_id=None,
                     date=None, score=score, topics=[], shared_topics=[], explanations=[],
                     members=list(members))


def test_matching_ranking_flattens_groups_by_score_with_folded_members_after_their_entry():
    from search.matching import MatchGroup, MatchResults

    protocols = [_item(5, 0.7, "session_protocol"), _item(6, 0.2, "session_protocol")]
    results = MatchResults("…", [
        MatchGroup("lessons_learned", "", [_item(1, 0.9, "lesson_learned"),
                                           _item(2, 0.4, "lesson_learned")]),
        MatchGroup("best_practices", "", [_item(3, 0.8), _item(4, 0.1)]),
        MatchGroup("projects", "", [_item(7, 0.5, "project", members=protocols)]),
    ], [], False, "")
    assert evaluation.matching_ranking(results) == [1, 3, 7, 5, 6, 2, 4]


@pytest.mark.django_db
def test_tiny_matching_evaluation():
    """The matching row runs the /lernen/ path: own material excluded, protocols folded, and at
    least ten suggestions for the metric although each group is capped."""
    from tests.conftest import record

    records = [
        record("project", external_id="t-proj", title="Digitaler Posteingang",
               municipality="Detmold", summary="Zentrale Scanstelle für die Briefpost."),
        record("session_protocol", external_id="t-prot", project="t-proj",
               municipality="Detmold", title="1. Sitzung Scanstelle",
               summary="Die Projektgruppe plant die Scanstelle für den Posteingang."),
        record("lesson_learned", external_id="t-lesson", project="t-proj",
               municipality="Detmold", title="Scanstelle: Vorbereitung kostet Zeit",
               summary="Das Entklammern und Sortieren der Post dauert länger als das Scannen."),
        record("best_practice", external_id="t-own", title="Posteingang scannen in Lemgo",
               municipality="Lemgo", summary="Lemgo scannt die Briefpost zentral."),
        *[record("best_practice", external_id=f"t-other-{n}", municipality="Vlotho",
                 title=f"Gute Praxis Nummer {n}", summary="Ein ganz anderes Thema der Verwaltung.")
          for n in range(12)],
    ]
    dataset = evaluation.Dataset("tiny-matching", records, [
        Query("q1", "Wir wollen unsere Briefpost zentral scannen und den Posteingang "
              "digitalisieren. Wie viel Personal braucht die Scanstelle? Wer hat das schon "
              "gemacht?", ["t-lesson", "t-proj", "t-prot"], exclude_municipality="Lemgo"),
    ])
    ids = evaluation.import_dataset(dataset)

    from knowledge.models import Municipality
    from search.matching import match_project

    results = match_project(dataset.queries[0].text, user=None,
                            municipality=Municipality.objects.get(name="Lemgo"), limit=10)
    ranked = [ids[pid] for pid in evaluation.matching_ranking(results)]
    assert "t-own" not in ranked
    assert len(ranked) >= 10
    assert set(ranked[:3]) == {"t-lesson", "t-proj", "t-prot"}

    scores = evaluation.evaluate(dataset, ids, ("hybrid", evaluation.MATCHING))
    assert scores[evaluation.MATCHING].queries == 1
    assert scores[evaluation.MATCHING].recall == pytest.approx(1.0)
    assert scores[evaluation.MATCHING].ndcg == pytest.approx(1.0)
    table = evaluation.format_table("### tiny", scores)
    assert "Matching (/lernen/)" in table
