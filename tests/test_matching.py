"""Matching a new project to what other municipalities learned, and related material."""

import re
import threading

import pytest
from django.test import Client
from wagtail.models import PageViewRestriction

from knowledge.models import Municipality, Topic
from search.matching import (
    MatchError,
    _surely_fits,
    _windows,
    clean_description,
    match_project,
)
from search.related import related_pages
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

DESCRIPTION = (
    "Wir wollen in unserer Verwaltung den Posteingang digitalisieren. Briefe sollen zentral "
    "gescannt und elektronisch an die Fachbereiche verteilt werden. Wir fragen uns, wie viel "
    "Personal die Scanstelle braucht und wie wir die Beschäftigten mitnehmen."
)


@pytest.fixture
def corpus(indexed_page):
    """Material of several municipalities around incoming mail, plus unrelated pages."""
    pages = {}
    pages["project"] = indexed_page(
        "project", external_id="p-scan", title="Digitaler Posteingang Oerlinghausen",
        municipality="Oerlinghausen", topics=["E-Akte und Dokumentenmanagement"],
        summary="Zentrale Scanstelle für die gesamte Briefpost der Stadtverwaltung.",
        goals="- Posteingang zentral scannen\n- Verteilung elektronisch an die Ämter")
    for n in (1, 2, 3):
        pages[f"protocol{n}"] = indexed_page(
            "session_protocol", project="p-scan", municipality="Oerlinghausen",
            title=f"{n}. Sitzung Scanstelle", session_number=n,
            summary="Die Projektgruppe bespricht die Scanstelle und den Posteingang.",
            agenda_items=[{"title": "Scanstelle",
                           "discussion": "Personalbedarf der Scanstelle und Verteilung der "
                           "gescannten Post an die Fachbereiche."}])
    for n in (1, 2, 3):
        pages[f"lesson{n}"] = indexed_page(
            "lesson_learned", project="p-scan", municipality="Oerlinghausen",
            title=f"Scanstelle Erfahrung {n}",
            summary="Die Vorbereitung der Post kostet mehr Zeit als das Scannen selbst.",
            situation="Wir haben den Posteingang zentral gescannt.",
            recommendation="Planen Sie Personal für das Vorbereiten der Briefe ein.")
    pages["practice"] = indexed_page(
        "best_practice", title="Bürgerbüro scannt die Post", municipality="Leopoldshöhe",
        topics=["E-Akte und Dokumentenmanagement"], contact_role="Leitung Bürgerbüro",
        summary="Das Bürgerbüro digitalisiert eingehende Briefe noch am Eingangstag.",
        problem="Papierpost wanderte tagelang durch das Rathaus.",
        solution="Zentrales Scannen im Bürgerbüro und elektronische Verteilung.")
    pages["own"] = indexed_page(
        "best_practice", title="Unser eigener Scan-Ansatz", municipality="Lemgo",
        summary="Lemgo scannt den Posteingang zentral.",
        problem="Posteingang auf Papier.", solution="Zentral scannen.")
    pages["unrelated"] = indexed_page(
        "best_practice", title="Livestream der Ratssitzungen", municipality="Horn-Bad Meinberg",
        topics=["Sitzungsdienst und Gremien"],
        summary="Ratssitzungen werden live übertragen und archiviert.",
        problem="Wenig Öffentlichkeit.", solution="Kamera und Streaming-Dienst.")
    return pages


def test_asking_municipality_is_excluded(corpus):
    results = match_project(DESCRIPTION, user=None,
                            municipality=Municipality.objects.get(name="Lemgo"))
    titles = [item.title for item in results.results]
    assert "Unser eigener Scan-Ansatz" not in titles
    assert "Bürgerbüro scannt die Post" in titles
    assert all(item.municipality != "Lemgo" for item in results.results)


