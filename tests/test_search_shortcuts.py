"""Shortcuts of the search's hot path give the answers of the long way they replace.

Every search used to read the index generation up to three times, ask whether the model has
passages, look up the request's site and build a page instance per result URL. These tests
pin down that the cheaper paths answer exactly like the originals, and notice change.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from wagtail.models import Page, Site

from search.models import IndexGeneration
from search.results import page_urls
from search.vector import model_has_passages

pytestmark = pytest.mark.django_db


def test_pinned_generation_is_read_once_and_released_after_the_block():
    IndexGeneration.bump()
    before = IndexGeneration.current()
    with CaptureQueriesContext(connection) as queries, IndexGeneration.pinned() as pinned:
        assert pinned == before
        IndexGeneration.bump()  # a write during the search ...
        assert IndexGeneration.current() == before  # ... does not change what it sees
        with IndexGeneration.pinned() as nested:
            assert nested == before
    assert len([q for q in queries.captured_queries if "SELECT value" in q["sql"]]) == 1
    assert IndexGeneration.current() == before + 1  # the next search sees the write


def test_generation_without_row_is_zero():
    IndexGeneration.objects.all().delete()
    assert IndexGeneration.current() == 0


def test_model_check_is_cached_per_generation(make_page):
    from search.models import Passage

    page = make_page("best_practice", title="Abfallkalender")
    Passage.objects.filter(page=page).delete()
    Passage.objects.create(page=page, position=0, kind=Passage.Kind.OVERVIEW,
                           text="Abfallkalender", content_hash="-", model_id="m:1",
                           knowledge_type="best_practice", date=page.date,
                           municipality=page.municipality)
    IndexGeneration.bump()
    assert model_has_passages("m:1") and not model_has_passages("m:2")
    with CaptureQueriesContext(connection) as queries:
        assert model_has_passages("m:1")
    assert not [q for q in queries.captured_queries if "search_passage" in q["sql"]]
    Passage.objects.update(model_id="m:2")
    IndexGeneration.bump()  # as the index writer announces every passage change
    assert not model_has_passages("m:1") and model_has_passages("m:2")


def _wagtail_url(page, request):
    return Page.objects.get(pk=page.pk).get_url(request=request) or ""


def test_result_urls_equal_wagtails_with_one_site(make_page):
    pages = [make_page("best_practice", title=f"Seite {n}") for n in range(3)]
    request = RequestFactory().get("/suche/")
    Site.get_site_root_paths()  # Wagtail's own cache of the root paths, filled once
    with CaptureQueriesContext(connection) as queries:
        url = page_urls(request)
        urls = [url(p.pk, p.url_path) for p in pages]
    assert urls == [_wagtail_url(p, request) for p in pages]
    assert all(url.startswith("/") for url in urls)
    assert not [q for q in queries.captured_queries if "wagtailcore_site" in q["sql"]]


def test_result_urls_equal_wagtails_with_several_sites(make_page):
    """A page only another site serves gets that site's absolute URL, as from Wagtail."""
    here = make_page("best_practice", title="Hier")
    there = Page.get_first_root_node().add_child(instance=Page(title="Andere", slug="andere"))
    Site.objects.create(hostname="andere.example", port=80, root_page=there)
    Site.clear_site_root_paths_cache()
    try:
        request = RequestFactory().get("/suche/", HTTP_HOST="localhost")
        url = page_urls(request)
        for page in (here, there):
            assert url(page.pk, page.url_path) == _wagtail_url(page, request)
        assert url(here.pk, here.url_path).startswith("/")
        assert url(there.pk, there.url_path) == "http://andere.example/"
    finally:
        Site.clear_site_root_paths_cache()


def test_query_terms_are_normalised_by_postgresql_once():
    from search.statistics import normalised_terms

    tokens = ["Abfallkalender:*", "der", "Müllabfuhr", "Abfallkalender:*"]
    with CaptureQueriesContext(connection) as first:
        terms = normalised_terms(tokens)
    assert terms == ["'abfallkal':*", "'mullabfuhr'"]  # stemmed, stop word gone, distinct
    assert len([q for q in first.captured_queries if "to_tsquery" in q["sql"]]) == 1
    with CaptureQueriesContext(connection) as again:
        assert normalised_terms(["Müllabfuhr", "der"]) == ["'mullabfuhr'"]
    assert not again.captured_queries
    with CaptureQueriesContext(connection) as mixed:  # only the new token is asked for
        assert normalised_terms(["Müllabfuhr", "Wertstoffhof"]) == ["'mullabfuhr'",
                                                                  "'wertstoffhof'"]
    [statement] = mixed.captured_queries
    assert "Wertstoffhof" in statement["sql"] and "Müllabfuhr" not in statement["sql"]


def test_vector_literals_are_formatted_once_per_vector():
    import numpy as np

    from search.vector import vector_literal

    vector = np.array([0.25, -1.5, 1e-8], dtype=np.float32)
    assert vector_literal(vector) == "[0.25,-1.5,1e-08]"
    assert vector_literal(vector) is vector_literal(vector.copy())  # remembered by value
    assert vector_literal(np.array([0.25, -1.5, 1e-8])) == "[0.25,-1.5,1e-08]"  # float64
    assert vector_literal([0.5, 2]) == "[0.5,2]"


def test_planner_settings_travel_with_their_statement_and_end_with_it(monkeypatch):
    """One round trip; in autocommit mode (production) the settings end with the statement.

    On a connection of its own: the test's connection sits in the test transaction, where
    ``SET LOCAL`` lasts until its end.
    """
    from django.db import connections

    from search import planner

    own = connections.create_connection("default")
    monkeypatch.setattr(planner, "connection", own)
    try:
        with CaptureQueriesContext(own) as queries:
            rows = planner.fetch_with_settings(
                "SELECT current_setting('enable_seqscan'), current_setting('hnsw.ef_search'), "
                "%s", ["x"], {"enable_seqscan": "off", "hnsw.ef_search": "77"})
        assert rows == [("off", "77", "x")]
        assert len(queries.captured_queries) == 1
        assert own.get_autocommit() and not own.in_atomic_block
        with own.cursor() as cursor:
            cursor.execute("SELECT current_setting('enable_seqscan')")
            assert cursor.fetchone() == ("on",)
    finally:
        own.close()


def test_passage_rows_keep_vector_and_tsvector_inline(import_lines):
    """Rows of about 2.6 kB stay whole (migration search.0008): without it PostgreSQL moves
    the vector of such a row to the TOAST table, and every exact similarity reads it there."""
    from tests.conftest import record
    from tests.retrieval_fixtures import import_indexed

    body = " ".join(f"Satz {n} über die Einführung der digitalen Bauakte im Bauamt."
                    for n in range(40))
    import_indexed(import_lines, record("best_practice", external_id="bp-lang",
                                        title="Digitale Bauakte", summary=body))
    with connection.cursor() as cursor:
        cursor.execute("SELECT max(pg_column_size(p.*)), "
                       "count(pg_column_toast_chunk_id(p.embedding)), "
                       "count(pg_column_toast_chunk_id(p.search_vector)) "
                       "FROM search_passage p JOIN knowledge_knowledgepage kp "
                       "ON kp.page_ptr_id = p.page_id WHERE kp.external_id = 'bp-lang'")
        largest, vectors_moved, tsvectors_moved = cursor.fetchone()
    assert largest > 2100  # above the default TOAST threshold of about 2 kB
    assert vectors_moved == 0 and tsvectors_moved == 0
