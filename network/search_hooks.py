"""The one call each search surface makes: log the query, find the Redaktion's promotions.

Kept outside ``search/`` so that the ranking stays untouched: promotions ("Empfohlen") are
shown above the ranked results, and both the log entry id and the rank let a result's
feedback say which query and which position it was about.
"""

from __future__ import annotations

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.search.utils import normalise_query_string

from knowledge import page_cache
from knowledge.access import viewable_pages
from knowledge.text import strip_control_characters
from network.forms import SubscriptionForm
from network.models import QueryLog
from network.querylog import log_query, logged_text

# The search a vote without JavaScript was given on: its result page, shown again after the
# vote, is logged already (a one-time entry in the voter's session, set by the vote).
VOTED_SEARCH_SESSION_KEY = "network_voted_search"
page_cache.share_pages_despite_session_key(VOTED_SEARCH_SESSION_KEY)  # read by search only


def remember_voted_search(request, log_id: int) -> None:
    """Called by a vote on a search result: the result page it returns to is logged."""
    request.session[VOTED_SEARCH_SESSION_KEY] = log_id


def _voted_search(request, query: str) -> QueryLog | None:
    session = getattr(request, "session", None)
    if session is None or VOTED_SEARCH_SESSION_KEY not in session:
        return None
    log_id = session.pop(VOTED_SEARCH_SESSION_KEY)
    return QueryLog.objects.filter(pk=log_id, surface=QueryLog.Surface.SEARCH,
                                   query=logged_text(query)).first()


def promoted_pages(user, query: str) -> list[dict]:
    """The promotions of the query whose pages the user may view, in the Redaktion's order."""
    text = normalise_query_string(" ".join(strip_control_characters(query or "").split()))
    if not text:
        return []
    promotions = list(SearchPromotion.objects.filter(query__query_string=text,
                                                     page__isnull=False)
                      .order_by("sort_order", "pk"))
    if not promotions:
        return []
    visible = {page.pk: page for page in
               viewable_pages(user).filter(pk__in=[p.page_id for p in promotions]).specific()}
    return [{"page": visible[p.page_id], "description": p.description}
            for p in promotions if p.page_id in visible]


def search_page_extras(request, results, page_number: int, mode: str, filtered: bool) -> dict:
    """Context for the search page: the log entry (first result page only) and promotions,
    both for the query as the search cleaned it.

    A vote without JavaScript posts the form and returns to the result page; the vote left
    its search in the session, so the return does not log the query a second time (which
    skewed the query report and its "wenig Klicks"). Only once, and only in that session.
    """
    query = results.query
    log = None
    if page_number == 1:
        log = _voted_search(request, query)
        if log is None:
            log = log_query(QueryLog.Surface.SEARCH, query, results.total, mode, filtered,
                            word_hits=results.word_pages)
    return {
        "search_log": log,
        "promotions": promoted_pages(request.user, query) if page_number == 1 else [],
        "feedback_source": "suche",
        "saved_search_max": SubscriptionForm.base_fields["q"].max_length,
    }


def match_page_extras(description: str, results) -> dict:
    """Context for the matching page: the log entry its suggestions' feedback refers to."""
    count = sum(len(group.items) for group in results.groups)
    return {"search_log": log_query(QueryLog.Surface.MATCH, description, count, "matching"),
            "feedback_source": "lernen"}


def logged_match_extras(log_id: int | None) -> dict:
    """The same context for a matching shown again (after a vote): its existing log entry."""
    log = QueryLog.objects.filter(pk=log_id).first() if log_id else None
    return {"search_log": log, "feedback_source": "lernen"}
