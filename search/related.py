"""Related material from stored vectors: no model call on a page view.

"Das haben andere Kommunen dazu gelernt" on a page, the matches of a project as a whole, and
"Kommunen mit ähnlichen Vorhaben" on a municipality profile all start from the stored passage
embeddings of a page (or a municipality's pages). They are cached per page, per visibility
class of the viewer and per index generation (bumped whenever passages change), so a publish,
unpublish or privacy change is visible at once; cached ids are re-checked against the viewer's
permissions when loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db import connection

from knowledge.access import remembered_access, viewable_pages, visibility_key
from knowledge.types import TYPE_LABELS, knowledge_type_of
from search.access_sql import filter_sql
from search.match_items import (
    SimilarMunicipality,
    list_similar_municipalities,
    load_items,
    rank_municipalities,
)
from search.params import setting
from search.planner import fetch_with_settings
from search.query import SearchFilters
from search.results import page_urls
from search.vector import hnsw_candidates_sql, hnsw_scan_settings, vector_literal


@dataclass
class RelatedItem:
    """A related page as the page template shows it."""

    page_id: int
    title: str
    url: str
    type_label: str
    municipality: str
    date: object
    score: float
    heading: str


def _index_generation() -> int:
    from search.models import IndexGeneration

    return IndexGeneration.current()


def related_pages(page, *, user, limit: int | None = None, request=None) -> list[RelatedItem]:
    """The most similar pages of other municipalities, from stored embeddings (cached)."""
    limit = limit or int(setting("KNOWLEDGE_RELATED_COUNT", 5))
    key = (f"related-items:{page.pk}:{limit}:{_index_generation()}:{visibility_key(user)}:"
           f"{_current_model_id()}")
    cached = cache.get(key)
    if cached is None:
        cached = _compute_related(page, user=user, limit=limit)
        cache.set(key, cached, int(setting("KNOWLEDGE_RELATED_CACHE_SECONDS", 3600)))
    return _load_related(cached, user, request)


def project_matches(project, *, user, limit: int | None = None, request=None
                    ) -> list[RelatedItem]:
    """Material of other municipalities matching a project as a whole (goals and summary)."""
    limit = limit or int(setting("KNOWLEDGE_RELATED_COUNT", 5))
    key = (f"project-match-items:{project.pk}:{limit}:{_index_generation()}:"
           f"{visibility_key(user)}:{_current_model_id()}")
    cached = cache.get(key)
    if cached is None:
        cached = _compute_related(project, user=user, limit=limit, overview_only=True)
        cache.set(key, cached, int(setting("KNOWLEDGE_RELATED_CACHE_SECONDS", 3600)))
    return _load_related(cached, user, request)


def _current_model_id() -> str:
    from search.embedding import configured_model_id

    return configured_model_id()


def _project_root_path(page) -> str | None:
    """The subtree of the page's own project (a best practice's linked project), if any."""
    project = page.get_project()
    return project.path if project is not None else None


def _compute_related(page, *, user, limit: int, overview_only: bool = False
                     ) -> list[tuple[int, float, int, str]]:
    """(page id, score, best passage id, its heading) of related pages, at most ``limit``,
    best first: everything the list shows that changes only with the index."""
    from search.models import Passage

    source = Passage.objects.filter(page_id=page.pk)
    if overview_only:
        source = source.filter(kind=Passage.Kind.OVERVIEW)
    exclusions = ["p.page_id <> %s"]
    exclusion_params: list = [page.pk]
    project_path = _project_root_path(page)
    if project_path:
        exclusions.append("NOT (wp.path LIKE %s)")
        exclusion_params.append(project_path + "%")
    ranked = _nearest_pages(source, user=user, limit=limit,
                            exclude_municipality_id=page.municipality_id,
                            exclusions=exclusions, exclusion_params=exclusion_params)
    headings = dict(Passage.objects.filter(pk__in=[r[2] for r in ranked])
                    .values_list("pk", "heading"))
    return [(page_id, score, passage_id, headings.get(passage_id, ""))
            for page_id, score, passage_id in ranked]


def _nearest_pages(source, *, user, limit: int, exclude_municipality_id: int,
                   exclusions=(), exclusion_params=()) -> list[tuple[int, float, int]]:
    """Pages of other municipalities nearest to the centroid of the ``source`` passages.

    Only stored vectors of the current model are used (no model call); the candidates pass
    the same permission filter as every search.
    """
    model_id = _current_model_id()
    source = source.filter(model_id=model_id).exclude(embedding=None)
    vectors = [np.asarray(v, dtype=np.float32) for v in source.values_list("embedding",
                                                                           flat=True)]
    if not vectors:
        return []
    centroid = np.mean(np.stack(vectors), axis=0)
    centroid /= np.linalg.norm(centroid) or 1.0
    filters = SearchFilters(exclude_municipality_ids=(exclude_municipality_id,))
    depth = max(limit * 20, 100)
    inner, inner_params = hnsw_candidates_sql(centroid, model_id, user, filters, depth,
                                              exclusions, exclusion_params)
    hnsw_sql = f"""
        WITH c AS MATERIALIZED ({inner})
        SELECT DISTINCT ON (page_id) page_id, 1 - distance, id
        FROM c ORDER BY page_id, distance, id
    """  # noqa: S608 - fixed SQL fragments only; values are parameters
    rows = fetch_with_settings(hnsw_sql, inner_params, hnsw_scan_settings(depth))
    if len(rows) < limit:
        # Few distinct pages among the nearest passages (long pages crowd the candidates):
        # rank every permitted page exactly so the list is always filled when material exists.
        where, params = filter_sql(user, filters, exclusions, exclusion_params)
        literal = vector_literal(centroid)
        exact_sql = f"""
            SELECT DISTINCT ON (p.page_id) p.page_id, 1 - (p.embedding <=> %s::vector), p.id
            FROM search_passage p JOIN wagtailcore_page wp ON wp.id = p.page_id
            WHERE p.model_id = %s AND p.embedding IS NOT NULL AND {where}
            ORDER BY p.page_id, p.embedding <=> %s::vector, p.id
        """  # noqa: S608 - fixed SQL fragments only; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(exact_sql, [literal, model_id, *params, literal])
            rows = cursor.fetchall()
    ranked = sorted(((r[0], float(r[1]), r[2]) for r in rows), key=lambda r: (-r[1], r[0]))
    return ranked[:limit]


def _load_related(ranked, user, request) -> list[RelatedItem]:
    """Show cached related pages, re-checking visibility in the same single query: a cache
    entry can never leak a page that was moved under a restriction or unpublished after it
    was computed. Plain values, not page objects: a page view pays one query for the list."""
    from knowledge.models import KnowledgePage

    if not ranked:
        return []
    rows = {row[0]: row for row in viewable_pages(user, KnowledgePage)
            .filter(pk__in=[r[0] for r in ranked])
            .values_list("pk", "title", "url_path", "content_type_id", "date",
                         "municipality__name")}
    items, url = [], page_urls(request)
    for page_id, score, _passage_id, heading in ranked:
        if page_id not in rows:
            continue
        _pk, title, url_path, content_type_id, date, municipality = rows[page_id]
        items.append(RelatedItem(
            page_id=page_id, title=title, url=url(page_id, url_path),
            type_label=str(TYPE_LABELS[knowledge_type_of(content_type_id)]),
            municipality=municipality, date=date, score=score, heading=heading,
        ))
    return items


# --- Similar municipalities (profile page) --------------------------------------------------


def similar_municipalities(municipality, *, user, request=None) -> list[SimilarMunicipality]:
    """"Kommunen mit ähnlichen Vorhaben" on a municipality's profile, from stored vectors.

    The query vector is the centroid of the overview passages of the municipality's pages the
    viewer may see (a restricted page must not shape what a visitor is shown); the nearest
    pages of other municipalities are then ranked per municipality exactly as on the matching
    page. Cached like related material, per visibility class and index generation.
    """
    key = (f"similar-municipalities:{municipality.pk}:{_index_generation()}:"
           f"{visibility_key(user)}:{_current_model_id()}")
    cached = cache.get(key)
    if cached is None:
        cached = _compute_similar_municipalities(municipality, user)
        cache.set(key, cached, int(setting("KNOWLEDGE_RELATED_CACHE_SECONDS", 3600)))
    from knowledge.models import KnowledgePage

    with remembered_access(user):
        visible = set(viewable_pages(user, KnowledgePage)
                      .filter(pk__in=[r[0] for r in cached]).values_list("pk", flat=True))
        items, links = load_items([r for r in cached if r[0] in visible], (), user)
    return list_similar_municipalities(rank_municipalities(items), links, request)


def _compute_similar_municipalities(municipality, user) -> list[tuple[int, float, int]]:
    from knowledge.models import KnowledgePage
    from search.models import Passage

    with remembered_access(user):
        own = viewable_pages(user, KnowledgePage).filter(municipality=municipality)
        source = Passage.objects.filter(kind=Passage.Kind.OVERVIEW, page__in=own)
        return _nearest_pages(source, user=user,
                              limit=int(setting("KNOWLEDGE_SIMILAR_MUNICIPALITY_PAGES", 40)),
                              exclude_municipality_id=municipality.pk)
