"""The project's Abschlussbericht: a real PDF (WeasyPrint) whose text holds every section."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from wagtail.models import PageViewRestriction

from tests.test_roadmap import STEPS

pytestmark = pytest.mark.django_db


def pdf_text(response) -> tuple[str, list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    pages = [page.extract_text() for page in reader.pages]
    return "\n".join(pages), pages


@pytest.fixture
def project(make_page):
    project = make_page("project", title="Digitalisierungsstrategie Spenge",
                        municipality="Spenge", goals="- Online-Dienste ausbauen",
                        summary="Strategieprojekt mit fünf Sitzungen.")
    make_page("session_protocol", project=project.external_id, municipality="Spenge",
              title="Erste Projektgruppensitzung", session_number=1,
              decisions=["Terminvergabe online einführen"],
              action_items=[{"task": "Formulare prüfen", "owner_role": "Bürgerbüro",
                             "status": "erledigt"}])
    internal = make_page("session_protocol", project=project.external_id,
                         municipality="Spenge", title="Interne Haushaltssitzung",
                         session_number=2)
    PageViewRestriction.objects.create(page=internal,
                                       restriction_type=PageViewRestriction.LOGIN)
    make_page("lesson_learned", project=project.external_id, municipality="Spenge",
              title="Bürgerbüro früh einbinden", situation="Wenig Akzeptanz.",
              recommendation="Sachbearbeitung testet die Formulare zuerst.")
    make_page("roadmap", project=project.external_id, municipality="Spenge",
              title="Zeitstrahl Spenge", steps=STEPS)
    make_page("best_practice", project=project.external_id, municipality="Spenge",
              title="Terminvergabe online", problem="Wartezeiten.", solution="Online-Termine.")
    return project


def test_report_contains_every_section_with_toc_and_page_numbers(client, project):
    html = client.get(project.url).content.decode()
    assert f'href="/abschlussbericht/{project.pk}/">Zwischenbericht als PDF' in html
    response = client.get(f"/abschlussbericht/{project.pk}/")
    assert 'filename="zwischenbericht-digitalisierungsstrategie-spenge.pdf"' in (
        response["Content-Disposition"])
    text, pages = pdf_text(response)
    assert "ZWISCHENBERICHT" in pages[0].upper()  # the project is still running
    assert "Digitalisierungsstrategie Spenge" in pages[0]
    assert "Inhalt" in pages[1]
    for heading in ("1 Das Projekt", "2 Sitzungsprotokolle", "3 Lessons Learned",
                    "4 Digitalisierungszeitstrahl", "5 Best Practices"):
        assert heading in pages[1], heading  # the table of contents
        assert any(heading in page for page in pages[2:]), heading  # and the chapter
    assert "Online-Dienste ausbauen" in text
    assert "Erste Projektgruppensitzung" in text and "Terminvergabe online einführen" in text
    assert "Formulare prüfen" in text
    assert "Bürgerbüro früh einbinden" in text
    assert "2. Halbjahr 2022" in text and "OZG-Leistungen anbinden" in text
    assert "Terminvergabe online" in text
    assert f"Seite 2 von {len(pages)}" in pages[1]
    assert f"Seite {len(pages)} von {len(pages)}" in pages[-1]


def test_a_finished_projects_report_is_its_abschlussbericht(client, make_page):
    """A planned or running project's PDF was called "Abschlussbericht" too."""
    project = make_page("project", title="E-Akte Spenge", municipality="Spenge",
                        phase="abgeschlossen")
    html = client.get(project.url).content.decode()
    assert f'href="/abschlussbericht/{project.pk}/">Abschlussbericht als PDF' in html
    response = client.get(f"/abschlussbericht/{project.pk}/")
    assert 'filename="abschlussbericht-e-akte-spenge.pdf"' in response["Content-Disposition"]
    _text, pages = pdf_text(response)
    assert "ABSCHLUSSBERICHT" in pages[0].upper()


def test_report_holds_only_what_the_reader_may_see(client, project, user_in):
    text, _pages = pdf_text(client.get(f"/abschlussbericht/{project.pk}/"))
    assert "Interne Haushaltssitzung" not in text
    client.force_login(user_in("Kommune"))
    text, _pages = pdf_text(client.get(f"/abschlussbericht/{project.pk}/"))
    assert "Interne Haushaltssitzung" in text


