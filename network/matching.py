"""Which changed pages concern a member: subscription matching, always as the member sees it.

Everything is evaluated at sending time with :func:`knowledge.access.viewable_pages`, so a
page restricted after it changed never reaches a digest of someone who may no longer see it.
"""

from __future__ import annotations

from knowledge.access import viewable_pages
from network.models import PageChange, Subscription


def changed_page_ids(window_start, window_end) -> dict[int, str]:
    """Page id -> "neu"/"aktualisiert" for changes in [start, end); "neu" wins."""
    rows = PageChange.objects.filter(changed_at__gte=window_start, changed_at__lt=window_end)
    return kinds_by_page(rows.values_list("page_id", "kind"))


def kinds_by_page(changes) -> dict[int, str]:
    """Page id -> "neu"/"aktualisiert" from (page id, kind) pairs; "neu" wins."""
    kinds: dict[int, str] = {}
    for page_id, kind in changes:
        if kinds.get(page_id) != PageChange.Kind.NEW:
            kinds[page_id] = kind
    return kinds


def _saved_search_ids(subscription, user, candidates: list[int]) -> set[int]:
    """Changed pages the saved search finds (with its filters) for this user.

    Full text, not hybrid: the vector part ranks every page, so a hybrid "match" would be
    every new page; a digest entry must contain the query's words (German stemming). The
    search runs over the candidates only: cut from the whole site's best passages, a new page
    whose words are common in the network would never be announced.
    """
    from dataclasses import replace

    from search.query import SearchError
    from search.retrieval import search

    # No filters: one names a topic or municipality deleted since (the settings page tells
    # the member, see with_shown_labels).
    if not candidates or subscription.search_filters is None:
        return set()
    try:
        results = search(subscription.query, user=user, mode="fulltext",
                         filters=replace(subscription.search_filters,
                                         page_ids=tuple(candidates)), limit=100)
    except SearchError:
        return set()
    found = set(results.ranked_page_ids or [hit.page_id for hit in results.results])
    return found & set(candidates)


def with_shown_labels(subscriptions, user) -> list:
    """The subscriptions, each with ``shown_name`` (what the member may see it called now),
    ``shown_label`` (the same with its kind, "Projekt: …"), and for saved searches
    ``search_filters`` (resolved once, for matching) and ``filter_problem`` (why a saved
    search whose filter names a deleted topic or municipality finds nothing, or "").

    A followed project can be restricted or unpublished later; its current title must then
    not reach the member (settings page, digest reasons, messages).
    """
    subscriptions = list(subscriptions)
    project_ids = [s.project_id for s in subscriptions if s.project_id]
    viewable = set(viewable_pages(user).filter(pk__in=project_ids)
                   .values_list("pk", flat=True)) if project_ids else set()
    for subscription in subscriptions:
        subscription.shown_name = subscription.label_for(viewable)
        subscription.shown_label = f"{subscription.get_kind_display()}: {subscription.shown_name}"
        subscription.search_filters, subscription.filter_problem = _saved_filters(subscription)
    return subscriptions


def _saved_filters(subscription):
    """A saved search's filters resolved to ids and "", or None and the German reason they
    cannot be (a topic or municipality deleted since); (None, "") for other subscriptions."""
    from search.query import SearchError, resolve_filters

    if subscription.kind != Subscription.Kind.SEARCH:
        return None, ""
    filters = subscription.filters or {}
    try:
        return resolve_filters(
            types=filters.get("typ") or [], municipality=filters.get("kommune") or [],
            exclude_municipality=filters.get("ohne_kommune") or [],
            topic=filters.get("thema") or [], date_from=filters.get("von", ""),
            date_to=filters.get("bis", "")), ""
    except SearchError as exc:
        return None, str(exc)


def matching_pages(user, window_start, window_end, kinds: dict[int, str] | None = None
                   ) -> list[dict]:
    """The changed pages of the window that match the user's subscriptions and that the user
    may view now; each with its page, change kind and the subscriptions it matched.

    ``kinds`` (page id -> change kind) replaces the window's changes when the caller chose
    them (a digest also takes late-committed changes, :mod:`network.digests`)."""
    from knowledge.models import KnowledgePage

    if kinds is None:
        kinds = changed_page_ids(window_start, window_end)
    subscriptions = with_shown_labels(Subscription.objects.filter(user=user)
                                      .select_related("topic", "municipality", "project"), user)
    if not kinds or not subscriptions:
        return []
    pages = {p.pk: p for p in viewable_pages(user, KnowledgePage)
             .filter(pk__in=list(kinds)).select_related("municipality")
             .prefetch_related("topics")}
    reasons: dict[int, list[str]] = {}
    for subscription in subscriptions:
        if subscription.kind == Subscription.Kind.SEARCH:
            matched = _saved_search_ids(subscription, user, list(pages))
        else:
            matched = {pk for pk, page in pages.items() if _matches(subscription, page)}
        for pk in matched:
            reasons.setdefault(pk, []).append(subscription.shown_label)
    ordered = sorted(reasons, key=lambda pk: (pages[pk].municipality.name, pages[pk].title))
    return [{"page": pages[pk], "kind": kinds[pk], "reasons": reasons[pk]} for pk in ordered]


def _matches(subscription, page) -> bool:
    if subscription.kind == Subscription.Kind.TOPIC:
        return any(t.pk == subscription.topic_id for t in page.topics.all())
    if subscription.kind == Subscription.Kind.MUNICIPALITY:
        return page.municipality_id == subscription.municipality_id
    if subscription.kind == Subscription.Kind.PROJECT:
        return page.pk == subscription.project_id or \
            page.path.startswith(subscription.project.path)
    return False