def test_results_are_grouped_and_projects_do_not_flood(corpus, settings):
    settings.KNOWLEDGE_MATCH_PER_PROJECT = 2
    results = match_project(DESCRIPTION, user=None)
    groups = {group.key: group for group in results.groups}
    assert list(groups) == ["lessons_learned", "best_practices", "projects"]
    assert all(i.knowledge_type == "lesson_learned" for i in groups["lessons_learned"].items)
    # Three lessons of one project: at most two are shown.
    assert len(groups["lessons_learned"].items) == 2
    # The project and its protocols form one entry, further protocols folded under it.
    projects = groups["projects"].items
    assert len(projects) == 1
    assert len(projects[0].members) >= 1
    assert {m.knowledge_type for m in projects[0].members} <= {"session_protocol", "project"}


def test_each_result_explains_itself(corpus):
    results = match_project(DESCRIPTION, user=None,
                            topics=list(Topic.objects.filter(
                                name="E-Akte und Dokumentenmanagement")))
    for item in results.results:
        assert 1 <= len(item.explanations) <= 3
        assert any(e.snippet for e in item.explanations)
    practice = next(i for i in results.results if i.title == "Bürgerbüro scannt die Post")
    assert practice.contact_role == "Leitung Bürgerbüro"
    assert practice.shared_topics == ["E-Akte und Dokumentenmanagement"]


def test_similar_municipalities_name_their_projects(corpus):
    results = match_project(DESCRIPTION, user=None)
    names = [m.name for m in results.municipalities]
    assert "Oerlinghausen" in names
    oerlinghausen = next(m for m in results.municipalities if m.name == "Oerlinghausen")
    assert ("Digitaler Posteingang Oerlinghausen", corpus["project"].url) in oerlinghausen.projects


def test_restricted_page_is_never_suggested(corpus, synced, user_in):
    with synced():
        PageViewRestriction.objects.create(page=corpus["practice"],
                                           restriction_type=PageViewRestriction.LOGIN)
    anonymous = [i.title for i in match_project(DESCRIPTION, user=None).results]
    assert "Bürgerbüro scannt die Post" not in anonymous
    member = [i.title for i in match_project(DESCRIPTION, user=user_in("Kommune")).results]
    assert "Bürgerbüro scannt die Post" in member


@pytest.fixture
def restricted_project(corpus, indexed_page, synced):
    """A Detmold best practice naming the Oerlinghausen project, restricted to members."""
    indexed_page("best_practice", title="Scanstraße im Kreishaus", municipality="Detmold",
                 project="p-scan", summary="Der Kreis scannt die Post für kleine Gemeinden.",
                 problem="Posteingang auf Papier.", solution="Gemeinsame Scanstelle.")
    with synced():
        PageViewRestriction.objects.create(page=corpus["project"],
                                           restriction_type=PageViewRestriction.LOGIN)


def test_a_restricted_project_named_by_a_best_practice_stays_hidden(restricted_project,
                                                                     user_in, client):
    results = match_project(DESCRIPTION, user=None, limit=10)
    practice = next(i for i in results.results if i.title == "Scanstraße im Kreishaus")
    assert practice.project_title == "" and practice.project_url == ""
    listed = [title for m in results.municipalities for title, _url in m.projects]
    assert "Digitaler Posteingang Oerlinghausen" not in listed
    # Nor in its passages (retrieval shows them by the best practice's permissions).
    named = match_project(DESCRIPTION + " Oerlinghausen", user=None, limit=10)
    practice = next(i for i in named.results if i.title == "Scanstraße im Kreishaus")
    assert all("Oerlinghausen" not in e.snippet for e in practice.explanations)
    found = client.get("/api/v1/search", {"q": "Posteingang Oerlinghausen", "mode": "fulltext"})
    assert "Oerlinghausen" not in str(found.json()["results"])  # the query itself is echoed
    member = match_project(DESCRIPTION, user=user_in("Kommune"), limit=10)
    practice = next(i for i in member.results if i.title == "Scanstraße im Kreishaus")
    assert practice.project_title == "Digitaler Posteingang Oerlinghausen"


