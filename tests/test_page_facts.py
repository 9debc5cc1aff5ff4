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

    def rename(model, name, new_name):
        """Each rename in a commit of its own: one renewal must not hide another's absence."""
        with django_capture_on_commit_callbacks(execute=True):
            item = model.objects.get(name=name)
            item.name = new_name
            item.save()
        return search("Abfuhrtermine", mode="fulltext")

    renamed = rename(Topic, "Abfallwirtschaft", "Abfall und Wertstoffe")
    assert _hit(renamed, abfall).topics == ["Abfall und Wertstoffe"]
    assert _labels(renamed, "topics") == {"Abfall und Wertstoffe": 1}

    renamed = rename(Municipality, "Lemgo", "Alte Hansestadt Lemgo")
    assert _hit(renamed, abfall).municipality == "Alte Hansestadt Lemgo"
    assert _labels(renamed, "municipalities") == {"Alte Hansestadt Lemgo": 1}

    with django_capture_on_commit_callbacks(execute=True):
        abfall.move(corpus["pr-kita"], pos="last-child")
    moved = search("Abfuhrtermine", mode="fulltext")
    assert _hit(moved, abfall).url.startswith(corpus["pr-kita"].url)
    assert _hit(moved, abfall).url != _hit(before, abfall).url

    # A new slug of the parent changes the URL of every page below it.
    with django_capture_on_commit_callbacks(execute=True):
        kita = corpus["pr-kita"]
        kita.slug = "kita-portal-neu"
        kita.save_revision().publish()
    assert "/kita-portal-neu/" in _hit(search("Abfuhrtermine", mode="fulltext"), abfall).url


def test_an_exported_page_gets_its_external_id_in_search_hits(
        import_lines, make_page, django_capture_on_commit_callbacks):
    from knowledge.importing import export_pages
    from knowledge.models import KnowledgePage

    corpus = import_indexed(import_lines, *shared_records())
    abfall = corpus["bp-abfall"]
    KnowledgePage.objects.filter(pk=abfall.pk).update(external_id=None)  # made in the admin
    page_facts.forget()
    assert _hit(search("Abfuhrtermine", mode="fulltext"), abfall).external_id is None
    with django_capture_on_commit_callbacks(execute=True):
        list(export_pages())
    hit = _hit(search("Abfuhrtermine", mode="fulltext"), abfall)
    assert hit.external_id == f"wagtail-{abfall.pk}"


def test_one_search_keeps_one_view_of_the_facts(corpus):
    from knowledge.page_cache import renew_token

    abfall = corpus["bp-abfall"]
    with page_facts.pinned():
        assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Digitaler Abfallkalender"
        abfall.title = "Abfallkalender als App"
        abfall.save()
        renew_token()  # as after a commit in another process, while this search runs
        assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Digitaler Abfallkalender"
    assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Abfallkalender als App"
    assert page_facts.facts_for([10**9]) == {}  # no such page: missing, not an error


def test_facts_expire_even_without_a_new_token(corpus, monkeypatch):
    abfall = corpus["bp-abfall"]
    assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Digitaler Abfallkalender"
    abfall.title = "Abfallkalender als App"
    abfall.save()  # not committed: the token stays
    assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Digitaler Abfallkalender"
    monkeypatch.setattr(page_facts, "MAX_AGE_SECONDS", -1)
    page_facts.forget()  # a store made now is already past its age
    page_facts.facts_for([abfall.pk])
    abfall.title = "Abfallkalender 2025"
    abfall.save()
    assert page_facts.facts_for([abfall.pk])[abfall.pk].title == "Abfallkalender 2025"


def test_a_search_without_results_reads_no_token(corpus):
    with CaptureQueriesContext(connection) as queries:
        results = search("Zebraschnecke", mode="fulltext")
    assert results.results == [] and results.facets["topics"] == []
    assert not any("pagecachegeneration" in query["sql"] for query in queries)


def test_a_search_begun_before_a_renewal_leaves_the_new_facts_in_place(corpus):
    import contextvars

    from knowledge.page_cache import renew_token

    abfall = corpus["bp-abfall"]
    with page_facts.pinned():  # a search that read the token before the renewal
        page_facts.facts_for([abfall.pk])
        renew_token()
        # A search begun after the renewal (no pin of its own yet) fills the new token's store.
        contextvars.Context().run(page_facts.facts_for, [abfall.pk])
        assert page_facts.facts_for([abfall.pk])  # the older search keeps its own
    with CaptureQueriesContext(connection) as queries:
        page_facts.facts_for([abfall.pk])
    assert not any("kp.external_id" in query["sql"] for query in queries)
