"""The one call each search surface makes: log the query, find the Redaktion's promotions.

Kept outside ``search/`` so that the ranking stays untouched: promotions ("Empfohlen") are
shown above the ranked results, and both the log entry id and the rank let a result's
feedback say which query and which position it was about.
"""

from __future__ import annotations

from wagtail.contrib.search_promotions.models import SearchPromotion
from wagtail.search.utils import normalise_query_string

from knowledge.access import viewable_pages
from knowledge.text import strip_control_characters
from network.feedback import logged_search_id
from network.forms import SubscriptionForm
from network.models import QueryLog
from network.querylog import log_query, logged_text


def _logged_search(request, query: str) -> QueryLog | None:
    log_id = logged_search_id(request.GET.get(LOGGED_SEARCH_PARAMETER, ""))
    if log_id is None:
        return None
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


# The search a result page returns to after a vote sent without JavaScript: logged already.
LOGGED_SEARCH_PARAMETER = "suche_ref"


def search_page_extras(request, results, page_number: int, mode: str, filtered: bool) -> dict:
    """Context for the search page: the log entry (first result page only) and promotions,
    both for the query as the search cleaned it.

    A vote without JavaScript posts the form and returns to the result page; that page
    names its logged search (signed), so the return does not log the query a second time
    (which skewed the query report and its "wenig Klicks").
    """
    query = results.query
    log = None
    if page_number == 1:
        log = _logged_search(request, query)
        if log is None:
            log = log_query(QueryLog.Surface.SEARCH, query, results.total, mode, filtered,
                            word_hits=results.word_pages)
    back = request.GET.copy()
    if log is not None:
        back[LOGGED_SEARCH_PARAMETER] = log.feedback_token
    return {
        "search_log": log,
        "feedback_back": f"{request.path}?{back.urlencode()}",
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