def test_a_repeated_matching_reads_no_page_columns_again(corpus):
    """The suggestions' titles, topics, contacts and projects come from the pages' remembered
    facts (search.page_facts), as a search's hits do; only the projects' permission is asked."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = match_project(DESCRIPTION, user=None, limit=10)
    practice = next(i for i in first.results if i.title == "Bürgerbüro scannt die Post")
    assert practice.contact_role == "Leitung Bürgerbüro"
    with CaptureQueriesContext(connection) as queries:
        again = match_project(DESCRIPTION, user=None, limit=10)
    statements = [query["sql"] for query in queries]
    for table in ("knowledge_knowledgepage_topics", "knowledge_municipality",
                  "knowledge_bestpracticepage"):
        assert not any(table in sql for sql in statements), table
    assert sum("pagecachegeneration" in sql for sql in statements) == 1  # one token read
    assert [i.as_dict() for i in again.results] == [i.as_dict() for i in first.results]
    assert again.municipalities == first.municipalities


def test_remembered_facts_never_show_a_project_the_user_may_not_see(restricted_project,
                                                                    user_in):
    # A member's matching remembers the project's facts; the visitor's must not show them.
    member = match_project(DESCRIPTION, user=user_in("Kommune"), limit=10)
    assert any(i.project_title == "Digitaler Posteingang Oerlinghausen" for i in member.results)
    anonymous = match_project(DESCRIPTION, user=None, limit=10)
    assert all(i.project_title == "" and i.project_url == "" for i in anonymous.results)
    assert not [p for m in anonymous.municipalities for p in m.projects]


def test_changed_contacts_and_projects_show_in_the_next_matching(corpus, synced):
    practice_page = corpus["practice"]
    before = match_project(DESCRIPTION, user=None, limit=10)
    practice = next(i for i in before.results if i.page_id == practice_page.pk)
    assert practice.contact_role == "Leitung Bürgerbüro" and practice.project_title == ""
    with synced():
        practice_page.contact_role = "Team Digitalisierung"
        practice_page.related_project = corpus["project"]
        practice_page.save_revision().publish()
    after = match_project(DESCRIPTION, user=None, limit=10)
    practice = next(i for i in after.results if i.page_id == practice_page.pk)
    assert practice.contact_role == "Team Digitalisierung"
    assert practice.project_title == "Digitaler Posteingang Oerlinghausen"
    assert practice.project_url.endswith(corpus["project"].url_path.split("/", 2)[2])


@pytest.mark.parametrize("bad", ["", "   \n\t ", None, "x" * 6000])
def test_bad_descriptions_are_rejected_in_german(bad):
    with pytest.raises(MatchError) as info:
        clean_description(bad)
    assert "Vorhaben" in str(info.value) or "zu lang" in str(info.value)


@pytest.mark.parametrize("text", [
    "Wir führen die E-Akte in allen Fachämtern ein.",
    "Straßen-/Winterdienst, Grünflächenämter & Bürgerbüros – 2024/25 (Pilot)!",
    "Ärger über Öffnungszeiten? Übergangsweise: 🙂🙂🙂 Emoji, ﷺ, ﬁ, ①, 東京, ß" * 3,
    "x",
])
def test_a_description_that_surely_fits_never_has_more_tokens_than_the_bound(embedder, text):
    """The shortcut of _windows is sound: every token costs at least one normalised byte."""
    tokens = embedder.count_tokens(text)
    tightest = tokens - 1  # a budget one below the real count must never "surely fit"
    assert not _surely_fits(text, embedder, tightest)
    if _surely_fits(text, embedder, max(32, embedder.max_tokens - 8)):
        assert tokens <= embedder.max_tokens - 8


def test_a_long_description_is_embedded_in_windows_that_lose_nothing(embedder):
    sentence = ("Die Gemeinde digitalisiert den Posteingang, scannt Briefe zentral und verteilt "
                "sie elektronisch an die Fachämter.")
    text = " ".join([sentence] * 60)
    budget = max(32, embedder.max_tokens - 8)
    assert embedder.count_tokens(text) > budget and not _surely_fits(text, embedder, budget)
    windows = _windows(text, embedder)
    assert len(windows) > 1
    assert all(embedder.count_tokens(w) <= budget for w in windows)
    assert " ".join(windows) == text
    assert _windows(sentence, embedder) == [sentence]


@pytest.mark.parametrize("separator", ["; ", "\n- ", "\n"])
def test_a_long_list_without_full_stops_is_not_cut_off(embedder, separator):
    """Windows were split only after ".", "!" or "?": a pasted bullet list or a text joined by
    semicolons became one window over the model's limit, and its end was never read."""
    items = [f"Punkt {n} Scanstelle für den Posteingang einrichten und Personal schulen"
             for n in range(60)]
    text = separator.join(items)
    budget = max(32, embedder.max_tokens - 8)
    windows = _windows(text, embedder)
    assert len(windows) > 1
    assert all(embedder.count_tokens(w) <= budget for w in windows)
    joined = " ".join(windows)
    assert all(item in joined for item in items)  # the last point too
    one_run_on = " ".join(["Scanstelle einrichten und Personal schulen"] * 200)
    assert all(embedder.count_tokens(w) <= budget for w in _windows(one_run_on, embedder))


