"""The "Abschlussbericht" of a project as one printable PDF (WeasyPrint).

Project, session protocols, lessons learned, roadmap and best practices in one document with
a table of contents, page numbers ("Seite 3 von 12") and German hyphenation. The report
contains only what the requesting user may see: every part comes from
:func:`knowledge.access.viewable_pages_for_request`, so a protocol restricted to members is
missing from a visitor's report just as it is missing from the project page, and the report of
a password-protected project holds its protocols once the password was entered.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from knowledge.access import viewable_pages_for_request
from knowledge.models import (
    BestPracticePage,
    KnowledgePage,
    LessonLearnedPage,
    ProjectPage,
    RoadmapPage,
    SessionProtocolPage,
)


def report_context(project: ProjectPage, request) -> dict:
    """The parts of the report the request may see, in reading order."""
    visible = viewable_pages_for_request(request, KnowledgePage)
    children = visible.child_of(project)
    return {
        "project": project,
        "protocols": list(children.type(SessionProtocolPage).specific()
                          .order_by("sessionprotocolpage__session_number", "date")),
        "lessons": list(children.type(LessonLearnedPage).specific().order_by("date")),
        "roadmaps": list(children.type(RoadmapPage).specific().order_by("date")),
        "best_practices": list(visible.type(BestPracticePage)
                               .filter(bestpracticepage__related_project=project)
                               .specific().order_by("date")),
        "generated": timezone.localdate(),
    }


def render_report_html(project: ProjectPage, request) -> str:
    return render_to_string("knowledge/report/project_report.html",
                            report_context(project, request), request=request)


class ReportUnavailable(RuntimeError):
    """WeasyPrint's system libraries (Pango) are missing: see deploy/install_pdf_libs.sh."""


def render_report_pdf(project: ProjectPage, request) -> bytes:
    """The PDF bytes; relative links and images resolve against the site's address."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # WeasyPrint loads Pango with ctypes on import
        raise ReportUnavailable(str(exc)) from exc

    # PDF/UA: tagged (headings, lists, tables and reading order for screen readers), with
    # the document title shown; BITV 2.0 asks for accessible PDF documents.
    return HTML(string=render_report_html(project, request),
                base_url=request.build_absolute_uri("/")).write_pdf(pdf_variant="pdf/ua-1")
