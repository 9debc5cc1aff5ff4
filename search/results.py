"""What a search returns: hits with snippets, facets and page URLs, loaded in few queries.

Result lists need only a few columns of each page, so hits are plain values built from the
pages' remembered facts (:mod:`search.page_facts`), as are the facets; the snippets come from
one statement (PostgreSQL's ``ts_headline`` with the full-text query). Snippet HTML is escaped
before ``<mark>`` is put back.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db import connection
from django.utils import translation
from django.utils.html import escape

from attachments.refs import AttachmentRef
from knowledge.types import TYPE_LABELS
from search.page_facts import facts_for
from search.params import FusionParams
from search.query import int_array, tsquery_text

# Sentinels around highlighted words in ts_headline output: private-use characters that are
# stripped from the passage text first, so the HTML can be escaped and <mark> put back safely.
_MARK_START = "\ue000"
_MARK_END = "\ue001"
# What snippets leave out of a passage's text (PostgreSQL regular expressions, line by line):
# the context lines indexing adds to overview passages for search ("Projekt: …", "Themen: …",
# search.indexing.page_chunks), which the result shows in its own fields; and list dashes at
# a line's start, which become bullets.
_SNIPPET_CONTEXT_LINES = r"^(Projekt|Themen): [^\n]*$"
_SNIPPET_LIST_DASH = r"^- "


@dataclass
class PageHit:
    """A page found for a query: what search results and matching suggestions share."""

    page_id: int
    title: str
    url: str
    knowledge_type: str
    type_label: str
    municipality: str
    municipality_slug: str
    external_id: str | None
    date: dt.date
    score: float
    topics: list[str]

    def page_dict(self) -> dict:
        """The page fields of the API's result objects."""
        return {
            "title": self.title,
            "url": self.url,
            "type": self.knowledge_type,
            "municipality": self.municipality,
            "external_id": self.external_id,
            "score": round(self.score, 4),
            "date": self.date.isoformat(),
            "topics": self.topics,
        }


@dataclass
class SearchHit(PageHit):
    """A search result: a :class:`PageHit` with its best passage as snippet."""

    snippet: str  # HTML: escaped text with <mark> around query terms
    heading: str
    attachment: AttachmentRef | None = None  # the snippet's file, when it came from one

    def as_dict(self) -> dict:
        """The result object shared by the API and ``search_knowledge --json``."""
        return {**self.page_dict(), "snippet": self.snippet,
                "attachment": self.attachment.as_dict() if self.attachment else None}


@dataclass
class Facet:
    """One facet value with its count over the whole result list."""

    value: str  # the filter value (type key or slug)
    label: str
    count: int


@dataclass
class SearchResults:
    """One page of search results with the facets of all of them."""

    query: str
    mode: str
    requested_mode: str
    results: list[SearchHit]
    total: int
    offset: int
    limit: int
    degraded: bool = False
    notice: str = ""
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    ranked_page_ids: list[int] = field(default_factory=list)
    word_pages: int | None = None  # pages containing a query word (None: vector mode)
    corrections: list[str] = field(default_factory=list)  # searched for misspelt words


class Headline(NamedTuple):
    """A passage's heading and highlighted snippet, and its file if it came from one."""

    heading: str
    snippet: str  # HTML: escaped text with <mark> around query terms
    attachment: AttachmentRef | None  # the file a passage was read from, if any