def test_a_description_without_any_word_is_rejected():
    """"?!" got a full page of suggestions unrelated to anything."""
    with pytest.raises(MatchError) as info:
        clean_description("?! …")
    assert "in ein paar Worten" in str(info.value)


def test_control_characters_are_removed():
    assert clean_description("Post\x00eingang scannen") == "Posteingang scannen"


# --- Related material ---------------------------------------------------------------------


def test_related_excludes_itself_own_project_and_own_municipality(corpus):
    related = related_pages(corpus["lesson1"], user=None, limit=5)
    titles = [r.title for r in related]
    assert titles, "expected related material"
    assert all(r.municipality != "Oerlinghausen" for r in related)
    assert "Bürgerbüro scannt die Post" in titles


def test_related_is_always_filled_when_material_exists(corpus, indexed_page):
    for n in range(6):
        indexed_page("best_practice", title=f"Weitere Praxis {n}", municipality="Vlotho",
                     summary="Irgendein anderes Thema.", problem="Problem.", solution="Lösung.")
    related = related_pages(corpus["protocol1"], user=None, limit=5)
    assert len(related) == 5
    assert len({r.page_id for r in related}) == 5  # aggregated per page


def test_related_respects_permissions(corpus, synced, user_in):
    with synced():
        PageViewRestriction.objects.create(page=corpus["practice"],
                                           restriction_type=PageViewRestriction.LOGIN)
    anonymous = [r.title for r in related_pages(corpus["lesson1"], user=None, limit=5)]
    assert "Bürgerbüro scannt die Post" not in anonymous
    member = [r.title for r in related_pages(corpus["lesson1"], user=user_in("Kommune"),
                                             limit=5)]
    assert "Bürgerbüro scannt die Post" in member


def test_related_cache_follows_publish_and_unpublish(corpus, indexed_page, synced):
    before = [r.title for r in related_pages(corpus["lesson1"], user=None, limit=10)]
    assert "Posteingang ohne Papier in Bünde" not in before
    new = indexed_page("best_practice", title="Posteingang ohne Papier in Bünde",
                       municipality="Bünde",
                       summary="Bünde scannt den Posteingang zentral und verteilt ihn digital.",
                       problem="Papierpost.", solution="Scanstelle mit zwei Beschäftigten.")
    after = [r.title for r in related_pages(corpus["lesson1"], user=None, limit=10)]
    assert "Posteingang ohne Papier in Bünde" in after
    with synced():
        new.unpublish()
    again = [r.title for r in related_pages(corpus["lesson1"], user=None, limit=10)]
    assert "Posteingang ohne Papier in Bünde" not in again


