"""Views outside the page tree: the browse listing, municipality profiles, the matrix
"Wer hat was schon gemacht?", the roadmap comparison and a project's PDF report."""

import logging

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _

from knowledge.access import viewable_page_for_request
from knowledge.comparison import build_comparison
from knowledge.listing import build_listing
from knowledge.matrix import build_matrix
from knowledge.models import KNOWLEDGE_PAGE_MODELS, Municipality, ProjectPage
from knowledge.page_cache import cache_pages, cached_bytes
from knowledge.profiles import build_municipality_list, build_profile
from knowledge.report import ReportUnavailable, render_report_pdf
from knowledge.text import german_slugify

logger = logging.getLogger(__name__)


@cache_pages
def browse(request):
    """All knowledge the visitor may see, filterable by municipality, topic, year and type."""
    listing = build_listing(request, tuple(KNOWLEDGE_PAGE_MODELS))
    return render(request, "knowledge/browse.html", {"listing": listing})


@cache_pages
def municipality_list(request):
    """All member municipalities, filterable by district, kind, size and topic."""
    return render(request, "knowledge/municipality_list.html",
                  {"municipalities": build_municipality_list(request)})


@cache_pages
def municipality_profile(request, slug):
    """One municipality at a glance (404 for an unknown slug)."""
    municipality = get_object_or_404(Municipality, slug=slug)
    return render(request, "knowledge/municipality_profile.html",
                  {"profile": build_profile(request, municipality)})


@cache_pages
def matrix(request):
    """Municipalities × topics: who has already done what."""
    return render(request, "knowledge/matrix.html", {"matrix": build_matrix(request.user)})


@cache_pages
def roadmap_comparison(request):
    """Roadmaps of several municipalities side by side, aligned by half-year."""
    return render(request, "knowledge/roadmap_comparison.html",
                  {"comparison": build_comparison(request)})


def project_report(request, page_id):
    """The project's report as PDF (Abschlussbericht, or Zwischenbericht before the project is
    finished); 404 unless the user may view the project."""
    project = viewable_page_for_request(request, page_id, ProjectPage)
    if project is None:
        raise Http404(_("Dieses Projekt gibt es nicht oder Sie dürfen es nicht sehen."))
    try:
        pdf = cached_bytes(request, "abschlussbericht",
                           lambda: render_report_pdf(project, request))
    except ReportUnavailable:
        logger.exception("PDF export unavailable")
        return HttpResponse(_("Der PDF-Export ist auf diesem Server gerade nicht verfügbar. "
                              "Bitte versuchen Sie es später noch einmal."),
                            status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(pdf, content_type="application/pdf")
    filename = f"{german_slugify(project.report_title)}-{german_slugify(project.title)}.pdf"
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
