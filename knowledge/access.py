"""Who may see which page: the one place that turns Wagtail's view restrictions into SQL.

Listings, search, related content and the API all start from :func:`viewable_pages` (or use
:func:`denied_path_prefixes` inside raw SQL), so a restricted page can never leak through one
surface while another hides it. Wagtail's page privacy is tree-based: a restriction on a page
covers its whole subtree, so access is decided by path prefix.

Password restrictions are treated as "not viewable" everywhere except the protected subtree
itself once its password was entered in the session (:func:`viewable_pages_for_request`: the
project page lists its protocols, the report includes them): they protect single pages or
projects, not listings, search or related material.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connection
from django.db.models import Q
from wagtail.models import Page, PageViewRestriction


def _restriction_accepts(kind: str, group_ids: set[int], user, user_groups) -> bool:
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    if kind == PageViewRestriction.LOGIN:
        return bool(user is not None and user.is_authenticated)
    if kind == PageViewRestriction.GROUPS:
        if user is None or not user.is_authenticated:
            return False
        return bool(group_ids & user_groups())
    return False  # password (and anything unknown) never opens listings


class _Memo:
    """The denied prefixes of one user, read from the database at most once."""

    __slots__ = ("_prefixes", "user")

    def __init__(self, user):
        self.user = user
        self._prefixes: list[str] | None = None

    def prefixes(self) -> list[str]:
        if self._prefixes is None:
            self._prefixes = _compute_denied_path_prefixes(self.user)
        return self._prefixes


# The memo of the running search or request: see remembered_access.
_remembered: ContextVar[_Memo | None] = ContextVar("knowledge_denied_prefixes", default=None)


def _restrictions() -> list[tuple[int, str, str, set[int]]]:
    """(id, page path, restriction type, group ids) of every view restriction, in one statement.

    Every search and listing pays it, so it is plain SQL: the ORM's query building (an
    annotated, grouped queryset) cost more than the statement itself. One row per restriction,
    so two restrictions on one page never merge their groups. The page path and the groups are
    sub-queries by key: as a join, the planner hashed the whole page table for the handful of
    restricted pages (0.6 ms at 2,000 pages, growing with the site).
    """
    groups = PageViewRestriction.groups.through._meta.db_table
    sql = f"""
        SELECT r.id, (SELECT p.path FROM {Page._meta.db_table} p WHERE p.id = r.page_id),
               r.restriction_type,
               ARRAY(SELECT g.group_id FROM {groups} g WHERE g.pageviewrestriction_id = r.id)
        FROM {PageViewRestriction._meta.db_table} r
    """  # noqa: S608 - only table names of the models are interpolated
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [(pk, path, kind, set(group_ids))
                for pk, path, kind, group_ids in cursor.fetchall()]


def _compute_denied_path_prefixes(user, passwords_passed=frozenset()) -> list[str]:
    user_groups = functools.cache(lambda: set(user.groups.values_list("pk", flat=True)))
    return sorted({
        path for pk, path, kind, group_ids in _restrictions()
        if not (_restriction_accepts(kind, group_ids, user, user_groups)
                or (kind == PageViewRestriction.PASSWORD and pk in passwords_passed))
    })


def denied_path_prefixes(user) -> list[str]:
    """Tree paths of restricted sections the user may not see (subtrees included)."""
    memo = _remembered.get()
    if memo is not None and memo.user is user:
        return list(memo.prefixes())
    return _compute_denied_path_prefixes(user)


@contextmanager
def remembered_access(user, *, lazy: bool = False) -> Iterator[None]:
    """Within the block, the user's denied prefixes are read from the database only once.

    One search builds its permission filter many times (candidates of both retrievers,
    statistics, snippets, facets), and one page view checks access for its project, siblings
    and related material; each build would cost two queries. The memo lives only as long as
    the block (one search, one matching or one read-only request), so a changed restriction
    applies to the next request, in every process. ``lazy`` defers the read to the first use,
    so a request that never asks costs nothing.
    """
    memo = _remembered.get()
    if memo is not None and memo.user is user:
        yield
        return
    memo = _Memo(user)
    if not lazy:
        memo.prefixes()
    token = _remembered.set(memo)
    try:
        yield
    finally:
        _remembered.reset(token)


def visibility_key(user) -> str:
    """Users with the same key see exactly the same pages: a safe cache-key part."""
    return hashlib.sha256("|".join(denied_path_prefixes(user)).encode()).hexdigest()[:16]


def viewable_pages(user, model=Page):
    """Live pages of ``model`` (default: all pages) that the user may view."""
    return _live_outside(model, denied_path_prefixes(user))


def _live_outside(model, prefixes):
    denied = Q()
    for prefix in prefixes:
        denied |= Q(path__startswith=prefix)
    queryset = model.objects.live()
    return queryset.exclude(denied) if denied else queryset


def viewable_pages_for_request(request, model=Page):
    """Like :func:`viewable_pages`, plus the subtrees whose page password this session entered.

    For the views of a protected subtree itself (a password-protected project lists its
    protocols, its report includes them). Listings, search and related material stay with
    :func:`viewable_pages`: a password opens a project, not the site's overviews. Wagtail keeps
    the passed restrictions in the session, which also keeps such requests out of the page cache.
    """
    session = getattr(request, "session", None)
    passed = frozenset(session.get(PageViewRestriction.passed_view_restrictions_session_key, ())
                       if session is not None else ())
    if not passed:
        return viewable_pages(request.user, model)
    return _live_outside(model, _compute_denied_path_prefixes(request.user, passed))


def viewable_page_for_request(request, page_id: int, model=Page):
    """The live page if this request may view it, else None.

    A page password entered in this session opens the page, and what is done from it
    (feedback, its report) must work too.
    """
    return viewable_pages_for_request(request, model).filter(pk=page_id).first()


def refused_restrictions(request, page) -> list[str]:
    """The types of the page's view restrictions (its ancestors' included) that this request
    does not pass, by Wagtail's own ``accept_request``; empty: the request may view it."""
    return [restriction.restriction_type for restriction in page.get_view_restrictions()
            if not restriction.accept_request(request)]
