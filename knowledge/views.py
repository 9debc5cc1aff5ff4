"""Views outside the page tree: the cross-section browse listing."""

from django.shortcuts import render

from knowledge.listing import build_listing
from knowledge.models import KNOWLEDGE_PAGE_MODELS


def browse(request):
    """All knowledge the visitor may see, filterable by municipality, topic, year and type."""
    listing = build_listing(request, tuple(KNOWLEDGE_PAGE_MODELS))
    return render(request, "knowledge/browse.html", {"listing": listing})