def test_related_needs_no_model(corpus, model_unavailable):
    assert related_pages(corpus["lesson1"], user=None, limit=3)


@pytest.mark.parametrize("failure", ["model", "embedding"])
def test_matching_falls_back_to_full_text_with_a_german_notice(corpus, monkeypatch, failure):
    from search.embedding import Embedder, EmbeddingUnavailable

    def broken(*_args):
        raise EmbeddingUnavailable("kaputt")

    if failure == "model":
        monkeypatch.setattr("search.embedding.get_embedder", broken)
    else:
        monkeypatch.setattr(Embedder, "embed_query", broken)
    results = match_project(DESCRIPTION, user=None)
    assert results.degraded
    assert "semantische Suche ist gerade nicht verfügbar" in results.notice
    assert "Bürgerbüro scannt die Post" in [item.title for item in results.results]


def test_the_description_is_embedded_while_full_text_nominates(corpus, monkeypatch):
    """Matching embedded its description before ranking began, so the model and PostgreSQL
    took turns; a hybrid search overlaps them (the embedding on a thread of its own)."""
    from search.embedding import Embedder

    threads = []
    embed_query = Embedder.embed_query

    def recording(self, text):
        threads.append(threading.current_thread().name)
        return embed_query(self, text)

    monkeypatch.setattr(Embedder, "embed_query", recording)
    results = match_project(DESCRIPTION, user=None)
    assert not results.degraded
    assert threads and all(name.startswith("query-embedding") for name in threads)


def test_project_matches_use_goals_and_summary(corpus):
    from search.related import project_matches

    titles = [r.title for r in project_matches(corpus["project"], user=None, limit=3)]
    assert "Bürgerbüro scannt die Post" in titles


# --- The page /lernen/ ----------------------------------------------------------------------


def test_matching_page_shows_grouped_suggestions(client, corpus):
    assert client.get("/lernen/").status_code == 200
    response = client.post("/lernen/", {"description": DESCRIPTION, "municipality": "lemgo",
                                        "topics": ["e-akte-und-dokumentenmanagement"]})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Kommunen mit ähnlichen Vorhaben" in html
    assert "Bürgerbüro scannt die Post" in html and "Unser eigener Scan-Ansatz" not in html
    assert "Warum vorgeschlagen" in html and "<mark>" in html
    assert "Leitung Bürgerbüro" in html
    # "wen Sie anrufen können": every municipality leads to its profile and contacts.
    assert '<a href="/kommunen/oerlinghausen/">Oerlinghausen</a>' in html
    assert "Weitere passende Protokolle" not in html


def test_matching_page_ties_help_and_errors_to_their_fields(client):
    """Django's select pointed its aria-describedby at an id the template did not use, and
    an error was not announced with its field."""
    html = client.get("/lernen/").content.decode()
    for described in re.findall(r'aria-describedby="([^"]+)"', html):
        for target in described.split():
            assert f'id="{target}"' in html, target
    assert "Höchstens 5.000 Zeichen." in html  # counts in German
    html = client.post("/lernen/", {"description": "?!"}).content.decode()
    assert 'aria-describedby="id_description_helptext id_description_error"' in html
    assert 'id="id_description_error"' in html and "<title>Fehler:" in html
    too_long = client.post("/lernen/", {"description": "Akte " * 1200}).content.decode()
    assert "höchstens 5.000 Zeichen" in too_long


