"""Pseudo-relevance feedback (search.feedback): the moved query vector and how hybrid uses it.

Real PostgreSQL and the configured embedding model. The feedback passages must come from the
candidates the user may see, so a restricted page can neither be found through feedback nor
steer the vector of someone who may not view it.
"""

from __future__ import annotations

import numpy as np
import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from search.embedding import get_embedder
from search.feedback import feedback_vector, similarities
from search.models import Passage
from search.params import FusionParams
from search.query import SearchFilters
from search.retrieval import rank_pages, search
from tests.conftest import record
from tests.retrieval_fixtures import import_indexed, index_pages, shared_records

pytestmark = pytest.mark.django_db

LONG_QUERY = ("Wir möchten die Termine der Müllabfuhr für alle Tonnen im Internet "
              "veröffentlichen, damit Bürgerinnen und Bürger nicht mehr im Rathaus anrufen")


@pytest.fixture
def corpus(import_lines):
    return import_indexed(import_lines, *shared_records())


def _passage_ids(external_id: str) -> list[int]:
    from knowledge.models import KnowledgePage

    page = KnowledgePage.objects.get(external_id=external_id)
    return list(Passage.objects.filter(page_id=page.pk).values_list("pk", flat=True))


def test_feedback_vector_moves_towards_the_feedback_passages(corpus):
    embedder = get_embedder()
    query = np.asarray(embedder.embed_query("Kinderbetreuung"), dtype=np.float32)
    target = _passage_ids("bp-abfall")
    before = similarities(target, query, embedder.model_id)
    moved = feedback_vector(query, target, 0.5, embedder.model_id)
    after = similarities(target, moved, embedder.model_id)
    assert np.linalg.norm(moved) == pytest.approx(1.0, abs=1e-5)
    assert all(after[pid] > before[pid] for pid in target)


def test_no_feedback_without_passages_weight_or_vectors_of_the_model(corpus):
    embedder = get_embedder()
    query = embedder.embed_query("Kinderbetreuung")
    target = _passage_ids("bp-abfall")
    assert feedback_vector(query, [], 0.5, embedder.model_id) is query
    assert feedback_vector(query, target, 0.0, embedder.model_id) is query
    assert feedback_vector(query, target, 0.5, "another-model:384:0") is query
    assert similarities(target, query, "another-model:384:0") == {}


def test_queries_below_the_term_threshold_are_ranked_without_feedback(corpus):
    off = FusionParams.from_settings(feedback_pages=0)
    gated = FusionParams.from_settings(feedback_pages=3, feedback_weight=1.0,
                                       feedback_min_terms=30)
    kwargs = {"user": None, "mode": "hybrid", "filters": SearchFilters()}
    assert (rank_pages(LONG_QUERY, params=gated, **kwargs).passage_scores
            == rank_pages(LONG_QUERY, params=off, **kwargs).passage_scores)


def test_feedback_rescores_the_vector_side_of_long_queries(corpus):
    off = FusionParams.from_settings(feedback_pages=0)
    on = FusionParams.from_settings(feedback_pages=1, feedback_weight=1.0,
                                    feedback_min_terms=5)
    kwargs = {"user": None, "mode": "hybrid", "filters": SearchFilters()}
    plain = rank_pages(LONG_QUERY, params=off, **kwargs)
    fed = rank_pages(LONG_QUERY, params=on, **kwargs)
    assert fed.passage_scores != plain.passage_scores
    assert fed.pages[0][0] == plain.pages[0][0]  # the obvious answer stays on top


@pytest.mark.parametrize("expand", [False, True])
def test_feedback_never_reaches_restricted_pages(corpus, import_lines, user_in, expand):
    from knowledge.models import KnowledgePage

    import_lines(record("best_practice", external_id="bp-secret", title="Geheime Abfuhrtermine",
                        municipality="Geheimstadt", summary="Vertrauliche Müllabfuhrtermine "
                        "aller Tonnen, nur für die Beratung veröffentlicht."))
    secret = KnowledgePage.objects.get(external_id="bp-secret").specific
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Beratung"))
    index_pages([secret])
    params = FusionParams.from_settings(feedback_pages=3, feedback_weight=1.0,
                                        feedback_expand=expand, feedback_min_terms=0)
    for user in (None, user_in("Kommune")):
        results = search(LONG_QUERY, user=user, params=params, limit=50)
        assert "bp-secret" not in {hit.external_id for hit in results.results}
        assert all("Geheim" not in hit.title for hit in results.results)
        ranking = rank_pages(LONG_QUERY, user=user, mode="hybrid", filters=SearchFilters(),
                             params=params)
        assert not set(ranking.passage_scores) & set(_passage_ids("bp-secret"))
    beratung = search(LONG_QUERY, user=user_in("Beratung"), params=params, limit=50)
    assert "bp-secret" in {hit.external_id for hit in beratung.results}
