"""What result lists show of a page (title, URL path, type, municipality, topics, date, and
for matching's suggestions its project and contact), remembered per process until any content
changes.

Why: once the query vector exists, a hybrid search still ran three statements that read the
same few columns of its candidate pages (topics for topic feedback, facet counts, the shown
hits), about a fifth of its time after the embedding (docs/speed-history.md, thirteenth round);
matching loaded the same columns of its thirty candidates with their projects and contacts in
a statement of its own, which made it slower than a search with the same text. These columns
change only when an editor changes content; searches ask for them all the time.

Freshness: the facts are keyed by :class:`knowledge.models.PageCacheGeneration`'s token, which
is renewed after every commit that changes pages, their tree (moves), municipalities, topics
or the index (:mod:`knowledge.page_cache`), so a renamed topic or a moved page shows in the
next search of every process. The token is read once per search (:func:`pinned`); facts older
than :data:`MAX_AGE_SECONDS` are dropped even without a new token.

Privacy: the facts say nothing about who may see a page. They are only looked up for pages
that a permission-filtered statement has just returned, exactly like the statements they
replace; a page's project (``project_id``) may be one the user may not see, so whoever shows
it asks PostgreSQL first (:func:`search.match_items.load_items`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import connection

from knowledge.types import knowledge_type_of
from search.query import int_array

# Bounds the memory of one token's store (about 1.5 kB per page; two stores are kept); on
# overflow the facts are loaded again as needed.
MAX_PAGES = 50_000
# A safety net, as the page cache's timeout is: a change that renewed no token (a failed
# renewal, a hand-made edit in psql) shows after this long at the latest.
MAX_AGE_SECONDS = 600

# Inside pinned(): a one-element list holding the token once it was read (None before).
_pinned_token: ContextVar[list | None] = ContextVar("page_facts_token", default=None)


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic as facets and hits name it."""

    id: int
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class PageFacts:
    """The columns of a knowledge page that result lists, facets and topic feedback read."""

    title: str
    knowledge_type: str  # :func:`knowledge.types.knowledge_type_of` the page's content type
    url_path: str
    external_id: str | None
    date: dt.date
    municipality_id: int
    municipality: str
    municipality_slug: str
    topics: tuple[Topic, ...]  # ordered by name as PostgreSQL orders them
    topic_ids: frozenset[int]  # the same topics' ids, as topic feedback compares them
    # The page's project by each kind's ``get_project`` rule: a project is its own, a best
    # practice names one, protocols and lessons belong to the project page they are filed
    # under; None without one. Not a permission: the project may be restricted.
    project_id: int | None = None
    contact_role: str = ""  # best practices: whom to ask
    contact_email: str = ""


class _Store:
    """The facts of one content token (its key in ``_stores``); replaced as a whole when it
    is full or expired."""

    def __init__(self):
        self.facts: dict[int, PageFacts] = {}
        self.expires = time.monotonic() + MAX_AGE_SECONDS

    def serves(self) -> bool:
        """Whether this store may still answer for its token."""
        return len(self.facts) <= MAX_PAGES and time.monotonic() < self.expires


# The stores of the newest tokens, newest last. Two, not one: a search that read the token
# just before a renewal keeps using its own store instead of replacing the new one that
# searches begun after the renewal are filling (and they would replace it back).
_stores: OrderedDict[str, _Store] = OrderedDict()
_KEPT_STORES = 2
_lock = threading.Lock()


def content_token() -> str:
    """The shared content token; inside :func:`pinned` the one read first in the block."""
    pinned_slot = _pinned_token.get()
    if pinned_slot is not None and pinned_slot[0] is not None:
        return pinned_slot[0]
    with connection.cursor() as cursor:  # raw: asked by every search
        cursor.execute("SELECT token::text FROM knowledge_pagecachegeneration WHERE id = 1")
        row = cursor.fetchone()
    token = row[0] if row else ""
    if pinned_slot is not None:
        pinned_slot[0] = token
    return token


