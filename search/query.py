"""What the user typed, made safe: query text, mode, filters and the query's word tokens.

Everything that comes from a URL, the API or the CLI passes through here before any SQL is
built: control characters are removed (NUL never reaches PostgreSQL), unknown filter values are
German errors instead of being ignored, and the query is reduced to word tokens in Python, so
quotes, backslashes and tsquery operators can never reach the tsquery parser.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

from knowledge.text import german_count
from knowledge.types import TYPE_LABELS
from search import compounds

MODES = ("hybrid", "fulltext", "vector")

_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
_MAX_TOKENS = 64
_MAX_TOKEN_LENGTH = 60


def int_array(ids) -> str:
    """Integer ids as PostgreSQL array text, the parameter of ``= ANY(%s::bigint[])``.

    psycopg adapts a Python list element by element (about 0.7 ms for 300 ids); a search
    passes several lists of candidates, so they go as one string. ``int()`` keeps anything
    but integers out.
    """
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


class SearchError(ValueError):
    """Invalid search input; ``str(error)`` is a German message meant for the user."""


@dataclass(frozen=True)
class SearchFilters:
    """Resolved filters (ids, not names): build them with :func:`resolve_filters`."""

    types: tuple[str, ...] = ()
    municipality_ids: tuple[int, ...] = ()
    exclude_municipality_ids: tuple[int, ...] = ()
    topic_ids: tuple[int, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    # Only these pages (empty: all): a saved search is tested on the changed pages alone,
    # not cut from the site's best candidates (network.matching).
    page_ids: tuple[int, ...] = ()


def max_query_length() -> int:
    """The longest accepted query (``KNOWLEDGE_SEARCH_MAX_QUERY_LENGTH``): views show it too."""
    return int(getattr(settings, "KNOWLEDGE_SEARCH_MAX_QUERY_LENGTH", 1000))


def clean_query(text) -> str:
    """Normalise user input: no control characters (NUL never reaches PostgreSQL), one space.

    Raises :class:`SearchError` for an empty or overlong query. The limit is checked on the
    cleaned text, so a query padded with spaces is not rejected.
    """
    if text is None:
        text = ""
    if not isinstance(text, str):
        text = str(text)
    text = unicodedata.normalize("NFC", text)
    text = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") or ch.isspace() else ch
        for ch in text
    )
    text = " ".join(text.split())
    if not text:
        raise SearchError(_("Bitte geben Sie einen Suchbegriff ein."))
    limit = max_query_length()
    if len(text) > limit:
        raise SearchError(
            _("Die Suchanfrage ist zu lang: höchstens %(limit)s Zeichen, erhalten %(length)s.")
            % {"limit": german_count(limit), "length": german_count(len(text))}
        )
    return text


def clean_mode(mode) -> str:
    """The search mode, ``hybrid`` when none is given; an unknown mode is a German error."""
    mode = (mode or "hybrid").strip().lower() if isinstance(mode, str) else "hybrid"
    if mode not in MODES:
        raise SearchError(
            _("Unbekannter Suchmodus „%(mode)s“. Erlaubt sind: hybrid, fulltext, vector.")
            % {"mode": mode[:50]}
        )
    return mode


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    items = []
    for item in value:
        if item is None:
            continue
        items.extend(part.strip() for part in str(item).split(","))
    return [i for i in items if i]


def parse_date(value, label: str) -> dt.date | None:
    """``YYYY-MM-DD`` (or a date) -> date; anything else -> a German :class:`SearchError`."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise SearchError(
            _("%(label)s muss ein Datum im Format JJJJ-MM-TT sein.") % {"label": label}
        )
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise SearchError(
            _("%(label)s ist kein gültiges Kalenderdatum.") % {"label": label}
        ) from None


def _resolve_named(model, values: list[str], what: str) -> tuple[int, ...]:
    from django.db.models import Q

    ids = []
    for value in values:
        value = clean_filter_value(value)
        match = model.objects.filter(Q(slug=value.lower()) | Q(name__iexact=value)).first()
        if match is None:
            raise SearchError(
                _("%(what)s „%(value)s“ ist unbekannt.") % {"what": what, "value": value[:80]}
            )
        ids.append(match.pk)
    return tuple(dict.fromkeys(ids))


def clean_filter_value(value: str) -> str:
    """Filter values go through the ORM (parameters), but NUL must not reach PostgreSQL."""
    return "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))[:200]


def resolve_filters(
    *,
    types=None,
    municipality=None,
    exclude_municipality=None,
    topic=None,
    date_from=None,
    date_to=None,
) -> SearchFilters:
    """Turn names/slugs from a URL, the API or the CLI into ids; unknown values are errors.

    Unknown values raise instead of being ignored: an API client that misspells a municipality
    must not silently get results from all of them.
    """
    from knowledge.models import Municipality, Topic

    type_keys = []
    for key in _as_list(types):
        key = clean_filter_value(key).lower()
        if key not in TYPE_LABELS:
            raise SearchError(
                _("Unbekannter Inhaltstyp „%(value)s“. Erlaubt sind: %(allowed)s.")
                % {"value": key[:80], "allowed": ", ".join(TYPE_LABELS)}
            )
        type_keys.append(key)
    filters = SearchFilters(
        types=tuple(dict.fromkeys(type_keys)),
        municipality_ids=_resolve_named(Municipality, _as_list(municipality), _("Kommune")),
        exclude_municipality_ids=_resolve_named(
            Municipality, _as_list(exclude_municipality), _("Kommune")
        ),
        topic_ids=_resolve_named(Topic, _as_list(topic), _("Thema")),
        date_from=parse_date(date_from, _("Das Datum „von“")),
        date_to=parse_date(date_to, _("Das Datum „bis“")),
    )
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise SearchError(_("Das Datum „von“ liegt nach dem Datum „bis“."))
    return filters


def query_tokens(query: str) -> list[str]:
    """Word tokens of the query, deduplicated: the only part of user text a tsquery ever sees."""
    seen: dict[str, str] = {}
    for token in _TOKEN_RE.findall(query):
        token = token.strip("_")[:_MAX_TOKEN_LENGTH]
        if token and token.lower() not in seen:
            seen[token.lower()] = token
        if len(seen) >= _MAX_TOKENS:
            break
    return list(seen.values())


def tsquery_text(query: str, prefix_min_length: int = 0) -> str:
    """Input for ``to_tsquery('german', ...)``: tokens OR-ed, long ones also as prefix.

    Tokens contain only word characters, so no operator, quote or backslash can reach the
    tsquery parser; PostgreSQL stems each token and drops stop words.
    """
    return " | ".join(prefixed_tokens(query, prefix_min_length))


def prefixed_tokens(query: str, prefix_min_length: int) -> list[str]:
    """The query's tokens and their compound parts (search.compounds), those of at least
    ``prefix_min_length`` letters marked ``:*``."""
    tokens = compounds.expand_query_tokens(query_tokens(query))  # issue 17: decompounding
    return [f"{token}:*" if prefix_min_length and len(token) >= prefix_min_length
            and not token.isdigit() else token for token in tokens]
