"""Permissions and filters as SQL fragments: nothing the user may not see leaves PostgreSQL.

Every candidate query joins ``wagtailcore_page wp`` and keeps only live pages outside the path
prefixes the user may not see (:func:`knowledge.access.denied_path_prefixes`), so results,
snippets, facet counts, statistics and the API cannot leak restricted text.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.access import denied_path_prefixes
from search.query import SearchFilters


def visibility_sql(user, alias: str = "wp", placeholder: str = "%s") -> tuple[str, list]:
    """SQL condition: the ``wagtailcore_page`` row ``alias`` is live and the user may view it.

    The same rule as :func:`knowledge.access.viewable_pages`, as a fragment for raw queries;
    ``placeholder`` is where its one parameter (if any) goes, for queries with named ones.
    """
    denied = denied_path_prefixes(user)
    if not denied:
        return f"{alias}.live", []
    return (f"({alias}.live AND NOT ({alias}.path LIKE ANY({placeholder})))",
            [[prefix + "%" for prefix in denied]])


def filter_sql(user, filters: SearchFilters, exclusions: Sequence[str] = (),
               exclusion_params: Sequence = ()) -> tuple[str, list]:
    """WHERE conditions for permissions and filters (always joined to ``wagtailcore_page wp``).

    Public because every passage query (full text, vectors, statistics, related material)
    must apply exactly the same rule. ``exclusions`` are further conditions over ``p`` and
    ``wp`` with their ``exclusion_params``, AND-ed to the rest (related material leaves out
    the page itself and its own project); they can only narrow what the user may see.
    """
    visible, params = visibility_sql(user)
    conditions = [visible]
    if filters.types:
        conditions.append("p.knowledge_type = ANY(%s)")
        params.append(list(filters.types))
    if filters.municipality_ids:
        conditions.append("p.municipality_id = ANY(%s)")
        params.append(list(filters.municipality_ids))
    if filters.exclude_municipality_ids:
        conditions.append("NOT (p.municipality_id = ANY(%s))")
        params.append(list(filters.exclude_municipality_ids))
    if filters.date_from:
        conditions.append("p.date >= %s")
        params.append(filters.date_from)
    if filters.date_to:
        conditions.append("p.date <= %s")
        params.append(filters.date_to)
    if filters.page_ids:
        conditions.append("p.page_id = ANY(%s)")
        params.append(list(filters.page_ids))
    if filters.topic_ids:
        conditions.append(
            "EXISTS (SELECT 1 FROM knowledge_knowledgepage_topics kt "
            "WHERE kt.knowledgepage_id = p.page_id AND kt.topic_id = ANY(%s))"
        )
        params.append(list(filters.topic_ids))
    return " AND ".join([*conditions, *exclusions]), [*params, *exclusion_params]
