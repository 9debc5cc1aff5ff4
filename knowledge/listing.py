"""Filterable, paginated listings of knowledge pages (by municipality, topic, year and type).

Filters live in the query string (``?kommune=lemgo&thema=e-akte&jahr=2023&typ=best_practice``)
so that a filtered view can be bookmarked and shared. Unknown filter values are ignored with a
notice rather than an error: a stale bookmark should still show something useful.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext as _
from wagtail.models import Page

from knowledge.access import viewable_pages
from knowledge.models import KNOWLEDGE_PAGE_MODELS, KnowledgePage, Municipality, Topic
from knowledge.text import clean_query_value, int_in_range
from knowledge.types import TYPE_LABELS


@dataclass
class Listing:
    page_obj: object
    municipalities: list
    topics: list
    years: list[int]
    types: list[tuple[str, str]]
    selected: dict[str, str]
    notices: list[str] = field(default_factory=list)
    querystring: str = ""


def _types_q(types):
    models = [KNOWLEDGE_PAGE_MODELS[t] for t in types]
    return Page.objects.type_q(*models)


def build_listing(request, types: tuple[str, ...]) -> Listing:
    """Apply the filters of ``request.GET`` to the pages of ``types`` the user may view."""
    base = viewable_pages(request.user, KnowledgePage).filter(_types_q(types))
    queryset = base
    selected: dict[str, str] = {}
    notices: list[str] = []

    municipality_slug = clean_query_value(request.GET.get("kommune"))
    if municipality_slug:
        if Municipality.objects.filter(slug=municipality_slug).exists():
            queryset = queryset.filter(municipality__slug=municipality_slug)
            selected["kommune"] = municipality_slug
        else:
            notices.append(_("Die gewählte Kommune gibt es nicht; der Filter wurde ignoriert."))

    topic_slug = clean_query_value(request.GET.get("thema"))
    if topic_slug:
        if Topic.objects.filter(slug=topic_slug).exists():
            queryset = queryset.filter(topics__slug=topic_slug)
            selected["thema"] = topic_slug
        else:
            notices.append(_("Das gewählte Thema gibt es nicht; der Filter wurde ignoriert."))

    year = clean_query_value(request.GET.get("jahr"))
    if year:
        number = int_in_range(year, 1900, 2100)
        if number is not None:
            queryset = queryset.filter(date__year=number)
            selected["jahr"] = year
        else:
            notices.append(_("Das Jahr ist ungültig; der Filter wurde ignoriert."))

    type_key = clean_query_value(request.GET.get("typ"))
    if type_key and len(types) > 1:
        if type_key in types:
            queryset = queryset.filter(_types_q((type_key,)))
            selected["typ"] = type_key
        else:
            notices.append(_("Den gewählten Inhaltstyp gibt es nicht; der Filter wurde ignoriert."))

    queryset = queryset.distinct().order_by("-date", "title")
    paginator = Paginator(queryset.specific(), settings.KNOWLEDGE_LISTING_PAGE_SIZE)
    page_obj = paginator.get_page(clean_query_value(request.GET.get("seite")))

    years = sorted(
        {y for y in base.annotate(y=ExtractYear("date")).values_list("y", flat=True)},
        reverse=True,
    )
    querystring = urlencode(selected)
    return Listing(
        page_obj=page_obj,
        municipalities=list(Municipality.objects.filter(pages__in=base).distinct()),
        topics=list(Topic.objects.filter(pages__in=base).distinct()),
        years=years,
        types=[(t, TYPE_LABELS[t]) for t in types] if len(types) > 1 else [],
        selected=selected,
        notices=notices,
        querystring=querystring,
    )