def headlines(passage_ids: Sequence[int], query: str, params: FusionParams
              ) -> dict[int, Headline]:
    """Passage id -> :class:`Headline`: snippets of search results and matching explanations.

    The snippet is PostgreSQL's ts_headline with the same (German, OR) query as full text,
    over the passage's text without its context lines.
    """
    if not passage_ids:
        return {}
    text = tsquery_text(query, params.prefix_min_length)
    options = (
        f"StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords=35, MinWords=15, "
        "ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \""
    )
    sql = """
        SELECT p.id, p.heading, ts_headline('german',
               regexp_replace(regexp_replace(translate(p.text, %s, ''), %s, '', 'gn'),
                              %s, '• ', 'gn'),
               to_tsquery('german', %s), %s),
               p.document_id, d.title, d.file, p.source_page
        FROM search_passage p LEFT JOIN wagtaildocs_document d ON d.id = p.document_id
        WHERE p.id = ANY(%s::bigint[])
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [_MARK_START + _MARK_END, _SNIPPET_CONTEXT_LINES, _SNIPPET_LIST_DASH,
                             text, options, int_array(passage_ids)])
        rows = cursor.fetchall()
    return {pid: Headline(heading, highlight_html(headline), AttachmentRef.from_row(*source))
            for pid, heading, headline, *source in rows}


def highlight_html(headline: str) -> str:
    """Escape everything, then turn the sentinels back into <mark> elements."""
    html = str(escape(headline))
    return html.replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


def page_urls(request) -> Callable[[int, str], str]:
    """``(page id, url_path) -> URL`` for the pages of one result list, as ``Page.get_url``
    computes it.

    Result lists need nothing else of a page. ``Page.get_url`` would also look up the
    request's site (an ORM query per request) only to choose between a relative and an
    absolute URL, and build a page instance per hit; with a single site (Wagtail's cached
    root paths say so) the URL is always the relative path, a function of ``url_path`` and
    the root paths alone, and is remembered. The root paths and the language are read once
    per list: reading them for each of matching's twenty links cost more than the links.
    """
    from wagtail.models import Site

    roots = tuple(Site.get_site_root_paths())
    if len({root.site_id for root in roots}) == 1:
        language = translation.get_language()
        return lambda page_id, url_path: _single_site_url(page_id, url_path, roots, language)
    return lambda page_id, url_path: _routed_url(page_id, url_path, request)


def _routed_url(page_id: int, url_path: str, request) -> str:
    """With several sites: Wagtail's rule, relative on the request's own site."""
    from wagtail.models import Site

    parts = _url_page(page_id, url_path).get_url_parts(request=request)
    if parts is None or (parts[1] is None and parts[2] is None):
        return ""  # not routable
    site_id, root_url, path = parts
    current = Site.find_for_request(request) if request is not None else None
    return path if current is not None and current.id == site_id else root_url + path


@functools.lru_cache(maxsize=4096)
def _single_site_url(page_id: int, url_path: str, roots: tuple, language: str | None) -> str:
    """The relative URL of a page when one site serves everything.

    Everything the URL depends on is in the key: the root paths and, for Wagtail's i18n
    routing, the active language.
    """
    parts = _url_page(page_id, url_path).get_url_parts()
    return "" if parts is None or parts[2] is None else parts[2]


def _url_page(page_id: int, url_path: str):
    """A page instance with just the two fields URL building reads (``Model.from_db``)."""
    from wagtail.models import Page

    return Page.from_db("default", ["id", "url_path"], [page_id, url_path])


def load_hits(window, query, params, request) -> list[SearchHit]:
    """The shown results as plain values: the pages' facts, and one statement for snippets.

    ``window`` holds (page id, score, best passage id) as :func:`search.retrieval.rank_pages`
    ranks them; pages deleted since the ranking are skipped.
    """
    if not window:
        return []
    facts = facts_for(page_id for page_id, _s, _p in window)
    snippets = headlines([passage_id for _page, _s, passage_id in window], query, params)
    url = page_urls(request)
    hits = []
    for page_id, score, passage_id in window:
        page = facts.get(page_id)
        if page is None:  # deleted between ranking and loading
            continue
        knowledge_type = page.knowledge_type
        heading, snippet, attachment = snippets.get(passage_id, ("", "", None))
        hits.append(SearchHit(
            page_id=page_id,
            title=page.title,
            url=url(page_id, page.url_path),
            knowledge_type=knowledge_type,
            type_label=str(TYPE_LABELS.get(knowledge_type, "")),
            municipality=page.municipality,
            municipality_slug=page.municipality_slug,
            external_id=page.external_id,
            score=score,
            snippet=snippet,
            heading=heading,
            attachment=attachment,
            date=page.date,
            topics=[topic.name for topic in page.topics],
        ))
    return hits


def facet_counts(page_ids: list[int]) -> dict[str, list[Facet]]:
    """Counts per type, municipality and topic over the (already permitted) result pages.

    Counted from the pages' remembered facts (:mod:`search.page_facts`): every search shows
    the facets, and a count statement cost as much as loading the shown hits.
    """
    type_counts: dict[str, int] = defaultdict(int)
    municipalities: dict[int, Facet] = {}
    topics: dict[int, Facet] = {}
    for page in facts_for(page_ids).values():
        type_counts[page.knowledge_type] += 1
        facet = municipalities.setdefault(
            page.municipality_id, Facet(page.municipality_slug, page.municipality, 0))
        facet.count += 1
        for topic in page.topics:
            topics.setdefault(topic.id, Facet(topic.slug, topic.name, 0)).count += 1

    def ordered(items):
        return sorted(items, key=lambda f: (-f.count, f.label.lower()))

    return {
        "types": ordered(Facet(k, str(TYPE_LABELS[k]), n) for k, n in type_counts.items()
                         if k in TYPE_LABELS),
        "municipalities": ordered(municipalities.values()),
        "topics": ordered(topics.values()),
    }
