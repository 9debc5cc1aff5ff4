"""Search's remembered page facts (search.page_facts) on real PostgreSQL: result lists and
facets read pages from memory, and any committed content change shows in the next search."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from knowledge.models import Municipality, Topic
from search import page_facts
from search.retrieval import search
from tests.retrieval_fixtures import import_indexed, shared_records

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(import_lines):
    return import_indexed(import_lines, *shared_records())


def _hit(results, page):
    return next(hit for hit in results.results if hit.page_id == page.pk)


def _labels(results, kind):
    return {facet.label: facet.count for facet in results.facets[kind]}


def test_a_repeated_search_reads_no_page_columns_again(corpus):
    first = search("Abfuhrtermine", mode="fulltext")
    assert _hit(first, corpus["bp-abfall"]).topics == ["Abfallwirtschaft"]
    with CaptureQueriesContext(connection) as queries:
        again = search("Abfuhrtermine", mode="fulltext")
    statements = " ".join(query["sql"] for query in queries)
    assert "knowledge_knowledgepage_topics" not in statements
    assert "knowledge_municipality" not in statements
    assert [hit.as_dict() for hit in again.results] == [hit.as_dict() for hit in first.results]
    assert again.facets == first.facets


def test_committed_renames_and_moves_show_in_the_next_search(
        corpus, django_capture_on_commit_callbacks):
    abfall = corpus["bp-abfall"]
    before = search("Abfuhrtermine", mode="fulltext")
    assert _hit(before, abfall).municipality == "Lemgo"
    assert _labels(before, "topics") == {"Abfallwirtschaft": 1}

    with django_capture_on_commit_callbacks(execute=True):
        topic = Topic.objects.get(name="Abfallwirtschaft")
        topic.name = "Abfall und Wertstoffe"
        topic.save()
        municipality = Municipality.objects.get(name="Lemgo")
        municipality.name = "Alte Hansestadt Lemgo"
        municipality.save()
    renamed = search("Abfuhrtermine", mode="fulltext")
    hit = _hit(renamed, abfall)
    assert hit.topics == ["Abfall und Wertstoffe"]
    assert hit.municipality == "Alte Hansestadt Lemgo"
    assert _labels(renamed, "topics") == {"Abfall und Wertstoffe": 1}
    assert _labels(renamed, "municipalities") == {"Alte Hansestadt Lemgo": 1}

    with django_capture_on_commit_callbacks(execute=True):
        abfall.move(corpus["pr-kita"], pos="last-child")
    moved = search("Abfuhrtermine", mode="fulltext")
    assert _hit(moved, abfall).url.startswith(corpus["pr-kita"].url)
    assert _hit(moved, abfall).url != _hit(before, abfall).url


def test_facts_of_a_changed_token_are_loaded_again(corpus):
    abfall = corpus["bp-abfall"]
    with page_facts.pinned():
        assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Digitaler Abfallkalender"
        abfall.title = "Abfallkalender als App"
        abfall.save()  # the token is renewed on commit only: this search keeps its view
        assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Digitaler Abfallkalender"
    from knowledge.page_cache import renew_token

    renew_token()
    assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Abfallkalender als App"
    assert page_facts.facts_for([10**9]) == {}  # no such page: missing, not an error
