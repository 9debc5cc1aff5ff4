"""Full-text pseudo-relevance feedback (search.term_feedback) on real PostgreSQL.

The expansion terms come from the first ranking's top pages: lexemes shared by at least two of
them, never query terms, weighted by IDF over the passages the user may see; their BM25 part
is the same expression as the query's own terms; short queries are left alone; and restricted
pages neither appear nor lend their words to someone who may not see them.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from wagtail.models import PageViewRestriction

from search import term_feedback
from search.fulltext import bm25_term_factor, length_normalisation
from search.models import Passage
from search.params import FusionParams
from search.query import SearchFilters
from search.retrieval import rank_pages, search
from search.statistics import bm25_idf, corpus_size, lexeme_frequencies, term_weights
from tests.conftest import record
from tests.retrieval_fixtures import import_indexed, index_pages, shared_records

pytestmark = pytest.mark.django_db

LONG_QUERY = ("Wir möchten die Termine der Müllabfuhr für alle Tonnen im Internet "
              "veröffentlichen, damit Bürgerinnen und Bürger nicht mehr im Rathaus anrufen")
ON = {"term_feedback_pages": 3, "term_feedback_terms": 20, "term_feedback_weight": 0.5,
      "term_feedback_min_terms": 0}


def _more_records() -> list[dict]:
    """Two more pages about waste collection dates that share the word "Wertstoffhof"."""
    return [
        record("best_practice", external_id="bp-wertstoff", title="Abfuhrkalender online",
               municipality="Detmold", summary="Termine der Abfuhr und des Wertstoffhofs "
               "im Internet, mit Erinnerung per E-Mail."),
        record("project", external_id="pr-wertstoff", title="Wertstoffhof-App",
               municipality="Bielefeld", summary="Öffnungszeiten des Wertstoffhofs und die "
               "Abfuhrtermine in einer App für Bürgerinnen und Bürger."),
    ]


@pytest.fixture
def corpus(import_lines):
    return import_indexed(import_lines, *shared_records(), *_more_records())


def _page_ids(corpus, *external_ids) -> list[int]:
    return [corpus[e].pk for e in external_ids]


def test_expansion_terms_are_shared_lexemes_that_are_no_query_terms(corpus):
    params = FusionParams.from_settings(**ON)
    terms = term_weights("Abfuhrtermine im Internet", params)
    pages = _page_ids(corpus, "bp-wertstoff", "pr-wertstoff")
    expansion = term_feedback.expansion_terms(pages, terms, params)
    lexemes = [lexeme for lexeme, _idf in expansion]
    assert "wertstoffhof" in lexemes  # in both pages, not in the query
    assert "internet" not in lexemes  # a query term
    assert "bielefeld" not in lexemes  # one page only
    frequencies = lexeme_frequencies(lexemes)
    total = corpus_size()
    assert all(idf == pytest.approx(bm25_idf(frequencies[lexeme], total))
               for lexeme, idf in expansion)
    # Ranked by pages × IDF: both feedback pages count, so the order is by IDF here.
    assert [idf for _lexeme, idf in expansion] == sorted((idf for _l, idf in expansion),
                                                         reverse=True)


def test_no_expansion_from_fewer_than_two_pages_or_without_terms(corpus):
    params = FusionParams.from_settings(**ON)
    terms = term_weights("Abfuhrtermine", params)
    assert term_feedback.expansion_terms(_page_ids(corpus, "bp-wertstoff"), terms, params) == []
    none = FusionParams.from_settings(**{**ON, "term_feedback_terms": 0})
    assert term_feedback.expansion_terms(_page_ids(corpus, "bp-wertstoff", "pr-wertstoff"),
                                         terms, none) == []


def test_expansion_scores_are_the_bm25_expression_of_the_query_terms(corpus):
    params = FusionParams.from_settings(**ON)
    terms = term_weights(LONG_QUERY, params)
    passages = list(Passage.objects.filter(page_id=corpus["pr-wertstoff"].pk))
    expansion = [("wertstoffhof", 2.0)]
    scores = term_feedback.expansion_scores([p.pk for p in passages], expansion, terms, params)
    assert scores  # the overview passage has the word in title and summary
    b = length_normalisation(len(terms.terms), params)
    for passage in passages:
        if passage.pk not in scores:
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT length(search_vector), search_vector @@ "
                           "'wertstoffhof:A'::tsquery FROM search_passage WHERE id = %s",
                           [passage.pk])
            length, in_title = cursor.fetchone()
        tf = 1 + params.title_boost if in_title else 1.0
        expected = (params.term_feedback_weight * 2.0
                    * bm25_term_factor(length, terms.average_length, params.bm25_k1, b, tf))
        assert scores[passage.pk] == pytest.approx(expected, rel=1e-6)


def test_short_queries_are_ranked_without_term_feedback(corpus):
    off = FusionParams.from_settings(term_feedback_pages=0)
    gated = FusionParams.from_settings(**{**ON, "term_feedback_min_terms": 30})
    kwargs = {"user": None, "mode": "hybrid", "filters": SearchFilters()}
    assert (rank_pages(LONG_QUERY, params=gated, **kwargs).passage_scores
            == rank_pages(LONG_QUERY, params=off, **kwargs).passage_scores)


def test_term_feedback_rescores_the_fulltext_side(corpus):
    off = FusionParams.from_settings(term_feedback_pages=0)
    on = FusionParams.from_settings(**ON)
    kwargs = {"user": None, "mode": "hybrid", "filters": SearchFilters()}
    plain = rank_pages(LONG_QUERY, params=off, **kwargs)
    fed = rank_pages(LONG_QUERY, params=on, **kwargs)
    assert fed.passage_scores != plain.passage_scores
    assert set(fed.passage_scores) == set(plain.passage_scores)  # no new candidates
    assert fed.pages[0][0] == plain.pages[0][0]  # the obvious answer stays on top


def test_term_feedback_never_uses_restricted_pages(corpus, import_lines, user_in, monkeypatch):
    from knowledge.models import KnowledgePage

    import_lines(record("best_practice", external_id="bp-secret", title="Geheime Abfuhrtermine",
                        municipality="Geheimstadt", summary="Vertrauliche Müllabfuhrtermine "
                        "aller Tonnen im Internet, Geheimwort Zauberbesen."))
    secret = KnowledgePage.objects.get(external_id="bp-secret").specific
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Beratung"))
    index_pages([secret])
    params = FusionParams.from_settings(**ON)
    secret_passages = set(Passage.objects.filter(page_id=secret.pk).values_list("pk", flat=True))
    calls = []
    original = term_feedback.expansion_terms

    def recording(pages, *args, **kwargs):
        calls.append(list(pages))
        return original(pages, *args, **kwargs)

    monkeypatch.setattr(term_feedback, "expansion_terms", recording)
    for user in (None, user_in("Kommune")):
        results = search(LONG_QUERY, user=user, params=params, limit=50)
        assert "bp-secret" not in {hit.external_id for hit in results.results}
        ranking = rank_pages(LONG_QUERY, user=user, mode="hybrid", filters=SearchFilters(),
                             params=params)
        assert not set(ranking.passage_scores) & secret_passages
    assert calls and all(secret.pk not in pages for pages in calls)
    beratung = search(LONG_QUERY, user=user_in("Beratung"), params=params, limit=50)
    assert "bp-secret" in {hit.external_id for hit in beratung.results}
