"""Browsing across municipalities: the list /kommunen/, profiles, the matrix and /zeitstrahl/."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup

from knowledge.models import Municipality
from tests.search_fixtures import *  # noqa: F403
from tests.test_roadmap import STEPS

pytestmark = pytest.mark.django_db


def soup_of(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


@pytest.fixture
def network(make_page):
    """Three municipalities with material on shared topics and two roadmaps."""
    Municipality.objects.create(name="Lemgo", kind="stadt", district="Kreis Lippe",
                                population=41000, contact_role="Stabsstelle Digitales",
                                contact_email="digital@lemgo.example")
    Municipality.objects.create(name="Kalletal", kind="gemeinde", district="Kreis Lippe",
                                population=13500)
    Municipality.objects.create(name="Spenge", kind="stadt", district="Kreis Herford",
                                population=14600)
    Municipality.objects.create(name="Leerstadt", kind="stadt", district="Kreis Herford",
                                population=8000)
    lemgo = make_page("project", title="E-Akte Lemgo", municipality="Lemgo",
                      topics=["E-Akte und Dokumentenmanagement", "Digitalisierungsstrategie"],
                      phase="abgeschlossen", start_date="2021-01-01", end_date="2021-12-31")
    make_page("lesson_learned", title="Scannen braucht Personal", municipality="Lemgo",
              topics=["E-Akte und Dokumentenmanagement"], project=lemgo.external_id)
    make_page("best_practice", title="Posteingang zentral", municipality="Lemgo",
              topics=["E-Akte und Dokumentenmanagement"])
    make_page("roadmap", title="Zeitstrahl Lemgo", municipality="Lemgo",
              project=lemgo.external_id, steps=STEPS, topics=["Digitalisierungsstrategie"])
    spenge = make_page("project", title="Online-Rathaus Spenge", municipality="Spenge",
                       topics=["Onlinezugangsgesetz"])
    make_page("roadmap", title="Zeitstrahl Spenge", municipality="Spenge",
              project=spenge.external_id, topics=["Onlinezugangsgesetz"], steps=[
                  {"year": 2022, "half": 1, "title": "Start",
                   "measures": [{"title": "Terminvergabe online",
                                 "topic": "Onlinezugangsgesetz", "status": "erledigt"}]},
                  {"year": 2023, "half": 2, "title": "Ausbau",
                   "measures": [{"title": "Digitaler Posteingang",
                                 "topic": "E-Akte und Dokumentenmanagement",
                                 "status": "laufend"}]},
              ])
    make_page("best_practice", title="Posteingang Kalletal", municipality="Kalletal",
              topics=["E-Akte und Dokumentenmanagement"])


# --- /kommunen/ ------------------------------------------------------------------------------


def names(soup):
    return [a.get_text(strip=True) for a in soup.select(".municipality-card h2 a")]


def test_municipality_list_with_counts_and_filters(client, network):
    soup = soup_of(client.get("/kommunen/"))
    assert names(soup) == ["Kalletal", "Leerstadt", "Lemgo", "Spenge"]
    lemgo = soup.select(".municipality-card")[2]
    assert "Stadt · Kreis Lippe · 41.000 Einwohner" in lemgo.get_text(" ", strip=True)
    assert "4 Inhalte im Wissensnetz" in lemgo.get_text(" ", strip=True)
    assert lemgo.select_one("a")["href"] == "/kommunen/lemgo/"
    assert names(soup_of(client.get("/kommunen/?kreis=Kreis Herford"))) == ["Leerstadt",
                                                                          "Spenge"]
    assert names(soup_of(client.get("/kommunen/?art=gemeinde"))) == ["Kalletal"]
    assert names(soup_of(client.get("/kommunen/?groesse=10000-25000"))) == ["Kalletal",
                                                                          "Spenge"]
    assert names(soup_of(client.get("/kommunen/?groesse=unter-10000"))) == ["Leerstadt"]
    assert names(soup_of(client.get("/kommunen/?thema=onlinezugangsgesetz"))) == ["Spenge"]
    # With a topic the card counts that topic's material and says so.
    lemgo = soup_of(client.get("/kommunen/?thema=e-akte-und-dokumentenmanagement")).select(
        ".municipality-card")[1]
    assert "Lemgo" in lemgo.get_text() and "zum gewählten Thema" in lemgo.get_text()
    assert names(soup_of(client.get(
        "/kommunen/?kreis=Kreis Lippe&thema=e-akte-und-dokumentenmanagement"))) == [
        "Kalletal", "Lemgo"]


@pytest.mark.parametrize("query", ["kreis=Atlantis", "art=dorf", "groesse=riesig",
                                   "thema=gibt-es-nicht", "kreis=%00Atlantis",
                                   "art=" + "x" * 5000])
def test_bad_list_filters_are_ignored_with_a_notice(client, network, query):
    soup = soup_of(client.get(f"/kommunen/?{query}"))
    assert len(names(soup)) == 4
    assert "der Filter wurde ignoriert" in soup.select_one(".notice").get_text()


# --- /kommunen/<slug>/ ------------------------------------------------------------------------


def test_profile_shows_master_data_contact_and_material(client, network):
    soup = soup_of(client.get("/kommunen/lemgo/"))
    assert soup.h1.get_text() == "Lemgo"
    facts = soup.select_one(".page-facts").get_text(" ", strip=True)
    assert "Kreis Lippe" in facts and "41.000" in facts and "Stabsstelle Digitales" in facts
    assert soup.select_one('.page-facts a[href="mailto:digital@lemgo.example"]')
    projects = soup.select_one('section[aria-labelledby="projects-heading"]')
    assert "E-Akte Lemgo" in projects.get_text() and "abgeschlossen" in projects.get_text()
    assert "Scannen braucht Personal" in soup.select_one(
        'section[aria-labelledby="lessons-heading"]').get_text()
    assert "Posteingang zentral" in soup.select_one(
        'section[aria-labelledby="bp-heading"]').get_text()
    roadmaps = soup.select_one('section[aria-labelledby="roadmaps-heading"]')
    text = roadmaps.get_text(" ", strip=True)
    assert "Zeitstrahl Lemgo" in text and "1 erledigt, 1 laufend, 1 geplant" in text
    assert roadmaps.select_one('a[href="/zeitstrahl/?mit=lemgo"]')


def test_page_metadata_links_to_the_profile(client, network):
    from knowledge.models import BestPracticePage

    page = BestPracticePage.objects.get(title="Posteingang zentral")
    soup = soup_of(client.get(page.url))
    assert soup.select_one('.page-facts a[href="/kommunen/lemgo/"]')


def test_profile_of_municipality_without_material(client, network):
    soup = soup_of(client.get("/kommunen/leerstadt/"))
    assert "Noch keine Projekte veröffentlicht." in soup.get_text()
    assert "noch nicht hinterlegt" in soup.select_one(".page-facts").get_text()
    assert "Noch keine ähnlichen Vorhaben gefunden" in soup.get_text()


def test_unknown_profile_is_a_german_404(client, network):
    response = client.get("/kommunen/atlantis/")
    assert response.status_code == 404
    assert "nicht gefunden" in response.content.decode().lower()


def test_similar_municipalities_come_from_stored_vectors(client, indexed_page, synced):
    for name in ("Lemgo", "Kalletal", "Spenge"):
        Municipality.objects.create(name=name)
    text = ("Einführung der E-Akte mit digitalem Posteingang, Scanstelle und Aktenplan in "
            "der Verwaltung.")
    other = ("Online-Terminvergabe und Bürgerportal für das Bürgerbüro, Servicekonto und "
             "E-Payment.")
    indexed_page("project", title="E-Akte Lemgo", municipality="Lemgo", summary=text)
    indexed_page("project", title="E-Akte Kalletal", municipality="Kalletal", summary=text)
    indexed_page("project", title="Bürgerportal Spenge", municipality="Spenge", summary=other)
    soup = soup_of(client.get("/kommunen/lemgo/"))
    similar = soup.select_one(".similar-municipalities")
    entries = [li.a.get_text(strip=True) for li in similar.select(":scope > ul > li")]
    assert entries[0] == "Kalletal"
    assert "Lemgo" not in entries
    assert "E-Akte Kalletal" in similar.get_text()
    assert similar.select_one('a[href="/kommunen/kalletal/"]')


# --- /uebersicht/ ---------------------------------------------------------------------------


def test_matrix_counts_and_links(client, network):
    soup = soup_of(client.get("/uebersicht/"))
    table = soup.select_one("table.matrix")
    assert table.caption.get_text(strip=True) == "Anzahl der Inhalte je Kommune und Thema"
    topics = [th.get_text(strip=True) for th in table.thead.select("th")][1:-1]
    assert topics == ["Digitalisierungsstrategie", "E-Akte und Dokumentenmanagement",
                      "Onlinezugangsgesetz"]
    rows = {tr.th.get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
            for tr in table.tbody.select("tr")}
    assert set(rows) == {"Kalletal", "Lemgo", "Spenge"}  # Leerstadt has no material
    assert rows["Lemgo"] == ["2", "3", "–keine", "4"]
    assert rows["Spenge"] == ["–keine", "–keine", "2", "2"]
    assert rows["Kalletal"] == ["–keine", "1", "–keine", "1"]
    totals = [td.get_text(strip=True) for td in table.tfoot.select("td")]
    assert totals[:3] == ["2", "4", "2"]
    lemgo_row = next(tr for tr in table.tbody.select("tr") if tr.th.get_text(strip=True)
                     == "Lemgo")
    link = lemgo_row.select("td")[1].a["href"]
    assert link == "/inhalte/?kommune=lemgo&thema=e-akte-und-dokumentenmanagement"
    listing = client.get(link).context["listing"]
    assert listing.page_obj.paginator.count == 3
    assert all(th["scope"] == "col" for th in table.thead.select("th"))
    assert all(th["scope"] == "row" for th in table.tbody.select("th"))


def test_matrix_total_counts_pages_without_topics_like_the_listing(client, network,
                                                                   make_page):
    """The row total counted only pages with a topic, while its link lists them all; a
    municipality whose pages have no topic was missing from the matrix."""
    make_page("lesson_learned", title="Ohne Thema in Lemgo", municipality="Lemgo", topics=[])
    make_page("lesson_learned", title="Ohne Thema in Blomberg", municipality="Blomberg",
              topics=[])
    table = soup_of(client.get("/uebersicht/")).select_one("table.matrix")
    rows = {tr.th.get_text(strip=True): tr for tr in table.tbody.select("tr")}
    lemgo_total = rows["Lemgo"].select("td")[-1]
    assert lemgo_total.get_text(strip=True) == "5"
    listing = client.get(lemgo_total.a["href"]).context["listing"]
    assert listing.page_obj.paginator.count == 5
    assert [td.get_text(strip=True) for td in rows["Blomberg"].select("td")][-1] == "1"


def test_empty_matrix(client, db):
    soup = soup_of(client.get("/uebersicht/"))
    assert soup.select_one("table.matrix") is None
    assert "Noch keine Inhalte mit Themen veröffentlicht." in soup.get_text()


# --- /zeitstrahl/ ---------------------------------------------------------------------------


def comparison_rows(soup):
    table = soup.select_one("table.comparison")
    header = [th.get_text(" ", strip=True) for th in table.thead.select("th")]
    rows = [[tr.th.get_text(strip=True), *[td.get_text(" ", strip=True)
                                           for td in tr.select("td")]]
            for tr in table.tbody.select("tr")]
    return header, rows


def test_comparison_aligns_roadmaps_by_half_year(client, network):
    header, rows = comparison_rows(soup_of(client.get("/zeitstrahl/")))
    assert header == ["Halbjahr", "Lemgo Zeitstrahl Lemgo", "Spenge Zeitstrahl Spenge"]
    assert [r[0] for r in rows] == ["1. Halbjahr 2022", "2. Halbjahr 2022", "1. Halbjahr 2023",
                                    "2. Halbjahr 2023"]
    assert rows[0][1] == "– nichts geplant"
    assert "erledigt Terminvergabe online" in rows[0][2]
    assert "erledigt E-Akte" in rows[1][1] and "laufend Wissenslandkarte" in rows[1][1]
    assert "Change-Modul: Pilotteams berichten" in rows[1][1]
    assert "laufend Digitaler Posteingang" in rows[3][2]


def test_comparison_filters_by_topic_and_municipality(client, network):
    _header, rows = comparison_rows(soup_of(client.get(
        "/zeitstrahl/?thema=e-akte-und-dokumentenmanagement")))
    assert [r[0] for r in rows] == ["2. Halbjahr 2022", "2. Halbjahr 2023"]
    assert "E-Akte" in rows[0][1] and "Wissenslandkarte" not in rows[0][1]
    assert "Digitaler Posteingang" in rows[1][2]
    header, rows = comparison_rows(soup_of(client.get("/zeitstrahl/?kommune=spenge")))
    assert header == ["Halbjahr", "Spenge Zeitstrahl Spenge"]
    assert len(rows) == 4  # 1/2022 to 2/2023, gaps included


def test_topic_filter_leaves_out_phases_without_a_measure_of_the_topic(client, network,
                                                                       make_page):
    """The filtered table still named a phase that had no measure of the topic, as if it
    had one ("Qualifizierung I" under "Bürgerbeteiligung")."""
    kalletal = make_page("project", title="Strategie Kalletal", municipality="Kalletal")
    make_page("roadmap", title="Zeitstrahl Kalletal", municipality="Kalletal",
              project=kalletal.external_id, steps=[
                  {"year": 2022, "half": 2, "title": "Bürgerportal",
                   "measures": [{"title": "Online-Anträge", "topic": "Onlinezugangsgesetz",
                                 "status": "erledigt"}]}])
    header, rows = comparison_rows(soup_of(client.get(
        "/zeitstrahl/?thema=e-akte-und-dokumentenmanagement")))
    lemgo, kalletal = (header.index(f"{name} Zeitstrahl {name}") for name in ("Lemgo",
                                                                             "Kalletal"))
    assert rows[0][0] == "2. Halbjahr 2022" and "E-Akte" in rows[0][lemgo]
    assert rows[0][kalletal] == "– keine Maßnahme zu diesem Thema"


@pytest.mark.parametrize("query", ["kommune=atlantis", "thema=gibt-es-nicht",
                                   "kommune=%00&thema=" + "y" * 3000])
def test_comparison_ignores_bad_filters_with_a_notice(client, network, query):
    soup = soup_of(client.get(f"/zeitstrahl/?{query}"))
    assert soup.select_one(".notice")
    assert soup.select_one("table.comparison")


def test_comparison_caps_the_number_of_columns(client, network, settings):
    settings.KNOWLEDGE_ROADMAP_COMPARE_MAX = 1
    soup = soup_of(client.get("/zeitstrahl/"))
    header, _rows = comparison_rows(soup)
    assert len(header) == 2
    assert "höchstens 1 Zeitstrahle" in soup.select_one(".notice").get_text()


def test_comparison_without_roadmaps(client, db):
    soup = soup_of(client.get("/zeitstrahl/"))
    assert "Noch keine Digitalisierungszeitstrahle veröffentlicht." in soup.get_text()
