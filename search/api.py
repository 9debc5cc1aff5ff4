"""JSON API (django-ninja) under ``/api/v1/``; OpenAPI schema at ``/api/v1/openapi.json``.

Authentication is the browser session: the request's user decides what can be found, exactly as
on the search page (anonymous requests see public pages only). Neither endpoint changes
anything but the query log, so neither asks for a CSRF token: search is a GET, matching a POST
only because a description is long. Another site can make a member's browser send a matching
but cannot read the answer (no CORS), and the matching rate limit bounds it. An endpoint that
changes state would need django-ninja's session authentication (``ninja.security.django_auth``,
which checks the CSRF token) or its own check: this API has no authentication class, so
django-ninja checks nothing.

Every error is JSON with a German ``detail``: 400 for invalid search input (empty or overlong
query, unknown mode or filter value, malformed date) and for a body that is not JSON or a query
string with too many fields, 413 for a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``, 422 for
parameters of the wrong type (e.g. ``limit=zehn``), 405 for a wrong method
(:class:`MethodNotAllowedAsJson`). No input can cause a 500.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import JsonResponse
from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.throttling import AnonRateThrottle, UserRateThrottle

from knowledge.models import Municipality, Topic
from network.querylog import log_query
from network.ratelimit import allow_matching
from search.matching import MatchError, match_project
from search.query import SearchError, SearchFilters, clean_filter_value, resolve_filters
from search.retrieval import search

MAX_LIMIT = 50
MAX_OFFSET = 1000

class VisitorThrottle(AnonRateThrottle):
    """Anonymous requests, counted per address (``REMOTE_ADDR``: ``NINJA_NUM_PROXIES`` is 0,
    so a client cannot pick its own identity with an ``X-Forwarded-For`` header).

    django-ninja's own classes tell members by ``request.auth``, which stays empty with
    session login: members would share their office's anonymous limit."""

    def get_cache_key(self, request):
        return None if request.user.is_authenticated else super().get_cache_key(request)


class MemberThrottle(UserRateThrottle):
    """Logged-in requests, counted per account."""

    def get_cache_key(self, request):
        return super().get_cache_key(request) if request.user.is_authenticated else None


def _throttles() -> list:
    """Per-client request limits (anonymous by IP, logged-in by user), from
    ``KNOWLEDGE_API_RATE_LIMIT`` = "ANON_RATE,USER_RATE" (e.g. "60/m,600/m") or "off".

    Counted in the cache of each process: with several workers the effective limit is the
    configured one times the number of processes, which is still a firm bound per client.
    """
    value = getattr(settings, "KNOWLEDGE_API_RATE_LIMIT", "60/m,600/m").strip().lower()
    if value in ("off", "0", ""):
        return []
    anon, _, user = value.partition(",")
    return [VisitorThrottle(anon.strip()), MemberThrottle((user or anon).strip())]


api = NinjaAPI(
    title="Kommunales Wissensnetz API",
    version="1",
    description=(
        "Suche in Projekten, Sitzungsprotokollen, Lessons Learned und Best Practices der "
        "Mitgliedskommunen. Die Anmeldung erfolgt über die Sitzung (Cookie) der Website; "
        "ohne Anmeldung werden nur öffentliche Inhalte gefunden."
    ),
    urls_namespace="api",
    throttle=_throttles(),
)


class ErrorOut(Schema):
    detail: str


class AttachmentOut(Schema):
    title: str
    filename: str
    url: str
    page: int | None
    label: str


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
    attachment: AttachmentOut | None = None


class SearchOut(Schema):
    query: str
    mode: str
    total: int
    degraded: bool
    notice: str
    word_hits: int | None
    corrections: list[str]
    results: list[HitOut]


def _parameter_name(location: list[str]) -> str:
    """``["topics", "0"]`` -> ``topics[0]``: the parameter, with the position in its list."""
    text = ""
    for part in location:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "?"


@api.exception_handler(NinjaValidationError)
def validation_error(request, exc: NinjaValidationError):
    """German message for parameters of the wrong type (django-ninja's default is English)."""
    names = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ())]
        if location[:1] == ["body"]:  # ("body", "payload", "topics", 0): the schema's name
            location = location[2:] or location[1:]
        elif location[:1] == ["query"]:
            location = location[1:]
        names.append(_parameter_name(location))
    fields = ", ".join(dict.fromkeys(names)) or "?"
    return api.create_response(
        request, {"detail": f"Ungültiger Wert für Parameter: {fields}."}, status=422
    )


@api.exception_handler(SearchError)
@api.exception_handler(MatchError)
def invalid_input(request, exc: SearchError | MatchError):
    """Invalid search or matching input: 400 with the German message the error carries."""
    return api.create_response(request, {"detail": str(exc)}, status=400)


@api.exception_handler(HttpError)
def http_error(request, exc: HttpError):
    """django-ninja's own refusals in German; in practice a request body that is not JSON."""
    detail = ("Der Inhalt der Anfrage ist kein gültiges JSON." if exc.status_code == 400
              else f"Die Anfrage wurde abgelehnt (Status {exc.status_code}).")
    return api.create_response(request, {"detail": detail}, status=exc.status_code)


