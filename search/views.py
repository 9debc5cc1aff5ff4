"""The search page ``/suche/?q=…``: results as cards, facets, filters and pagination.

The whole state lives in the query string with German parameter names (``q``, ``modus``,
``typ``, ``kommune``, ``ohne_kommune``, ``thema``, ``von``, ``bis``, ``seite``), so every view
of the results can be bookmarked and shared, and facet links just change one parameter.
Invalid input (an empty or overlong query, an unknown filter value, a malformed date) is
answered with status 400 and the form with a German explanation, never with a server error.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from knowledge.text import int_in_range
from knowledge.types import TYPE_LABELS
from network.search_hooks import search_page_extras
from search.query import (
    SearchError,
    clean_filter_value,
    clean_mode,
    max_query_length,
    parse_date,
    resolve_filters,
)
from search.retrieval import search

MODE_LABELS = {
    "hybrid": gettext_lazy("Kombiniert (empfohlen)"),
    "fulltext": gettext_lazy("Nur Stichwörter"),
    "vector": gettext_lazy("Nur Bedeutung"),
}
STATE_KEYS = ("q", "modus", "typ", "kommune", "ohne_kommune", "thema", "von", "bis")
# Filters that may hold several values, repeated or comma-separated (as in the API).
MULTI_KEYS = ("typ", "kommune", "ohne_kommune", "thema")


@dataclass
class SearchState:
    """The query-string state: raw strings as typed, to refill the form and build links."""

    values: dict[str, list[str]]

    @classmethod
    def from_request(cls, request) -> SearchState:
        values = {}
        for key in STATE_KEYS:
            raw = request.GET.getlist(key)
            if key in MULTI_KEYS:
                raw = [part for value in raw for part in value.split(",")]
            else:  # the last of repeated values, as QueryDict.get and the API take it
                raw = raw[-1:]
            # The query is cleaned (and length-checked) by the search itself.
            items = [v.strip() if key == "q" else clean_filter_value(v).strip() for v in raw]
            items = list(dict.fromkeys(v for v in items if v))
            if items:
                values[key] = items
        if "q" in request.GET and "q" not in values:
            values["q"] = [request.GET.get("q", "")]
        return cls(values)

    @property
    def first(self) -> dict[str, str]:
        """The first value of every parameter, for templates."""
        return {key: items[0] for key, items in self.values.items() if items}

    def get(self, key: str) -> str:
        return (self.values.get(key) or [""])[0]

    def getlist(self, key: str) -> list[str]:
        return self.values.get(key, [])

    def url(self, **changes) -> str:
        """``?…`` with some parameters replaced (None removes one); the page resets to 1."""
        values = {k: list(v) for k, v in self.values.items()}
        for key, value in changes.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value if isinstance(value, list) else [value]
        pairs = [(k, v) for k in STATE_KEYS for v in values.get(k, []) if v != ""]
        return "?" + urlencode(pairs)


def _page_size() -> int:
    return int(getattr(settings, "KNOWLEDGE_SEARCH_PAGE_SIZE", 10))


def _page_number(request) -> int:
    return int_in_range(request.GET.get("seite", "1"), 1, 9_999) or 1


class _RankedList:
    """A sequence of known length for Django's paginator (the results are already sliced)."""

    def __init__(self, total: int):
        self.total = total

    def __len__(self):
        return self.total

    def count(self):
        return self.total


def _facet_links(state: SearchState, results) -> dict[str, list[dict]]:
    def links(facets, key, multiple=False):
        selected = state.getlist(key)
        items = []
        for facet in facets:
            active = facet.value in selected
            if multiple:
                new = [v for v in selected if v != facet.value] if active \
                    else [*selected, facet.value]
                url = state.url(**{key: new or None})
            else:
                url = state.url(**{key: None if active else facet.value})
            items.append({"label": facet.label, "count": facet.count, "active": active,
                          "url": url})
        return items

    return {
        "types": links(results.facets.get("types", []), "typ", multiple=True),
        "municipalities": links(results.facets.get("municipalities", []), "kommune"),
        "topics": links(results.facets.get("topics", []), "thema"),
    }


