"""Front-end pages render in German, accessibly, with their metadata and links."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(make_page):
    project = make_page("project", title="Digitalisierungsstrategie Lage", municipality="Lage",
                        topics=["Change Management", "Qualifizierung"], date="2021-09-01",
                        goals="- Führungskräfte gewinnen")
    protocols = [
        make_page("session_protocol", project=project.external_id, municipality="Lage",
                  title=f"{n}. Projektgruppensitzung", session_number=n, date=f"2021-1{n}-03",
                  format="vor_ort",
                  action_items=[{"task": "Umfrage auswerten", "owner_role": "Personalamt",
                                 "due_date": "2021-12-01", "status": "in_arbeit"}])
        for n in (1, 2)
    ]
    return project, protocols


def test_pages_show_municipality_topics_date_project_and_siblings(client, family):
    project, (first, second) = family
    html = client.get(first.url).content.decode()
    assert '<html lang="de">' in html
    assert ">Lage</a>" in html and "Digitalisierungsstrategie" in html
    assert "3. November 2021" in html  # German date
    assert f'href="{project.url}"' in html
    assert f'href="{second.url}"' in html  # sibling session
    assert "vor Ort" in html and "in Arbeit" in html and "Personalamt" in html
    project_html = client.get(project.url).content.decode()
    assert first.title in project_html and second.title in project_html
    assert "Führungskräfte gewinnen" in project_html
    assert "Change Management" in project_html and "September 2021" in project_html


def test_accessible_page_skeleton(client, family):
    html = client.get(family[0].url).content.decode()
    assert 'class="skip-link" href="#inhalt"' in html
    assert '<main id="inhalt"' in html
    assert re.search(r"<header[^>]*>", html) and "<footer" in html
    assert 'aria-label="Hauptnavigation"' in html
    assert 'role="search"' in html and '<label for="header-q"' in html
    assert "<table" not in html
    assert html.count("<h1") == 1


def test_listing_filters_and_pagination(client, make_page, settings):
    settings.KNOWLEDGE_LISTING_PAGE_SIZE = 2
    for n in range(5):
        make_page("best_practice", title=f"Praxis {n}", municipality="Detmold",
                  date=f"202{n}-05-01")
    make_page("best_practice", title="Praxis aus Vlotho", municipality="Vlotho",
              date="2024-05-01")
    html = client.get("/best-practices/?kommune=detmold").content.decode()
    assert "5 Einträge" in html and "Seite 1 von 3" in html
    assert "Praxis aus Vlotho" not in html
    assert "kommune=detmold&amp;seite=2" in html
    html = client.get("/best-practices/?kommune=detmold&jahr=2023").content.decode()
    assert "1 Eintrag" in html and "Praxis 3" in html
    html = client.get("/inhalte/?typ=best_practice&thema=digitalisierungsstrategie").content\
        .decode()
    assert "6 Einträge" in html


@pytest.mark.parametrize("query", ["?jahr=abc", "?kommune=gibtsnicht", "?typ=<script>",
                                   "?seite=999", "?seite=-1", "?thema=%00"])
def test_bad_filter_values_never_fail(client, make_page, query):
    make_page("best_practice")
    response = client.get("/inhalte/" + query)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


def test_404_is_german(client):
    response = client.get("/gibt-es-nicht/")
    assert response.status_code == 404
    assert "Seite nicht gefunden" in response.content.decode()


def test_make_run_serves_images_but_never_documents_as_media(client, settings):
    """`make run` runs without DEBUG (German error pages), so the application serves uploaded
    images itself; a document's file stays behind Wagtail's serve view and its privacy
    check even where someone guesses its path under media/."""
    for folder in ("images", "documents"):
        (settings.MEDIA_ROOT / folder).mkdir(parents=True, exist_ok=True)
        (settings.MEDIA_ROOT / folder / "probe.txt").write_text("probe")
    response = client.get("/media/images/probe.txt")
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"probe"
    assert client.get("/media/documents/probe.txt").status_code == 404
    assert client.get("/media/images/../documents/probe.txt").status_code == 400  # refused


def test_too_large_requests_get_a_german_400(client, make_page):
    make_page("lesson_learned")
    too_many = client.get("/suche/?q=Akte&" + "&".join(f"typ=t{n}" for n in range(1200)))
    too_big = client.post("/lernen/", {"description": "x" * (3 * 1024 * 1024)})
    for response in (too_many, too_big):
        assert response.status_code == 400
        assert "Die Anfrage war ungültig" in response.content.decode()


def test_form_without_csrf_token_gets_a_german_403():
    # The login view is never reached: the CSRF check answers first. (A vote gets its own
    # page that keeps the comment: tests/test_network_feedback.py.)
    response = Client(enforce_csrf_checks=True).post(
        "/anmelden/", {"username": "x", "password": "y"})
    assert response.status_code == 403
    body = response.content.decode()
    assert "Das Formular ist abgelaufen" in body and "DEBUG" not in body


def test_500_page_is_german_and_self_contained():
    from django.template.loader import get_template

    html = get_template("500.html").render()  # as Django renders it: no request, no context
    assert "Es ist ein Fehler aufgetreten" in html and "Zur Startseite" in html
    assert "Self-contained" not in html  # the template's comment is not shown


def test_no_template_comment_spans_lines():
    """``{# … #}`` ends at the line's end in Django: a longer one is printed to the visitor."""
    from pathlib import Path

    from django.conf import settings

    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]]
    roots += Path(settings.BASE_DIR).glob("*/templates")
    offenders = [f"{path}:{number}" for root in roots for path in root.rglob("*.*")
                 if path.suffix in (".html", ".txt", ".xml")
                 for number, line in enumerate(path.read_text().splitlines(), start=1)
                 if line.count("{#") > line.count("#}")]
    assert offenders == []


def test_cached_page_content_follows_new_revisions_and_previews(client, make_page):
    from wagtail.models import Page

    page = make_page("lesson_learned", title="Scanstelle im Rathaus",
                     situation="Die alte Fassung der Ausgangslage.")
    assert "alte Fassung" in client.get(page.url).content.decode()
    assert "alte Fassung" in client.get(page.url).content.decode()  # from the fragment cache

    page = Page.objects.get(pk=page.pk).specific
    page.situation = "<p>Die neue Fassung der Ausgangslage.</p>"
    page.save_revision().publish()
    html = client.get(page.url).content.decode()
    assert "neue Fassung" in html and "alte Fassung" not in html

    # A draft's preview never shows the cached live content.
    page.situation = "<p>Ein Entwurf der Ausgangslage.</p>"
    preview = page.make_preview_request()
    preview.render()
    assert "Entwurf" in preview.content.decode()
