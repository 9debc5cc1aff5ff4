"""Who may see which page: the one place that turns Wagtail's view restrictions into SQL.

Listings, search, related content and the API all start from :func:`viewable_pages` (or use
:func:`denied_path_prefixes` inside raw SQL), so a restricted page can never leak through one
surface while another hides it. Wagtail's page privacy is tree-based: a restriction on a page
covers its whole subtree, so access is decided by path prefix.

Password restrictions are treated as "not viewable" everywhere except the page itself, where
Wagtail asks for the password: they protect single pages, not listings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import Q
from wagtail.models import Page, PageViewRestriction


def _restriction_accepts(restriction: PageViewRestriction, user) -> bool:
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    kind = restriction.restriction_type
    if kind == PageViewRestriction.LOGIN:
        return bool(user is not None and user.is_authenticated)
    if kind == PageViewRestriction.GROUPS:
        if user is None or not user.is_authenticated:
            return False
        allowed = {group.pk for group in restriction.groups.all()}
        return bool(allowed & set(user.groups.values_list("pk", flat=True)))
    return False  # password (and anything unknown) never opens listings


# (user, denied prefixes) while a search runs: see remembered_access.
_remembered: ContextVar[tuple[object, list[str]] | None] = ContextVar(
    "knowledge_denied_prefixes", default=None)


def _compute_denied_path_prefixes(user) -> list[str]:
    restrictions = PageViewRestriction.objects.select_related("page").prefetch_related("groups")
    return sorted(
        {r.page.path for r in restrictions if not _restriction_accepts(r, user)}
    )


def denied_path_prefixes(user) -> list[str]:
    """Tree paths of restricted sections the user may not see (subtrees included)."""
    memo = _remembered.get()
    if memo is not None and memo[0] is user:
        return list(memo[1])
    return _compute_denied_path_prefixes(user)


@contextmanager
def remembered_access(user) -> Iterator[None]:
    """Within the block, the user's denied prefixes are read from the database only once.

    One search builds its permission filter many times (candidates of both retrievers,
    statistics, snippets, facets); each build would cost two queries. The memo lives only as
    long as the block (one search or one matching), so a changed restriction applies to the
    next request, in every process.
    """
    memo = _remembered.get()
    if memo is not None and memo[0] is user:
        yield
        return
    token = _remembered.set((user, _compute_denied_path_prefixes(user)))
    try:
        yield
    finally:
        _remembered.reset(token)


def visibility_key(user) -> str:
    """Users with the same key see exactly the same pages: a safe cache-key part."""
    return hashlib.sha256("|".join(denied_path_prefixes(user)).encode()).hexdigest()[:16]


def viewable_pages(user, model=Page):
    """Live pages of ``model`` (default: all pages) that the user may view."""
    denied = Q()
    for prefix in denied_path_prefixes(user):
        denied |= Q(path__startswith=prefix)
    queryset = model.objects.live()
    return queryset.exclude(denied) if denied else queryset