@pytest.mark.parametrize("data", [
    {"description": ""},
    {"description": "   "},
    {"description": "x" * 6000},
    {"description": "Posteingang", "municipality": "gibt-es-nicht"},
    {"description": "Posteingang", "topics": ["<script>"]},
])
def test_matching_page_rejects_bad_input_with_400(client, data):
    response = client.post("/lernen/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bitte prüfen Sie Ihre Angaben" in html
    assert "<script>" not in html


def test_matching_form_requires_csrf(corpus):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/lernen/", {"description": DESCRIPTION}).status_code == 403


def test_pages_render_related_material_and_project_matches(client, corpus):
    from django.contrib.auth.models import AnonymousUser
    from django.utils.html import escape

    from search.related import related_pages

    html = client.get(corpus["lesson1"].url).content.decode()
    assert "Das haben andere Kommunen dazu gelernt" in html
    assert "Bürgerbüro scannt die Post" in html
    # The section that matched is named as one ("passend: Aufgabe 4" read as a verdict).
    headings = [i.heading for i in related_pages(corpus["lesson1"], user=AnonymousUser())
                if i.heading]
    assert headings and all(f"passender Abschnitt: „{escape(h)}“" in html for h in headings)
    project_html = client.get(corpus["project"].url).content.decode()
    assert "Passt zu diesem Vorhaben: Erfahrungen anderer Kommunen" in project_html


def test_project_page_does_not_show_the_same_pages_twice(client, corpus):
    """Both lists of a project page come from nearly the same vectors: they shared two to
    five of their five links (all of them on this corpus)."""
    import re

    html = client.get(corpus["project"].url).content.decode()
    matches = html.split('id="project-matches-heading"')[1].split("</section>")[0]
    # Here every related page is a match already: the second list is left out.
    related = html.split('id="related-heading"')[1].split("</section>")[0] \
        if 'id="related-heading"' in html else ""
    first = set(re.findall(r'href="([^"]+)"', matches))
    second = set(re.findall(r'href="([^"]+)"', related))
    assert first and not first & second


# Upper bounds for a warm page view (related lists cached): Wagtail's routing and view
# restriction check, the page's own content, one access read, and two cheap queries per
# related list. A regression (an N+1 loop, a re-read of the restrictions) exceeds them.
PAGE_VIEW_QUERY_BOUNDS = {"lesson1": 19, "project": 24}
RELATED_HEADINGS = {"lesson1": "Das haben andere Kommunen dazu gelernt",
                    "project": "Passt zu diesem Vorhaben"}


@pytest.mark.parametrize("name", sorted(PAGE_VIEW_QUERY_BOUNDS))
def test_page_view_uses_stored_vectors_and_few_queries(client, corpus, monkeypatch, name):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search.embedding import Embedder

    url = corpus[name].url
    assert client.get(url).status_code == 200  # computes and caches the related lists

    def no_model(*args, **kwargs):
        raise AssertionError("a page view must not call the embedding model")

    monkeypatch.setattr(Embedder, "embed_query", no_model)
    monkeypatch.setattr(Embedder, "embed_passages", no_model)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url).content.decode()
    assert RELATED_HEADINGS[name] in html
    assert len(queries) <= PAGE_VIEW_QUERY_BOUNDS[name], "\n".join(
        q["sql"][:160] for q in queries.captured_queries)
    restriction_reads = [q for q in queries.captured_queries
                         if "FROM wagtailcore_pageviewrestriction r" in q["sql"]]
    assert len(restriction_reads) == 1, "the viewer's access is read once per request"


# --- POST /api/v1/match -------------------------------------------------------------------


