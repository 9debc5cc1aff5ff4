"""The search page, the JSON API and the CLI: output, permissions and hostile input."""

from __future__ import annotations

import json
from io import StringIO
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from wagtail.models import PageViewRestriction

from tests.conftest import record
from tests.retrieval_fixtures import ABFALL, EAKTE, import_indexed, index_pages

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(import_lines):
    """Two public pages and one that only the group Beratung may see, indexed."""
    pages = import_indexed(
        import_lines,
        record("best_practice", **ABFALL),
        record("lesson_learned", **EAKTE),
        record("best_practice", external_id="bp-secret", title="Geheimer Abfallkalender",
               municipality="Geheimstadt", topics=["Verschlusssache"], date="2023-06-01",
               summary="Vertrauliche Müllabfuhrtermine der Geheimstadt."),
    )
    # Restricting after indexing is enough: passages carry no access scope, retrieval checks
    # the page's restrictions at query time.
    restriction = PageViewRestriction.objects.create(
        page=pages["bp-secret"], restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Beratung"))
    return pages


# --- Search page ---------------------------------------------------------------------------


def test_page_without_query_shows_form_and_tips(client):
    response = client.get("/suche/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="search-q"' in html and 'for="search-q"' in html
    assert "So finden Sie Erfahrungen" in html
    assert "css/search.css" in html


def test_page_shows_cards_facets_and_highlight(client, corpus):
    response = client.get("/suche/", {"q": "Abfallkalender Müllabfuhrtermine"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Digitaler Abfallkalender" in html
    assert "<mark>Müllabfuhrtermine</mark>" in html
    assert "Best Practice" in html and "Lemgo" in html and "Abfallwirtschaft" in html
    assert "Geheim" not in html  # restricted page: not in results, snippets or facets
    assert "Treffer eingrenzen" in html
    assert "?q=Abfallkalender+M%C3%BCllabfuhrtermine&amp;kommune=lemgo" in html  # keeps q
    assert response.context["query"] == "Abfallkalender Müllabfuhrtermine"  # header box


def test_facet_counts_only_where_a_click_gives_that_many(client, corpus):
    """In the semantic modes a facet counted the unfiltered candidates, while the click runs
    a filtered search with candidates of its own: "Lesson Learned (8)" led to 27 results."""
    import re

    html = client.get("/suche/", {"q": "Abfallkalender Akte", "modus": "fulltext"}
                      ).content.decode()
    link, count = re.search(r'href="([^"]*typ=best_practice[^"]*)"[^>]*>[^<]*</a>'
                            r'\s*<span class="count">\((\d+)\)</span>', html).groups()
    filtered = client.get("/suche/" + link.replace("&amp;", "&"))
    assert filtered.context["results"].total == int(count)
    for mode in ("hybrid", "vector"):
        html = client.get("/suche/", {"q": "Abfallkalender Akte", "modus": mode}
                          ).content.decode()
        assert "Treffer eingrenzen" in html and '<span class="count">' not in html


@pytest.mark.parametrize("municipalities", [["lemgo", "detmold"], ["lemgo,detmold"]])
def test_several_municipalities_filter_the_page_as_the_api(client, corpus, municipalities):
    """The page kept only the first of repeated values (Detmold silently dropped) and showed
    a comma list as one chip "lemgo,detmold"."""
    params = {"q": "Abfallkalender Akte", "modus": "fulltext"}
    page = client.get("/suche/", {**params, "kommune": municipalities})
    api = client.get("/api/v1/search", {"q": params["q"], "mode": "fulltext",
                                        "municipality": municipalities}).json()
    assert page.context["results"].total == api["total"] == 2
    html = page.content.decode()
    assert "Kommune: Lemgo" in html and "Kommune: Detmold" in html
    # Both selected in one multiple selection: sending the form keeps or drops each.
    select = html.split('id="f-kommune"')[1].split("</select>")[0]
    assert " multiple" in select.split(">")[0]
    assert 'value="detmold" selected' in select and 'value="lemgo" selected' in select
    assert 'type="hidden" name="kommune"' not in html


def test_repeated_single_parameters_mean_the_same_on_page_and_api(client, corpus):
    """``?q=a&q=b``: the page searched the first value, the API (Django's rule) the last, so
    one link gave two answers. Both take the last now, also for the mode and the dates."""
    query = "q=Zebraschnecke&q=Abfallkalender&modus=vector&modus=fulltext"
    page = client.get(f"/suche/?{query}&von=2030-01-01&von=2020-01-01")
    api = client.get(f"/api/v1/search?{query.replace('modus', 'mode')}"
                     "&date_from=2030-01-01&date_from=2020-01-01").json()
    results = page.context["results"]
    assert (results.query, results.mode) == (api["query"], api["mode"]) == (
        "Abfallkalender", "fulltext")
    assert [h.external_id for h in results.results] == [
        r["external_id"] for r in api["results"]] == ["bp-abfall"]
    assert 'value="Abfallkalender"' in page.content.decode()


def test_page_filters_and_state_in_url(client, corpus):
    response = client.get("/suche/", {"q": "Abfallkalender Akte", "typ": "lesson_learned",
                                      "modus": "fulltext", "von": "2020-01-01"})
    assert response.status_code == 200
    hits = response.context["results"].results
    assert [h.external_id for h in hits] == ["ll-eakte"]
    html = response.content.decode()
    assert "Art: Lesson Learned" in html  # removable filter chip
    assert "ab 1. Januar 2020" in html and "ab 2020-01-01" not in html  # a German date
    assert 'value="fulltext" checked' in html


def test_page_allowed_user_sees_restricted(client, corpus, user_in):
    client.force_login(user_in("Beratung"))
    html = client.get("/suche/", {"q": "Geheimer Abfallkalender"}).content.decode()
    assert "Geheimer Abfallkalender" in html and "Geheimstadt" in html


def test_page_empty_state(client, corpus):
    response = client.get("/suche/", {"q": "Zzyzx", "modus": "fulltext"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Dazu haben wir leider nichts gefunden" in html
    assert "kombinierten Suche" in html


def test_hybrid_results_without_any_query_word_are_called_similar(client, corpus):
    """Semantic search always finds something: "3 Treffer für „Zzyzx“" looked like matches,
    and the empty-state help never appeared in the default mode."""
    html = client.get("/suche/", {"q": "Zzyzx"}).content.decode()
    assert "Kein Inhalt enthält die Wörter „Zzyzx“" in html
    assert "Treffer für" not in html
    html = client.get("/suche/", {"q": "Abfallkalender"}).content.decode()
    assert "Treffer für" in html and "Kein Inhalt enthält" not in html


def test_filter_error_opens_the_filter_panel(client, corpus):
    html = client.get("/suche/", {"q": "Akte", "von": "2024-05-01",
                                  "bis": "2020-01-01"}).content.decode()
    assert '<details class="search-options" open>' in html


def test_page_degraded_notice(client, corpus, monkeypatch):
    from search.embedding import EmbeddingUnavailable

    def broken():
        raise EmbeddingUnavailable("kaputt")

    monkeypatch.setattr("search.embedding.get_embedder", broken)
    html = client.get("/suche/", {"q": "Abfallkalender"}).content.decode()
    assert "Eingeschränkte Suche" in html
    assert "Digitaler Abfallkalender" in html


def test_page_pagination(client, import_lines):
    from knowledge.models import KnowledgePage

    import_lines(*[record("lesson_learned", external_id=f"ll-p{n}", title=f"Glasfaser {n}",
                          summary="Glasfaserausbau im ländlichen Raum.") for n in range(13)])
    index_pages(list(KnowledgePage.objects.filter(external_id__startswith="ll-p")))
    first = client.get("/suche/", {"q": "Glasfaserausbau"})
    assert len(first.context["results"].results) == 10
    assert "seite=2" in first.content.decode()
    second = client.get("/suche/", {"q": "Glasfaserausbau", "seite": "2"})
    assert len(second.context["results"].results) == 3
    beyond = client.get("/suche/", {"q": "Glasfaserausbau", "seite": "99"})
    assert len(beyond.context["results"].results) == 3  # clamped to the last page
    junk = client.get("/suche/", {"q": "Glasfaserausbau", "seite": "x'"})
    assert junk.status_code == 200


@pytest.mark.parametrize("url", ["/inhalte/?jahr=%C2%B2", "/?jahr=%C2%B2%C2%B2%C2%B2%C2%B2",
                                 "/inhalte/?jahr=%D9%A2%D9%A0%D9%A2%D9%A4"])
def test_year_filter_of_non_ascii_digits_is_ignored_with_a_notice(client, corpus, url):
    # "²" and Arabic-Indic digits pass str.isdigit(); int() rejects the first.
    response = client.get(url)
    assert response.status_code == 200
    assert "Das Jahr ist ungültig" in response.content.decode()


def test_search_page_number_of_non_ascii_digits_means_the_first_page(client, corpus):
    response = client.get("/suche/", {"q": "Akte", "seite": "²"})
    assert response.status_code == 200
    assert response.context["results"].offset == 0


BAD_PAGE_INPUT = [
    ({"q": ""}, "Suchbegriff"),
    ({"q": "   "}, "Suchbegriff"),
    ({"q": "\x00"}, "Suchbegriff"),
    ({"q": "a" * 1001}, "höchstens 1.000 Zeichen, erhalten 1.001"),
    ({"q": "Akte", "modus": "magic"}, "Unbekannter Suchmodus"),
    ({"q": "Akte", "typ": "blog"}, "Unbekannter Inhaltstyp"),
    ({"q": "Akte", "kommune": "atlantis"}, "unbekannt"),
    ({"q": "Akte", "thema": "raumfahrt"}, "unbekannt"),
    ({"q": "Akte", "von": "01.02.2024"}, "JJJJ-MM-TT"),
    ({"q": "Akte", "bis": "2024-02-30"}, "Kalenderdatum"),
]


@pytest.mark.parametrize("params, message", BAD_PAGE_INPUT)
def test_page_bad_input_is_400_with_german_message(client, corpus, params, message):
    response = client.get("/suche/", params)
    assert response.status_code == 400
    assert message in response.content.decode()


HOSTILE = ["\"Akte", "Akte\\", "a & b | !c", "Akte:*", "(E <-> Akte)", "& | ! : * ( ) < - >",
           "' OR 1=1; --", "Robert'); DROP TABLE search_passage;--", "Müll 🗑️♻️",
           "Akte\x00\x01\x1f", "\u202eAkte", "<script>alert(1)</script>", "%00", "ü" * 1000]


@pytest.mark.parametrize("mode", ["hybrid", "fulltext", "vector"])
def test_page_hostile_queries_never_500(client, corpus, mode):
    for query in HOSTILE:
        response = client.get("/suche/?q=" + quote(query) + "&modus=" + mode)
        assert response.status_code == 200, query
        assert "<script>alert" not in response.content.decode()


def test_page_nul_in_filters_is_harmless(client, corpus):
    # Control characters are dropped before anything reaches PostgreSQL.
    response = client.get("/suche/?q=Akte&kommune=lem%00go&von=2020%00-01-01")
    assert response.status_code == 200
    assert response.context["results"].total >= 0


# --- API -----------------------------------------------------------------------------------


def test_api_search(client, corpus):
    response = client.get("/api/v1/search", {"q": "Abfallkalender Müllabfuhrtermine",
                                              "limit": 5})
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= {"query", "mode", "total", "degraded", "results"}
    assert data["mode"] == "hybrid" and data["degraded"] is False
    first = data["results"][0]
    assert first["external_id"] == "bp-abfall"
    assert set(first) >= {"title", "url", "type", "municipality", "external_id", "score",
                          "snippet", "date", "topics"}
    assert first["type"] == "best_practice"
    assert "<mark>" in first["snippet"]
    assert all(r["external_id"] != "bp-secret" for r in data["results"])
    assert "Geheim" not in response.content.decode()


def test_results_link_to_their_pages(client, corpus):
    """Result URLs are computed from plain values: they must equal the pages' own URLs."""
    data = client.get("/api/v1/search", {"q": "Abfallkalender E-Akte", "limit": 5}).json()
    by_id = {r["external_id"]: r for r in data["results"]}
    assert {"bp-abfall", "ll-eakte"} <= set(by_id)
    for external_id in ("bp-abfall", "ll-eakte"):
        page = corpus[external_id]
        assert by_id[external_id]["url"] == page.url
        assert client.get(by_id[external_id]["url"]).status_code == 200
    assert by_id["bp-abfall"]["topics"] == sorted(t.name for t in corpus["bp-abfall"].topics.all())


def test_api_filters_and_permissions(client, corpus, user_in):
    url = "/api/v1/search"
    data = client.get(url, {"q": "Abfallkalender Akte", "type": "lesson_learned"}).json()
    assert [r["external_id"] for r in data["results"]] == ["ll-eakte"]
    data = client.get(url, {"q": "Abfallkalender Akte", "exclude_municipality": "Lemgo",
                            "mode": "fulltext"}).json()
    assert "bp-abfall" not in [r["external_id"] for r in data["results"]]
    data = client.get(url + "?q=Abfallkalender&type=lesson_learned,best_practice").json()
    assert data["total"] >= 1
    data = client.get(url, {"q": "Abfall", "topic": "abfallwirtschaft",
                            "date_from": "2023-01-01", "date_to": "2023-12-31"}).json()
    assert [r["external_id"] for r in data["results"]] == ["bp-abfall"]

    client.force_login(user_in("Beratung"))
    data = client.get(url, {"q": "Geheimer Abfallkalender"}).json()
    assert "bp-secret" in [r["external_id"] for r in data["results"]]
    client.logout()
    client.force_login(user_in("Kommune"))
    data = client.get(url, {"q": "Geheimer Abfallkalender"}).json()
    assert "bp-secret" not in [r["external_id"] for r in data["results"]]


@pytest.mark.parametrize("query, status, message", [
    ("q=", 400, "Suchbegriff"),
    ("q=%20%20", 400, "Suchbegriff"),
    ("", 400, "Suchbegriff"),
    ("q=%00", 400, "Suchbegriff"),
    ("q=" + "a" * 1001, 400, "zu lang"),
    ("q=Akte&mode=semantic", 400, "Unbekannter Suchmodus"),
    ("q=Akte&type=blog", 400, "Unbekannter Inhaltstyp"),
    ("q=Akte&municipality=Atlantis", 400, "unbekannt"),
    ("q=Akte&exclude_municipality=Atlantis", 400, "unbekannt"),
    ("q=Akte&topic=Raumfahrt", 400, "unbekannt"),
    ("q=Akte&date_from=gestern", 400, "JJJJ-MM-TT"),
    ("q=Akte&date_to=2023-02-29", 400, "Kalenderdatum"),
    ("q=Akte&limit=0", 400, "limit"),
    ("q=Akte&limit=1000", 400, "limit"),
    ("q=Akte&offset=-1", 400, "offset"),
    ("q=Akte&limit=zehn", 422, "limit"),
    ("q=Akte&offset=1e9x", 422, "offset"),
])
def test_api_bad_input(client, corpus, query, status, message):
    response = client.get("/api/v1/search?" + query)
    assert response.status_code == status, response.content
    detail = response.json()["detail"]
    assert isinstance(detail, str) and message in detail


@pytest.mark.parametrize(("method", "url", "body", "status", "message"), [
    ("post", "/api/v1/match", "{kein json", 400, "kein gültiges JSON"),
    ("post", "/api/v1/match", '{"description": "' + "x" * (3 * 1024 * 1024) + '"}', 413,
     "zu groß"),
    ("get", "/api/v1/search?q=Akte&" + "&".join(f"type=t{n}" for n in range(1200)), None,
     400, "zu viele Parameter"),
    ("get", "/api/v1/match", None, 405, "GET ist hier nicht erlaubt"),
    ("post", "/api/v1/search?q=Akte", "{}", 405, "POST ist hier nicht erlaubt"),
])
def test_api_protocol_errors_are_german_json(client, method, url, body, status, message):
    if body is None:
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body, content_type="application/json")
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert message in response.json()["detail"]
    if status == 405:
        assert response["Allow"]


@pytest.mark.parametrize("mode", ["hybrid", "fulltext", "vector"])
def test_api_hostile_queries(client, corpus, mode):
    for query in HOSTILE:
        response = client.get("/api/v1/search", {"q": query, "mode": mode})
        assert response.status_code == 200, (query, response.content)
        assert response.json()["query"]


def test_api_degraded(client, corpus, monkeypatch):
    from search.embedding import EmbeddingUnavailable

    def broken():
        raise EmbeddingUnavailable("kaputt")

    monkeypatch.setattr("search.embedding.get_embedder", broken)
    data = client.get("/api/v1/search", {"q": "Abfallkalender", "mode": "vector"}).json()
    assert data["degraded"] is True and data["mode"] == "fulltext"
    assert data["results"][0]["external_id"] == "bp-abfall"


def test_openapi_schema(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/search" in schema["paths"]
    params = {p["name"] for p in schema["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert params >= {"q", "mode", "limit", "offset", "type", "municipality",
                      "exclude_municipality", "topic", "date_from", "date_to"}


def test_api_docs_load_swagger_ui_from_this_server(client):
    """The docs page loaded its scripts from a CDN: broken on an intranet, and every visit
    told a third party the reader's address."""
    page = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn." not in page and "django-ninja.dev" not in page


def test_api_get_needs_no_csrf_token(corpus):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    assert client.get("/api/v1/search", {"q": "Akte"}).status_code == 200


# --- CLI -----------------------------------------------------------------------------------


def test_cli_json(corpus):
    out = StringIO()
    call_command("search_knowledge", "Abfallkalender", "--json", "--limit", "5", stdout=out)
    # (the CLI is anonymous: the restricted "Geheimer Abfallkalender" must not appear)
    data = json.loads(out.getvalue())
    assert data[0]["external_id"] == "bp-abfall"
    assert set(data[0]) >= {"title", "url", "type", "municipality", "external_id", "score",
                            "snippet"}
    assert all(item["external_id"] != "bp-secret" for item in data)  # anonymous


def test_cli_text_and_exclude(corpus):
    out = StringIO()
    call_command("search_knowledge", "Abfallkalender Akte", "--mode", "fulltext",
                 "--exclude-municipality", "Lemgo", stdout=out)
    text = out.getvalue()
    assert "Einführung der E-Akte" in text and "Digitaler Abfallkalender" not in text


@pytest.mark.parametrize("args, message", [
    (["   "], "Suchbegriff"),
    (["Akte", "--exclude-municipality", "Atlantis"], "unbekannt"),
    (["Akte", "--limit", "0"], "--limit"),
])
def test_cli_bad_input(corpus, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("search_knowledge", *args, stdout=StringIO())


def test_cli_hostile_query(corpus):
    out = StringIO()
    call_command("search_knowledge", "a & b | !c 'x' \\ :* <->", "--json", stdout=out)
    assert isinstance(json.loads(out.getvalue()), list)
