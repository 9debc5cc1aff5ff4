"""Typo tolerance for short keyword queries: corrections from public titles and topic names,
never for words that match, never from restricted pages. Real PostgreSQL; full-text mode."""

from __future__ import annotations

import pytest
from wagtail.models import PageViewRestriction

from search import typos
from search.retrieval import search
from tests.conftest import record
from tests.retrieval_fixtures import import_indexed, index_pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(import_lines):
    return import_indexed(
        import_lines,
        record("best_practice", external_id="bp-phishing", title="Phishing-Übungen im Rathaus",
               summary="Simulierte Mails schulen die Beschäftigten."),
        record("lesson_learned", external_id="ll-lotsen", title="Digitallotsen brauchen Zeit",
               topics=["Personal und Organisation"],
               summary="Ohne Stundenkontingent bleibt die Rolle ein Ehrenamt."),
        record("project", external_id="pr-lage", title="Strategie der Stadt Lage",
               municipality="Lage", summary="Die Mittelstadt setzt bei der Führung an."),
        record("project", external_id="pr-lange", title="Lange Wartezeiten im Bürgerbüro",
               summary="Online-Termine verkürzen die Schlange."),
    )


def ids(results):
    return [hit.external_id for hit in results.results]


def test_misspelt_keyword_finds_the_page(corpus):
    assert typos.corrections("Phising") == ["phishing"]
    assert ids(search("Phising", mode="fulltext"))[0] == "bp-phishing"
    assert ids(search("Digitalotsen", mode="fulltext"))[0] == "ll-lotsen"


def test_topic_names_are_part_of_the_vocabulary(corpus):
    assert "organisation" in typos.vocabulary()
    assert typos.corrections("Organisaton") == ["organisation"]


def test_exact_match_is_never_corrected_and_stays_first(corpus):
    # "Lage" is a word of the index: no guess is added, so "Lange" cannot push in front.
    assert typos.corrections("Lage") == []
    assert ids(search("Lage", mode="fulltext"))[0] == "pr-lage"
    assert "pr-lange" not in ids(search("Lage", mode="fulltext"))
    # A misspelt word next to a correct one: only the misspelt one gets a correction.
    assert typos.corrections("Phising Rathaus") == ["phishing"]


def test_long_queries_and_words_without_neighbour_stay_as_they_are(corpus):
    assert typos.corrections("Phising Übungen für alle Beschäftigten") == []
    assert typos.corrections("Zauberwürfel") == []
    assert typos.with_corrections("Zauberwürfel", []) == "Zauberwürfel"
    assert typos.with_corrections("Phising", ["phishing"]) == "Phising phishing"


def test_restricted_titles_never_become_corrections(corpus, import_lines):
    from knowledge.models import KnowledgePage

    import_lines(record("best_practice", external_id="bp-secret",
                        title="Geheimprojekt Wolkenkuckucksheim", topics=["Verschlusssache"]))
    secret = KnowledgePage.objects.get(external_id="bp-secret").specific
    PageViewRestriction.objects.create(page=secret,
                                       restriction_type=PageViewRestriction.LOGIN)
    index_pages([secret])
    assert typos.corrections("Wolkenkuckucksheym") == []
    assert typos.corrections("Verschlussache") == []


def _index_lookups(queries) -> int:
    return sum("NOT EXISTS" in query["sql"] for query in queries)


def test_index_lookup_is_remembered_per_generation_and_visibility(corpus, import_lines,
                                                                  user_in):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge.models import KnowledgePage
    from search.models import IndexGeneration

    # "Phising" itself occurs only on a page that needs a login.
    import_lines(record("lesson_learned", external_id="ll-intern", title="Interne Notiz",
                        summary="Der Phising-Test im Rathaus lief gut."))
    internal = KnowledgePage.objects.get(external_id="ll-intern").specific
    PageViewRestriction.objects.create(page=internal,
                                       restriction_type=PageViewRestriction.LOGIN)
    index_pages([internal])
    with CaptureQueriesContext(connection) as first:
        assert typos.corrections("Phising") == ["phishing"]
    with CaptureQueriesContext(connection) as again:
        assert typos.corrections("Phising") == ["phishing"]
    assert _index_lookups(first.captured_queries) == 1
    assert _index_lookups(again.captured_queries) == 0
    # A member sees the word itself, so nothing is corrected: not the anonymous answer.
    assert typos.corrections("Phising", user_in("Kommune")) == []
    IndexGeneration.bump()
    with CaptureQueriesContext(connection) as bumped:
        assert typos.corrections("Phising") == ["phishing"]
    assert _index_lookups(bumped.captured_queries) == 1


def test_corrected_word_is_highlighted_and_named_on_page_and_in_api(corpus, client,
                                                                   import_lines):
    """The ranking used the correction, but snippets were built from the typed word (nothing
    highlighted) and neither surface said what was searched instead."""
    import_indexed(import_lines, record(
        "lesson_learned", external_id="ll-mails", title="Übungsmails im Bürgerbüro",
        summary="Nach der dritten Phishing Runde meldeten die Beschäftigten jede Mail."))
    page = client.get("/suche/", {"q": "Phising", "modus": "fulltext"}).content.decode()
    assert "Auch gesucht:" in page and "<strong>phishing</strong>" in page
    assert "<mark>Phishing</mark>" in page
    data = client.get("/api/v1/search", {"q": "Phising", "mode": "fulltext"}).json()
    assert data["corrections"] == ["phishing"]
    assert any("<mark>Phishing</mark>" in hit["snippet"] for hit in data["results"])
    exact = client.get("/api/v1/search", {"q": "Phishing", "mode": "fulltext"}).json()
    assert exact["corrections"] == [] and exact["word_hits"] == 2