def test_match_api_returns_groups_and_municipalities(client, corpus):
    response = client.post("/api/v1/match", {"description": DESCRIPTION, "municipality": "Lemgo",
                                             "limit": 5}, content_type="application/json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["degraded"] is False
    assert [g["key"] for g in data["groups"]] == ["lessons_learned", "best_practices",
                                                  "projects"]
    titles = [r["title"] for r in data["results"]]
    assert "Bürgerbüro scannt die Post" in titles and "Unser eigener Scan-Ansatz" not in titles
    assert all(r["explanations"] for r in data["results"])
    assert any(m["name"] == "Oerlinghausen" for m in data["municipalities"])


@pytest.mark.parametrize(("payload", "status"), [
    ({"description": ""}, 400),
    ({"description": "x" * 6000}, 400),
    ({"description": "Post", "municipality": "Atlantis"}, 400),
    ({"description": "Post", "topics": ["Gibt es nicht"]}, 400),
    ({"description": "Post", "topics": ["a\x00b"]}, 400),
    ({"description": "Post", "municipality": "Lem\x00go\x00"}, 400),
    ({"description": "Post", "limit": 0}, 400),
    ({"description": "Post", "limit": "viele"}, 422),
    ({"beschreibung": "Post"}, 422),
])
def test_match_api_bad_input(client, payload, status):
    response = client.post("/api/v1/match", payload, content_type="application/json")
    assert response.status_code == status
    assert response.json()["detail"]


def test_match_api_respects_permissions(client, corpus, synced):
    with synced():
        PageViewRestriction.objects.create(page=corpus["practice"],
                                           restriction_type=PageViewRestriction.LOGIN)
    data = client.post("/api/v1/match", {"description": DESCRIPTION},
                       content_type="application/json").json()
    assert "Bürgerbüro scannt die Post" not in str(data)


def test_api_rate_limit_answers_429_in_german(rf, settings):
    from search.api import _throttles

    settings.KNOWLEDGE_API_RATE_LIMIT = "3/m,100/m"
    anon_throttle = _throttles()[0]
    request = rf.get("/api/v1/search", REMOTE_ADDR="203.0.113.7")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    allowed = [anon_throttle.allow_request(request) for _ in range(5)]
    assert allowed == [True, True, True, False, False]
    settings.KNOWLEDGE_API_RATE_LIMIT = "off"
    assert _throttles() == []


def test_api_rate_limits_count_members_per_account_and_ignore_forwarded_for(
        rf, settings, user_in):
    """Members were counted in their office's anonymous limit (django-ninja's throttles
    look at ``request.auth``, empty with session login), and a made-up X-Forwarded-For gave
    an anonymous script a fresh limit on every request."""
    from django.contrib.auth.models import AnonymousUser

    from search.api import _throttles

    settings.KNOWLEDGE_API_RATE_LIMIT = "2/m,3/m"
    throttles = _throttles()

    def allowed(user, **headers):
        request = rf.get("/api/v1/search", REMOTE_ADDR="203.0.113.7", **headers)
        request.user = user
        return all(throttle.allow_request(request) for throttle in throttles)

    anonymous = AnonymousUser()
    assert [allowed(anonymous, HTTP_X_FORWARDED_FOR=f"10.0.0.{i}") for i in range(3)] == [
        True, True, False]
    first, second = user_in("Kommune"), user_in("Kommune")
    assert [allowed(first) for _ in range(4)] == [True, True, True, False]
    assert allowed(second)  # same address, own account


@pytest.mark.parametrize(("payload", "named"), [
    ({"description": "Post", "topics": [None]}, "topics[0]"),
    ({"description": "Post", "limit": "viele"}, "limit"),
])
def test_match_api_422_names_the_parameter_not_its_list_position(client, payload, named):
    """A wrong list item was reported as "Parameter: 0"."""
    detail = client.post("/api/v1/match", payload, content_type="application/json").json()
    assert detail["detail"] == f"Ungültiger Wert für Parameter: {named}."


def test_vote_without_javascript_returns_to_the_same_suggestions(client, corpus):
    """The vote redirected to an empty /lernen/: the description and all suggestions were
    gone, and ranks were counted per group (three suggestions logged as "Rang 1")."""
    from network.models import Feedback, QueryLog

    html = client.post("/lernen/", {"description": DESCRIPTION}).content.decode()
    assert 'id="vorschlag-1"' in html
    back = html.split('name="weiter" value="')[1].split('"')[0]
    rank = html.split('name="rang" value="')[1].split('"')[0]
    assert back == f"/lernen/?zuletzt=1#vorschlag-{rank}"
    ranks = [int(r) for r in re.findall(r'name="rang" value="(\d+)"', html)]
    assert sorted(ranks) == list(range(1, len(ranks) + 1))
    token = html.split('name="suche" value="')[1].split('"')[0]
    page_id = int(html.split('name="seite" value="')[1].split('"')[0])
    response = client.post("/netz/rueckmeldung/", {
        "seite": page_id, "hilfreich": "ja", "herkunft": "lernen", "suche": token,
        "rang": rank, "weiter": back})
    assert response.status_code == 302 and response["Location"] == back
    again = client.get(back).content.decode()
    assert "Bürgerbüro scannt die Post" in again and DESCRIPTION[:40] in again
    assert QueryLog.objects.filter(surface="lernen").count() == 1  # not logged again
    assert Feedback.objects.get().rank == int(rank)
    assert "Bürgerbüro scannt die Post" not in Client().get(back).content.decode()


def test_a_project_card_does_not_list_its_own_project_again():
    """"Weitere passende Protokolle" listed the project page that the card's meta line
    already links (and called it a protocol)."""
    import datetime as dt

    from search.match_items import MatchItem

    def item(page_id, kind, project_id=None):
        return MatchItem(page_id=page_id, title=f"Seite {page_id}", url=f"/p{page_id}/",
                         knowledge_type=kind, type_label=kind, municipality="Lage",
                         municipality_slug="lage", external_id=None, date=dt.date(2024, 1, 1),
                         score=1.0, topics=[], shared_topics=[], explanations=[],
                         project_id=project_id)

    card = item(2, "session_protocol", project_id=1)
    card.members = [item(1, "project"), item(3, "roadmap", project_id=1)]
    assert [m.page_id for m in card.listed_members] == [3]
    assert [m.page_id for m in card.members] == [1, 3]  # shown, so evaluated as shown


def test_matching_page_is_rate_limited_and_keeps_the_description(client, corpus, settings,
                                                                 user_in):
    """The API's matching had a limit, the page none: each request embeds up to 5,000
    characters (seconds of CPU), from anyone, without end."""
    settings.KNOWLEDGE_MATCH_RATE_LIMIT = "2/m,3/m"
    statuses = [client.post("/lernen/", {"description": DESCRIPTION}).status_code
                for _ in range(3)]
    assert statuses == [200, 200, 429]
    response = client.post("/lernen/", {"description": "Unsere Beschreibung bleibt."})
    assert response.status_code == 429 and response["Retry-After"] == "60"
    html = response.content.decode()
    assert "sehr viele Vorschläge" in html and "Unsere Beschreibung bleibt.</textarea>" in html
    # Returning after votes counts apart: a voter is not refused for describing too much.
    assert client.get("/lernen/?zuletzt=1").status_code == 200
    member = Client()
    member.force_login(user_in("Kommune"))  # same address, own account
    assert member.post("/lernen/", {"description": DESCRIPTION}).status_code == 200


def test_matching_api_counts_against_the_same_limit(client, corpus, settings):
    """``POST /api/v1/match`` embeds the same descriptions: it had only the API's general
    limit (60/m), six times the matching limit."""
    settings.KNOWLEDGE_MATCH_RATE_LIMIT = "2/m,3/m"
    assert client.post("/lernen/", {"description": DESCRIPTION}).status_code == 200
    answers = [client.post("/api/v1/match", {"description": DESCRIPTION},
                           content_type="application/json") for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 429]
    assert answers[1].json()["detail"].startswith("Zu viele Anfragen")
    assert answers[1]["Retry-After"] == "60"