@contextmanager
def pinned() -> Iterator[None]:
    """Within the block the token is read at most once (nested blocks share the outer read).

    One search looks facts up three times; one read gives them one view and one round trip,
    and a ranking that needs no facts (no topic feedback, no results) reads nothing.
    """
    if _pinned_token.get() is not None:
        yield
        return
    reset = _pinned_token.set([None])
    try:
        yield
    finally:
        _pinned_token.reset(reset)


def facts_for(page_ids: Iterable[int]) -> dict[int, PageFacts]:
    """Page id -> :class:`PageFacts` for the knowledge pages among ``page_ids``.

    Pages not remembered under the current token are loaded in one round trip; ids of pages
    that are gone or are no knowledge pages are missing from the answer.
    """
    wanted = dict.fromkeys(page_ids)
    if not wanted:
        return {}
    token = content_token()
    store = _stores.get(token)
    if store is None or not store.serves():
        with _lock:
            store = _stores.get(token)
            if store is None or not store.serves():
                store = _stores[token] = _Store()
                _stores.move_to_end(token)
                while len(_stores) > _KEPT_STORES:
                    _stores.popitem(last=False)
    missing = [page_id for page_id in wanted if page_id not in store.facts]
    if missing:
        store.facts.update(_load(missing))
    facts = store.facts
    return {page_id: facts[page_id] for page_id in wanted if page_id in facts}


def forget() -> None:
    """Drop everything remembered (tests: their transactions roll back behind the token)."""
    with _lock:
        _stores.clear()


# Topics as (id, slug, name) triples ordered by name: the order the hits showed before. The
# project by the rules of PageFacts.project_id: the parent is a project for protocols and
# lessons filed under one.
_FACTS_SQL = """
    SELECT wp.id, wp.title, wp.content_type_id, wp.url_path, kp.external_id, kp.date,
           m.id, m.name, m.slug,
           ARRAY(SELECT ARRAY[t.id::text, t.slug, t.name] FROM knowledge_knowledgepage_topics kt
                 JOIN knowledge_topic t ON t.id = kt.topic_id
                 WHERE kt.knowledgepage_id = wp.id ORDER BY t.name),
           CASE WHEN wp.content_type_id = %(project)s THEN wp.id
                WHEN bp.knowledgepage_ptr_id IS NOT NULL THEN bp.related_project_id
                ELSE parent.id END,
           bp.contact_role, bp.contact_email
    FROM wagtailcore_page wp
    JOIN knowledge_knowledgepage kp ON kp.page_ptr_id = wp.id
    JOIN knowledge_municipality m ON m.id = kp.municipality_id
    LEFT JOIN knowledge_bestpracticepage bp ON bp.knowledgepage_ptr_id = wp.id
    LEFT JOIN wagtailcore_page parent
           ON parent.path = left(wp.path, -%(steplen)s) AND parent.content_type_id = %(project)s
    WHERE wp.id = ANY(%(ids)s::int[])
"""


def _load(page_ids: list[int]) -> dict[int, PageFacts]:
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Page

    from knowledge.models import ProjectPage

    with connection.cursor() as cursor:
        cursor.execute(_FACTS_SQL, {
            "ids": int_array(page_ids), "steplen": Page.steplen,
            "project": ContentType.objects.get_for_model(ProjectPage).pk})
        rows = cursor.fetchall()
    facts = {}
    for (page_id, title, content_type_id, url_path, external_id, date, municipality_id,
         municipality, municipality_slug, topic_rows, project_id, contact_role,
         contact_email) in rows:
        topics = tuple(Topic(int(topic_id), slug, name) for topic_id, slug, name in topic_rows)
        facts[page_id] = PageFacts(
            title=title, knowledge_type=knowledge_type_of(content_type_id), url_path=url_path,
            external_id=external_id, date=date, municipality_id=municipality_id,
            municipality=municipality, municipality_slug=municipality_slug, topics=topics,
            topic_ids=frozenset(topic.id for topic in topics), project_id=project_id,
            contact_role=contact_role or "", contact_email=contact_email or "")
    return facts