@api.exception_handler(RequestDataTooBig)
@api.exception_handler(TooManyFieldsSent)
def too_large(request, exc: RequestDataTooBig | TooManyFieldsSent):
    """Django's request size limits, as JSON (Django itself would answer with its 400 page)."""
    if isinstance(exc, RequestDataTooBig):
        return api.create_response(
            request, {"detail": "Die Anfrage ist zu groß. Bitte kürzen Sie die Beschreibung."},
            status=413)
    return api.create_response(
        request, {"detail": "Die Anfrage hat zu viele Parameter."}, status=400)


class MethodNotAllowedAsJson:
    """Middleware: django-ninja answers a wrong method with an English ``text/html`` 405;
    API clients get JSON with a German ``detail`` like for every other error (``Allow`` stays).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if response.status_code != 405 or match is None or match.namespace != "api":
            return response
        allowed = response.get("Allow", "")
        german = JsonResponse({"detail": f"Die Methode {request.method} ist hier nicht "
                                         f"erlaubt; erlaubt: {allowed}."}, status=405)
        german["Allow"] = allowed
        return german


@api.exception_handler(Throttled)
def throttled(request, exc: Throttled):
    response = api.create_response(
        request,
        {"detail": "Zu viele Anfragen. Bitte warten Sie einen Moment und versuchen Sie es "
                   "dann erneut."},
        status=429,
    )
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    return response


@api.get(
    "/search",
    response={200: SearchOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
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
    the mode actually used and ``notice`` says why. ``word_hits``: how many of the ``total``
    pages contain a word of the query (null in ``vector`` mode); 0 with results means they are
    only similar in meaning. ``corrections``: words searched as well, in place of words of the
    query that match nothing (typos).
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
    if offset == 0:
        log_query("api", results.query, results.total, results.mode, filters != SearchFilters(),
                  word_hits=results.word_pages)
    return {
        "query": results.query,
        "mode": results.mode,
        "total": results.total,
        "degraded": results.degraded,
        "notice": results.notice,
        "word_hits": results.word_pages,
        "corrections": results.corrections,
        "results": [hit.as_dict() for hit in results.results],
    }


# --- Matching -------------------------------------------------------------------------------


class MatchIn(Schema):
    description: str
    municipality: str | None = None
    topics: list[str] = []
    limit: int = 5


class ExplanationOut(Schema):
    heading: str
    snippet: str
    attachment: AttachmentOut | None = None


class ProjectRefOut(Schema):
    title: str
    url: str


class MatchHitOut(HitOut):
    shared_topics: list[str]
    explanations: list[ExplanationOut]
    contact_role: str
    project: ProjectRefOut | None
    related: list[dict]


class MatchGroupOut(Schema):
    key: str
    label: str
    results: list[MatchHitOut]


class MunicipalityOut(Schema):
    name: str
    matches: int
    projects: list[ProjectRefOut]


class MatchOut(Schema):
    degraded: bool
    notice: str
    results: list[MatchHitOut]
    groups: list[MatchGroupOut]
    municipalities: list[MunicipalityOut]


def _named(model, value: str, what: str):
    value = clean_filter_value(value)  # NUL must not reach PostgreSQL (a 500 otherwise)
    found = model.objects.filter(name__iexact=value).first() or model.objects.filter(
        slug=value.strip().lower()).first()
    if found is None:
        raise MatchError(f"Unbekannte {what}: „{value[:80]}“.")
    return found


@api.post(
    "/match",
    response={200: MatchOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Erfahrungen anderer Kommunen zu einem neuen Vorhaben finden",
    tags=["Gegenseitiges Lernen"],
)
def match_endpoint(request, payload: MatchIn):
    """Describe a new project; get lessons learned, best practices and projects of OTHER
    municipalities that help, grouped by kind, each with the passages that matched. The
    asking ``municipality`` (name or slug) is excluded; ``topics`` gently boost results.
    The description is limited to ``KNOWLEDGE_MATCH_MAX_DESCRIPTION`` characters (5000)."""
    if not allow_matching(request):
        raise Throttled(60)
    if not 1 <= payload.limit <= 20:
        raise MatchError("„limit“ muss zwischen 1 und 20 liegen.")
    municipality = (_named(Municipality, payload.municipality, "Kommune")
                    if payload.municipality else None)
    topics = [_named(Topic, name, "Thema") for name in payload.topics[:20]]
    results = match_project(payload.description, user=request.user, municipality=municipality,
                            topics=topics, limit=payload.limit, request=request)
    return {
        "degraded": results.degraded,
        "notice": results.notice,
        "results": [item.as_dict() for item in results.results],
        "groups": [{"key": g.key, "label": g.label, "results": [i.as_dict() for i in g.items]}
                   for g in results.groups],
        "municipalities": [
            {"name": m.name, "matches": m.matches,
             "projects": [{"title": t, "url": u} for t, u in m.projects]}
            for m in results.municipalities
        ],
    }