def test_report_is_rendered_once_per_viewer_class_until_content_changes(
        client, project, user_in, settings, monkeypatch, django_capture_on_commit_callbacks):
    """Seconds of WeasyPrint on every request, for anonymous visitors too: now cached like
    pages, per viewer class, and invalidated by any change."""
    from django.test import Client

    from knowledge import views

    settings.KNOWLEDGE_PAGE_CACHE_SECONDS = 600
    renders = []
    real = views.render_report_pdf

    def counting(*args, **kwargs):
        renders.append(args[1].user.is_authenticated)
        return real(*args, **kwargs)

    monkeypatch.setattr(views, "render_report_pdf", counting)
    url = f"/abschlussbericht/{project.pk}/"
    first = client.get(url)
    assert Client().get(url).content == first.content
    assert renders == [False]
    member = Client()
    member.force_login(user_in("Kommune"))
    assert "Interne Haushaltssitzung" in pdf_text(member.get(url))[0]  # its own class
    assert renders == [False, True]
    project.title = "Digitalisierungsstrategie Spenge 2030"
    with django_capture_on_commit_callbacks(execute=True):  # the cache token is renewed then
        project.save_revision().publish()
    assert "Spenge 2030" in pdf_text(Client().get(url))[0]
    assert renders == [False, True, False]


def test_report_of_a_restricted_or_unknown_project_is_404(client, project, user_in):
    PageViewRestriction.objects.create(page=project, restriction_type=PageViewRestriction.LOGIN)
    response = client.get(f"/abschlussbericht/{project.pk}/")
    assert response.status_code == 404
    assert b"Spenge" not in response.content
    assert client.get("/abschlussbericht/999999/").status_code == 404
    assert client.get("/abschlussbericht/abc/").status_code == 404
    from knowledge.models import SessionProtocolPage

    protocol = SessionProtocolPage.objects.get(title="Erste Projektgruppensitzung")
    assert client.get(f"/abschlussbericht/{protocol.pk}/").status_code == 404  # not a project


def test_missing_pdf_libraries_give_a_german_503(client, project, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    response = client.get(f"/abschlussbericht/{project.pk}/")
    assert response.status_code == 503
    assert "PDF-Export ist auf diesem Server gerade nicht verfügbar" in response.content.decode()


def test_password_protected_project_opens_with_its_protocols_and_report(client, project):
    """Wagtail opens a password-protected project once its password is entered; the project
    page listed no protocols then, its protocols named no project, and the report link on
    the page led to a 404. The session's password now opens the whole protected subtree."""
    from django.urls import reverse

    restriction = PageViewRestriction.objects.create(
        page=project, restriction_type=PageViewRestriction.PASSWORD, password="kiebitz")
    report_url = f"/abschlussbericht/{project.pk}/"
    assert client.get(report_url).status_code == 404
    client.post(reverse("wagtailcore_authenticate_with_password",
                        args=[restriction.pk, project.pk]),
                {"password": "kiebitz", "return_url": project.url})
    page = client.get(project.url).content.decode()
    assert "Erste Projektgruppensitzung" in page
    assert "Zeitstrahl Spenge" in page and "Bürgerbüro früh einbinden" in page
    assert "Interne Haushaltssitzung" not in page  # a login restriction stays closed
    from knowledge.models import SessionProtocolPage

    protocol = SessionProtocolPage.objects.get(title="Erste Projektgruppensitzung")
    assert "Digitalisierungsstrategie Spenge" in client.get(protocol.url).content.decode()
    text = pdf_text(client.get(report_url))[0]
    assert "Erste Projektgruppensitzung" in text and "Interne Haushaltssitzung" not in text
    # The password opens this project, not the site's overviews.
    assert "Erste Projektgruppensitzung" not in client.get("/inhalte/").content.decode()


def test_report_is_a_tagged_pdf_for_screen_readers(client, project):
    """The PDF had no structure tree: screen readers got no headings, tables or order."""
    response = client.get(f"/abschlussbericht/{project.pk}/")
    reader = PdfReader(io.BytesIO(response.content))
    root = reader.trailer["/Root"]
    assert "/StructTreeRoot" in root and root["/MarkInfo"]["/Marked"]
    assert root["/ViewerPreferences"]["/DisplayDocTitle"]
    assert root["/Lang"] == "de"