def search_page(request):
    """Search page; without ``q`` it shows the form and tips."""
    state = SearchState.from_request(request)
    context = {
        "state": state,
        "choices": _choices(request.user),
        "query": state.get("q"),
        "mode_labels": MODE_LABELS,
        "type_labels": TYPE_LABELS,
        "max_query_length": max_query_length(),
        "errors": [],
        "results": None,
    }
    if "q" not in request.GET and not state.values:
        return render(request, "search/search.html", context)

    status = 200
    try:
        mode = clean_mode(state.get("modus") or "hybrid")
        filters = resolve_filters(
            types=state.getlist("typ"),
            municipality=state.getlist("kommune"),
            exclude_municipality=state.getlist("ohne_kommune"),
            topic=state.getlist("thema"),
            date_from=state.get("von"),
            date_to=state.get("bis"),
        )
        size = _page_size()
        number = _page_number(request)
        results = search(state.get("q"), user=request.user, mode=mode, filters=filters,
                         limit=size, offset=(number - 1) * size, request=request)
        if results.total and not results.results:  # a page number beyond the end
            number = (results.total - 1) // size + 1
            results = search(state.get("q"), user=request.user, mode=mode, filters=filters,
                             limit=size, offset=(number - 1) * size, request=request)
    except SearchError as exc:
        context["errors"] = [str(exc)]
        status = 400
    else:
        paginator = Paginator(_RankedList(results.total), size)
        page_obj = Page(results.results, number, paginator)
        querystring = state.url()[1:]
        context.update(
            results=results,
            page_obj=page_obj,
            querystring=querystring,
            facets=_facet_links(state, results),
            exact_counts=results.mode == "fulltext",
            mode=mode,
            active_filters=_active_filters(state),
            first_rank=(number - 1) * size + 1,
            hybrid_url=state.url(modus=None),
        )
        context.update(search_page_extras(request, results, number, mode,
                                          bool(context["active_filters"])))
    return render(request, "search/search.html", context, status=status)


def _active_filters(state: SearchState) -> list[dict]:
    """Removable chips for every active filter (labels in German)."""
    from knowledge.models import Municipality, Topic

    chips = []
    for key in state.getlist("typ"):
        label = TYPE_LABELS.get(key, key)
        chips.append({"label": _("Art: %(v)s") % {"v": label},
                      "url": state.url(typ=[k for k in state.getlist("typ") if k != key]
                                       or None)})
    names = {
        "kommune": (_("Kommune: %(v)s"), Municipality),
        "ohne_kommune": (_("ohne Kommune: %(v)s"), Municipality),
        "thema": (_("Thema: %(v)s"), Topic),
    }
    for key, (text, model) in names.items():
        selected = state.getlist(key)
        for value in selected:
            obj = model.objects.filter(slug=value.lower()).first() or \
                model.objects.filter(name__iexact=value).first()
            chips.append({"label": text % {"v": obj.name if obj else value},
                          "url": state.url(**{key: [v for v in selected if v != value]
                                              or None})})
    if state.get("von"):
        chips.append({"label": _("ab %(v)s") % {"v": _date_label(state.get("von"))},
                      "url": state.url(von=None)})
    if state.get("bis"):
        chips.append({"label": _("bis %(v)s") % {"v": _date_label(state.get("bis"))},
                      "url": state.url(bis=None)})
    return chips


def _date_label(value: str) -> str:
    """"1. Januar 2030" for a date (the form sends ISO dates); what was typed otherwise."""
    try:
        day = parse_date(value, "")
    except SearchError:
        return value
    return date_format(day, "j. F Y") if day else value


def _choices(user) -> dict:
    """Options of the filter form: only municipalities and topics with pages the user sees."""
    from knowledge.access import viewable_pages
    from knowledge.models import KnowledgePage, Municipality, Topic

    visible = viewable_pages(user, KnowledgePage)
    return {
        "types": list(TYPE_LABELS.items()),
        "municipalities": list(Municipality.objects.filter(pages__in=visible).distinct()),
        "topics": list(Topic.objects.filter(pages__in=visible).distinct()),
        "modes": list(MODE_LABELS.items()),
    }
