"""The Digitalisierungszeitstrahl: model, import/export, passages and the rendered timeline."""

from __future__ import annotations

import json
import re

import pytest
from bs4 import BeautifulSoup
from django.core.exceptions import ValidationError

from knowledge.importing import record_from_page, validate_lines
from search.indexing.chunking import CharBudget
from search.indexing.page_chunks import chunk_page
from tests.conftest import record
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

STEPS = [
    # Deliberately out of order: the timeline sorts by half-year.
    {"year": 2023, "half": 1, "title": "Online-Dienste",
     "change_module": {"title": "Service-Gedanke", "description": "Bürgerbüro einbinden."},
     "measures": [{"title": "OZG-Leistungen anbinden", "topic": "Onlinezugangsgesetz",
                   "status": "geplant", "responsible_role": "Bürgerbüro",
                   "description": ""}]},
    {"year": 2022, "half": 2, "title": "E-Akte Rollout",
     "change_module": {"title": "Pilotteams berichten", "description": ""},
     "measures": [{"title": "E-Akte", "topic": "E-Akte und Dokumentenmanagement",
                   "status": "erledigt", "responsible_role": "Hauptamt",
                   "description": "In allen Fachbereichen."},
                  {"title": "Wissenslandkarte", "topic": None, "status": "laufend",
                   "responsible_role": "", "description": ""}]},
]


@pytest.fixture
def roadmap(make_page):
    project = make_page("project", title="Strategie Lemgo", municipality="Lemgo")
    return make_page("roadmap", project=project.external_id, title="Zeitstrahl Lemgo",
                     municipality="Lemgo", steps=STEPS)


def test_roadmap_is_filed_under_its_project_in_half_year_order(roadmap):
    assert roadmap.get_parent().specific.title == "Strategie Lemgo"
    steps = roadmap.timeline()
    assert [s.label for s in steps] == ["2. Halbjahr 2022", "1. Halbjahr 2023"]
    assert steps[0].change_title == "Pilotteams berichten"
    assert [m.title for m in steps[0].measures] == ["E-Akte", "Wissenslandkarte"]
    assert steps[0].measures[0].topic.name == "E-Akte und Dokumentenmanagement"
    assert steps[0].measures[1].topic is None
    assert roadmap.status_counts() == {"geplant": 1, "laufend": 1, "erledigt": 1}
    assert roadmap.span_label() == "2. Halbjahr 2022 bis 1. Halbjahr 2023"


def test_two_steps_in_one_half_year_are_rejected_by_the_model(roadmap):
    roadmap.steps = [("step", {**STEPS[0], "half": "1", "measures": []}),
                     ("step", {**STEPS[0], "half": "1", "measures": []})]
    with pytest.raises(ValidationError, match=r"1\. Halbjahr 2023 kommt mehrfach vor"):
        roadmap.full_clean()


def test_export_round_trip_is_unchanged(roadmap, import_lines):
    exported = record_from_page(roadmap)
    assert exported["type"] == "roadmap"
    assert exported["project"] == roadmap.get_parent().specific.external_id
    assert [(s["year"], s["half"]) for s in exported["steps"]] == [(2022, 2), (2023, 1)]
    assert exported["steps"][0]["measures"][0] == {
        "title": "E-Akte", "topic": "E-Akte und Dokumentenmanagement", "status": "erledigt",
        "responsible_role": "Hauptamt", "description": "In allen Fachbereichen."}
    result = import_lines(json.loads(json.dumps(exported)))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    changed = json.loads(json.dumps(exported))
    changed["steps"][1]["measures"][0]["status"] = "laufend"
    assert import_lines(changed).updated == 1


@pytest.mark.parametrize(("change", "reason"), [
    ({"project": None}, "a roadmap needs the external_id of its 'project'"),
    ({"steps": [STEPS[0], STEPS[0]]}, "half-year 1/2023 occurs twice"),
    ({"steps": [{**STEPS[0], "half": 3}]}, "steps"),
    ({"steps": [{**STEPS[0], "measures": [{"title": "X", "status": "fertig"}]}]}, "status"),
    ({"steps": [{**STEPS[0], "year": 1999}]}, "year"),
])
def test_bad_roadmap_lines_are_reported(make_page, change, reason):
    project = make_page("project")
    line = record("roadmap", project=project.external_id, steps=STEPS) | change
    valid, errors = validate_lines([json.dumps(line)])
    assert not valid
    assert len(errors) == 1 and reason in str(errors[0])


def test_roadmap_passages_say_who_did_what_when(roadmap):
    chunks = chunk_page(roadmap, CharBudget())
    kinds = [c.kind for c in chunks]
    assert kinds[0] == "overview" and kinds.count("roadmap_step") == 2
    overview = chunks[0].text
    assert "Projekt: Strategie Lemgo" in overview
    assert "2. Halbjahr 2022 bis 1. Halbjahr 2023" in overview
    step = next(c for c in chunks if c.heading.startswith("2. Halbjahr 2022"))
    assert step.heading == "2. Halbjahr 2022: E-Akte Rollout"
    assert "Lemgo hat „E-Akte“ im 2. Halbjahr 2022 umgesetzt." in step.text
    assert "Lemgo setzt „Wissenslandkarte“ im 2. Halbjahr 2022 um." in step.text
    assert "Vorbereitendes Change-Modul: Pilotteams berichten." in step.text
    later = next(c for c in chunks if c.heading.startswith("1. Halbjahr 2023"))
    assert "Lemgo plant „OZG-Leistungen anbinden“ für das 1. Halbjahr 2023." in later.text


