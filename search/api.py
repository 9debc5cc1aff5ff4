"""JSON API (django-ninja) under ``/api/v1/``; OpenAPI schema at ``/api/v1/openapi.json``.

Authentication is the browser session: the request's user decides what can be found, exactly as
on the search page (anonymous requests see public pages only). The search endpoint only reads,
so it is a GET without CSRF token; endpoints that change state must use POST with Django's CSRF
protection (django-ninja enforces it for session-authenticated calls).

Every error is JSON with a German ``detail``: 400 for invalid search input (empty or overlong
query, unknown mode or filter value, malformed date), 422 for parameters of the wrong type
(e.g. ``limit=zehn``). No input can cause a 500.
"""

from __future__ import annotations

from ninja import NinjaAPI, Query, Schema
from ninja.errors import ValidationError as NinjaValidationError

from search.ranking import SearchError, resolve_filters, search

MAX_LIMIT = 50
MAX_OFFSET = 1000

api = NinjaAPI(
    title="Kommunales Wissensnetz API",
    version="1",
    description=(
        "Suche in Projekten, Sitzungsprotokollen, Lessons Learned und Best Practices der "
        "Mitgliedskommunen. Die Anmeldung erfolgt über die Sitzung (Cookie) der Website; "
        "ohne Anmeldung werden nur öffentliche Inhalte gefunden."
    ),
    urls_namespace="api",
)


class ErrorOut(Schema):
    detail: str


class HitOut(Schema):
    title: str
    url: str
    type: str
    municipality: str
    external_id: str | None
    score: float
    snippet: str
    date: str
    topics: list[str]


class SearchOut(Schema):
    query: str
    mode: str
    total: int
    degraded: bool
    notice: str
    results: list[HitOut]


_FIELD_NAMES = {
    "q": "q", "mode": "mode", "limit": "limit", "offset": "offset", "type": "type",
    "municipality": "municipality", "exclude_municipality": "exclude_municipality",
    "topic": "topic", "date_from": "date_from", "date_to": "date_to",
}


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    """German message for parameters of the wrong type (django-ninja's default is English)."""
    names = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("query", "body")]
        names.append(_FIELD_NAMES.get(location[-1], location[-1]) if location else "?")
    fields = ", ".join(dict.fromkeys(names)) or "?"
    return api.create_response(
        request, {"detail": f"Ungültiger Wert für Parameter: {fields}."}, status=422
    )


@api.exception_handler(SearchError)
def search_error(request, exc: SearchError):
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.get(
    "/search",
    response={200: SearchOut, 400: ErrorOut, 422: ErrorOut},
    summary="Wissen durchsuchen",
    tags=["Suche"],
)
def search_endpoint(
    request,
    q: str = "",
    mode: str = "hybrid",
    limit: int = 10,
    offset: int = 0,
    type: Query[list[str] | None] = None,  # the public parameter name
    municipality: Query[list[str] | None] = None,
    exclude_municipality: Query[list[str] | None] = None,
    topic: Query[list[str] | None] = None,
    date_from: str = "",
    date_to: str = "",
):
    """Search knowledge pages the caller may see.

    ``mode``: ``hybrid`` (default), ``fulltext`` or ``vector``. ``type``, ``municipality``,
    ``exclude_municipality`` and ``topic`` may repeat or hold comma-separated values (names or
    URL slugs). ``date_from``/``date_to``: ``JJJJ-MM-TT``. ``degraded`` is true when the
    semantic part was unavailable and only full-text results are returned; ``mode`` is then
    the mode actually used and ``notice`` says why.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise SearchError(f"„limit“ muss zwischen 1 und {MAX_LIMIT} liegen.")
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchError(f"„offset“ muss zwischen 0 und {MAX_OFFSET} liegen.")
    filters = resolve_filters(
        types=type, municipality=municipality, exclude_municipality=exclude_municipality,
        topic=topic, date_from=date_from, date_to=date_to,
    )
    results = search(q, user=request.user, mode=mode, limit=limit, offset=offset,
                     filters=filters, request=request)
    return {
        "query": results.query,
        "mode": results.mode,
        "total": results.total,
        "degraded": results.degraded,
        "notice": results.notice,
        "results": [hit.as_dict() for hit in results.results],
    }
