"""Views outside the page tree: the browse listing, municipality profiles, the matrix
"Wer hat was schon gemacht?" and the roadmap comparison."""

from django.shortcuts import get_object_or_404, render

from knowledge.comparison import build_comparison
from knowledge.listing import build_listing
from knowledge.matrix import build_matrix
from knowledge.models import KNOWLEDGE_PAGE_MODELS, Municipality
from knowledge.profiles import build_municipality_list, build_profile


def browse(request):
    """All knowledge the visitor may see, filterable by municipality, topic, year and type."""
    listing = build_listing(request, tuple(KNOWLEDGE_PAGE_MODELS))
    return render(request, "knowledge/browse.html", {"listing": listing})


def municipality_list(request):
    """All member municipalities, filterable by district, kind, size and topic."""
    return render(request, "knowledge/municipality_list.html",
                  {"municipalities": build_municipality_list(request)})


def municipality_profile(request, slug):
    """One municipality at a glance (404 for an unknown slug)."""
    municipality = get_object_or_404(Municipality, slug=slug)
    return render(request, "knowledge/municipality_profile.html",
                  {"profile": build_profile(request, municipality)})


def matrix(request):
    """Municipalities × topics: who has already done what."""
    return render(request, "knowledge/matrix.html", {"matrix": build_matrix(request.user)})


def roadmap_comparison(request):
    """Roadmaps of several municipalities side by side, aligned by half-year."""
    return render(request, "knowledge/roadmap_comparison.html",
                  {"comparison": build_comparison(request)})