def test_roadmap_is_found_by_the_search(indexed_page, client):
    project = indexed_page("project", title="Strategie Lemgo", municipality="Lemgo")
    indexed_page("roadmap", project=project.external_id, title="Zeitstrahl Lemgo",
                 municipality="Lemgo", steps=STEPS)
    data = client.get("/api/v1/search", {"q": "E-Akte umgesetzt Halbjahr 2022",
                                         "mode": "fulltext"}).json()
    hit = next(r for r in data["results"] if r["type"] == "roadmap")
    assert hit["title"] == "Zeitstrahl Lemgo"
    assert "2022" in hit["snippet"]


def test_timeline_renders_as_ordered_list_and_table(roadmap, client):
    response = client.get(roadmap.url)
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    timeline = soup.select_one("ol.timeline")
    assert timeline["aria-labelledby"] == "timeline-heading"
    steps = timeline.select("li.timeline-step")
    assert [s["id"] for s in steps] == ["halbjahr-2022-2", "halbjahr-2023-1"]
    assert steps[0].select_one("h3").get_text(" ", strip=True).startswith("2. Halbjahr 2022")
    assert "Pilotteams berichten" in steps[0].select_one(".change-module").get_text()
    statuses = [s.get_text(strip=True) for s in steps[0].select(".measure .status")]
    assert statuses == ["erledigt", "laufend"]  # written out, not colour only
    table = soup.select_one("table.roadmap-table")
    assert table.caption.get_text(strip=True) == "Zeitstrahl als Tabelle"
    assert [th.get_text(strip=True) for th in table.thead.select("th")] == [
        "Halbjahr", "Digitalbündel", "Change-Modul", "Maßnahme", "Thema", "Status",
        "Verantwortlich"]
    rows = [[c.get_text(strip=True) for c in tr.select("th, td")]
            for tr in table.tbody.select("tr")]
    assert rows[0] == ["2. Halbjahr 2022", "E-Akte Rollout", "Pilotteams berichten", "E-Akte",
                       "E-Akte und Dokumentenmanagement", "erledigt", "Hauptamt"]
    assert len(rows) == 3
    assert all(th["scope"] == "row" for th in table.tbody.select("th"))
    region = table.find_parent("div", class_="table-scroll")
    assert region["role"] == "region" and region["tabindex"] == "0"


def test_project_page_links_its_roadmap(roadmap, client):
    html = client.get(roadmap.get_parent().url).content.decode()
    assert re.search(rf'href="{re.escape(roadmap.url)}">Zeitstrahl Lemgo</a>', html)
    assert "2. Halbjahr 2022 bis 1. Halbjahr 2023" in html


def test_beratung_can_add_a_roadmap_to_a_project_in_the_admin(roadmap, client, user_in):
    project = roadmap.get_parent()
    client.force_login(user_in("Beratung", is_staff=True))
    response = client.get(f"/admin/pages/add/knowledge/roadmappage/{project.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Halbjahresschritte" in html and "Digitalisierungszeitstrahl" in html
    edit = client.get(f"/admin/pages/{roadmap.pk}/edit/")
    assert edit.status_code == 200


def test_compare_link_preselects_this_roadmap_first_and_others(roadmap, make_page, client):
    """"Mit anderen Kommunen vergleichen" opened a comparison of the roadmap with itself."""
    project = make_page("project", title="Strategie Blomberg", municipality="Blomberg")
    make_page("roadmap", project=project.external_id, title="Zeitstrahl Blomberg",
              municipality="Blomberg", steps=STEPS)
    page = client.get(roadmap.url).content.decode()
    assert 'href="/zeitstrahl/?mit=lemgo"' in page
    soup = BeautifulSoup(client.get("/zeitstrahl/?mit=lemgo").content, "html.parser")
    columns = [th.get_text(" ", strip=True) for th in soup.select("table.comparison thead th")]
    assert columns[1].startswith("Lemgo") and columns[2].startswith("Blomberg")
    checked = [box["value"] for box in soup.select('input[name="kommune"][checked]')]
    assert sorted(checked) == ["blomberg", "lemgo"]


def test_compare_preselection_stays_within_the_limit_without_a_notice(
        roadmap, make_page, client, settings):
    """A municipality with two roadmaps pushed the preselection over the limit, and the
    visitor, who chose nothing, was told to choose fewer."""
    settings.KNOWLEDGE_ROADMAP_COMPARE_MAX = 2
    make_page("roadmap", project=roadmap.get_parent().specific.external_id,
              title="Zeitstrahl Lemgo II", municipality="Lemgo", steps=STEPS)
    project = make_page("project", title="Strategie Blomberg", municipality="Blomberg")
    make_page("roadmap", project=project.external_id, title="Zeitstrahl Blomberg",
              municipality="Blomberg", steps=STEPS)
    soup = BeautifulSoup(client.get("/zeitstrahl/?mit=lemgo").content, "html.parser")
    assert len(soup.select("table.comparison thead th")) == 3  # Halbjahr + 2 roadmaps
    assert "höchstens" not in soup.get_text()


def test_roadmap_page_has_no_two_landmarks_with_one_name(roadmap, client):
    soup = BeautifulSoup(client.get(roadmap.url).content, "html.parser")
    assert len(soup.select('[aria-labelledby="roadmap-table-caption"]')) == 1


def test_login_link_keeps_the_query_and_home_title_names_the_site_once(roadmap, client):
    html = client.get("/suche/?q=E-Akte&typ=lesson_learned").content.decode()
    assert 'href="/anmelden/?next=/suche/%3Fq%3DE-Akte%26typ%3Dlesson_learned"' in html
    title = BeautifulSoup(client.get("/").content, "html.parser").title.get_text()
    assert title.count("Kommunales Wissensnetz") == 1
    assert BeautifulSoup(client.get(roadmap.url).content, "html.parser").title.get_text() == \
        "Zeitstrahl Lemgo – Kommunales Wissensnetz"
