"""Topic feedback (search.topic_feedback) on real PostgreSQL: pages sharing a topic with the
first ranking's top pages gain on their fused score; nothing else moves."""

from __future__ import annotations

import pytest

from search import topic_feedback
from search.params import FusionParams
from search.query import SearchFilters
from search.retrieval import rank_pages
from tests.conftest import record
from tests.retrieval_fixtures import import_indexed, shared_records

pytestmark = pytest.mark.django_db

ON = {"topic_feedback_pages": 2, "topic_feedback_weight": 0.5, "topic_feedback_min_terms": 0}


@pytest.fixture
def corpus(import_lines):
    return import_indexed(import_lines, *shared_records(), record(
        "best_practice", external_id="bp-wertstoff", title="Wertstoffhof-App",
        municipality="Detmold", topics=["Abfallwirtschaft"], date="2023-06-01",
        summary="Öffnungszeiten des Wertstoffhofs in einer App."))


def test_pages_sharing_a_top_topic_gain(corpus):
    abfall, kita, wertstoff = (corpus[e].pk for e in ("bp-abfall", "pr-kita", "bp-wertstoff"))
    ranked = [(abfall, 0.9, 1), (kita, 0.8, 2), (wertstoff, 0.7, 3)]
    # Two top pages: each topic is carried by one of them, so every page gains 0.5 × 1/2.
    two = topic_feedback.rerank(ranked, FusionParams.from_settings(**ON))
    assert [score for _p, score, _b in two] == pytest.approx([1.15, 1.05, 0.95])
    # One top page: only the page sharing its topic (Abfallwirtschaft) gains, and moves up.
    one = topic_feedback.rerank(ranked, FusionParams.from_settings(
        **{**ON, "topic_feedback_pages": 1}))
    scores = {page: score for page, score, _best in one}
    assert scores == pytest.approx({abfall: 1.4, kita: 0.8, wertstoff: 1.2})
    assert [page for page, _s, _b in one] == [abfall, wertstoff, kita]
    rescored = one
    assert {best for _p, _s, best in rescored} == {1, 2, 3}  # snippets stay


def test_pages_without_topics_and_short_rankings_are_left_alone(corpus):
    params = FusionParams.from_settings(**ON)
    assert topic_feedback.rerank([(corpus["pr-kita"].pk, 0.5, 7)], params) == [
        (corpus["pr-kita"].pk, 0.5, 7)]
    assert topic_feedback.rerank([(10**9, 0.5, 1), (10**9 + 1, 0.4, 2)], params) == [
        (10**9, 0.5, 1), (10**9 + 1, 0.4, 2)]


def test_switched_off_or_below_the_term_threshold_nothing_changes(corpus):
    kwargs = {"user": None, "mode": "hybrid", "filters": SearchFilters()}
    off = rank_pages("Abfuhrtermine App", params=FusionParams.from_settings(
        topic_feedback_pages=0), **kwargs)
    gated = rank_pages("Abfuhrtermine App", params=FusionParams.from_settings(
        **{**ON, "topic_feedback_min_terms": 30}), **kwargs)
    on = rank_pages("Abfuhrtermine App", params=FusionParams.from_settings(**ON), **kwargs)
    assert gated.pages == off.pages
    assert [p for p, _s, _b in on.pages] != [] and on.pages != off.pages
    assert {p for p, _s, _b in on.pages} == {p for p, _s, _b in off.pages}
    assert topic_feedback.applies(2, FusionParams.from_settings(**ON))
    assert not topic_feedback.applies(2, FusionParams.from_settings(topic_feedback_pages=0))
