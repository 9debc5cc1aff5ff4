"""Full-text, vector and hybrid retrieval over the passage index, aggregated to pages.

Why it looks like this:

* **Permissions live in the SQL.** Every candidate query joins ``wagtailcore_page`` and keeps
  only live pages outside the path prefixes the user may not see
  (:func:`knowledge.access.denied_path_prefixes`). Nothing the user may not see ever leaves
  PostgreSQL, so results, snippets, facet counts and the API cannot leak it.
* **Full text uses OR semantics with IDF weights.** Users type several words; an AND query
  over German municipal text finds almost nothing. The query is reduced to word tokens in
  Python (so quotes, backslashes and tsquery operators can never reach the tsquery parser),
  each token is stemmed by PostgreSQL's German configuration, and the tokens are OR-ed. A
  passage scores the BM25-style IDF weights of the terms it contains (``ts_rank_cd`` alone
  cannot tell "Datensatz" from "Grünanlagen"), scaled down for passages longer than average as
  in BM25 (a long description contains many words of a long query by sheer length); a word in
  the page title counts as three occurrences (BM25F's field weight); ``ts_rank`` breaks ties.
  Long tokens also match as prefixes, which catches the first part of German compounds
  ("Abfall" finds "Abfallkalender"). Only the best candidates are scored in full: exact
  MaxScore pruning skips passages that contain nothing but common words.
* **Vectors never mix models.** Only passages whose ``model_id`` equals the current embedder's
  are compared; if none exists the index was built with another model and the search degrades to
  full text with a message to run ``rebuild_search_index``. The HNSW scan uses pgvector's
  iterative scan so that filters (type, municipality, permissions) still fill a page.
* **Hybrid is weighted score fusion at page level, not reciprocal rank fusion.** Both
  retrievers contribute a candidate pool; for every candidate passage *both* scores are
  computed exactly; each retriever's scores are aggregated per page (best passage, optionally
  plus a bonus for further passages), min-max normalised over the candidate pages and mixed
  with ``KNOWLEDGE_SEARCH_VECTOR_WEIGHT``. Full text only nominates candidates here: from
  the passages with the query's rarest words, within a budget (:func:`fulltext_candidates`
  with ``exact=False``). The defaults were tuned on judged queries (see
  ``docs/search-ranking.md``); passage-level fusion and plain RRF remain selectable for the
  evaluation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.html import escape
from django.utils.translation import gettext as _

from attachments.refs import AttachmentRef
from knowledge.access import denied_path_prefixes, remembered_access, visibility_key
from knowledge.types import TYPE_LABELS, knowledge_type_of
from search import compounds, typos

logger = logging.getLogger(__name__)

MODES = ("hybrid", "fulltext", "vector")

# Sentinels around highlighted words in ts_headline output: private-use characters that are
# stripped from the passage text first, so the HTML can be escaped and <mark> put back safely.
_MARK_START = "\ue000"
_MARK_END = "\ue001"
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)
# A lexeme in a normalised tsquery text: quoted ('' escapes a quote), optionally prefix-marked.
_LEXEME_RE = re.compile(r"('(?:[^']|'')*')(?::(\*))?")
# ts_rank(_cd) with the same weight for title (A) and body (B) lexemes: the title boost lives
# in the BM25 part.
_RANK_WEIGHTS = "{0.1,0.1,0.1,0.1}"
# The tie-breaker adds less than this to a BM25 score (ts_rank scaled to [0, 1) times it).
TIE_BREAKER_BOUND = 0.1
_MAX_TOKENS = 64
_MAX_TOKEN_LENGTH = 60
# Index statistics are keyed by the index generation; the timeout only bounds cache memory.
STATISTICS_CACHE_SECONDS = 3600


def _setting(name: str, default):
    return getattr(settings, name, default)


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


@dataclass(frozen=True)
class FusionParams:
    """The tunable knobs of ranking; defaults come from settings (see docs/search-ranking.md)."""

    vector_weight: float
    candidates: int
    fulltext_candidates: int
    passage_bonus: float
    ef_search: int
    rank_normalization: int
    prefix_min_length: int
    fusion_level: str = "page"
    fulltext_scoring: str = "bm25"
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    bm25_short_query_terms: int = 2
    bm25_long_query_terms: int = 6
    title_boost: float = 2.0
    exact_hybrid_fulltext: bool = False
    # The first pass of full-text pruning scores about this many passages per wanted candidate.
    fulltext_budget: int = 20

    @classmethod
    def from_settings(cls, **overrides) -> FusionParams:
        values = {
            "vector_weight": float(_setting("KNOWLEDGE_SEARCH_VECTOR_WEIGHT", 0.75)),
            "candidates": int(_setting("KNOWLEDGE_SEARCH_CANDIDATES", 100)),
            "fulltext_candidates": int(_setting("KNOWLEDGE_SEARCH_FULLTEXT_CANDIDATES", 1000)),
            "passage_bonus": float(_setting("KNOWLEDGE_SEARCH_PASSAGE_BONUS", 0.0)),
            "ef_search": int(_setting("KNOWLEDGE_SEARCH_EF_SEARCH", 100)),
            "rank_normalization": int(_setting("KNOWLEDGE_SEARCH_RANK_NORMALIZATION", 1)),
            "prefix_min_length": int(_setting("KNOWLEDGE_SEARCH_PREFIX_MIN_LENGTH", 5)),
            "fusion_level": str(_setting("KNOWLEDGE_SEARCH_FUSION_LEVEL", "page")),
            "fulltext_scoring": str(_setting("KNOWLEDGE_SEARCH_FULLTEXT_SCORING", "bm25")),
            "bm25_k1": float(_setting("KNOWLEDGE_SEARCH_BM25_K1", 1.2)),
            "bm25_b": float(_setting("KNOWLEDGE_SEARCH_BM25_B", 0.75)),
            "bm25_short_query_terms": int(_setting("KNOWLEDGE_SEARCH_BM25_SHORT_QUERY_TERMS", 2)),
            "bm25_long_query_terms": int(_setting("KNOWLEDGE_SEARCH_BM25_LONG_QUERY_TERMS", 6)),
            "title_boost": float(_setting("KNOWLEDGE_SEARCH_TITLE_BOOST", 2.0)),
            "exact_hybrid_fulltext": bool(_setting("KNOWLEDGE_SEARCH_HYBRID_EXACT_FULLTEXT",
                                                   False)),
            "fulltext_budget": int(_setting("KNOWLEDGE_SEARCH_FULLTEXT_BUDGET", 20)),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass
class PageHit:
    """A page found for a query: what search results and matching suggestions share."""

    page_id: int
    title: str
    url: str
    knowledge_type: str
    type_label: str
    municipality: str
    municipality_slug: str
    external_id: str | None
    date: dt.date
    score: float
    topics: list[str]

    def page_dict(self) -> dict:
        """The page fields of the API's result objects."""
        return {
            "title": self.title,
            "url": self.url,
            "type": self.knowledge_type,
            "municipality": self.municipality,
            "external_id": self.external_id,
            "score": round(self.score, 4),
            "date": self.date.isoformat(),
            "topics": self.topics,
        }


@dataclass
class SearchHit(PageHit):
    snippet: str  # HTML: escaped text with <mark> around query terms
    heading: str
    attachment: AttachmentRef | None = None  # the snippet's file, when it came from one

    def as_dict(self) -> dict:
        """The result object shared by the API and ``search_knowledge --json``."""
        return {**self.page_dict(), "snippet": self.snippet,
                "attachment": self.attachment.as_dict() if self.attachment else None}


@dataclass
class Facet:
    value: str  # the filter value (type key or slug)
    label: str
    count: int


@dataclass
class SearchResults:
    query: str
    mode: str
    requested_mode: str
    results: list[SearchHit]
    total: int
    offset: int
    limit: int
    degraded: bool = False
    notice: str = ""
    facets: dict[str, list[Facet]] = field(default_factory=dict)
    ranked_page_ids: list[int] = field(default_factory=list)


# --- Input ---------------------------------------------------------------------------------


def max_query_length() -> int:
    return int(_setting("KNOWLEDGE_SEARCH_MAX_QUERY_LENGTH", 1000))


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
            _("Die Suchanfrage ist zu lang: höchstens %(limit)d Zeichen, erhalten %(length)d.")
            % {"limit": limit, "length": len(text)}
        )
    return text


def clean_mode(mode) -> str:
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


# --- SQL building blocks -------------------------------------------------------------------


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
    return " | ".join(_prefixed_tokens(query, prefix_min_length))


def _prefixed_tokens(query: str, prefix_min_length: int) -> list[str]:
    """The query's tokens and their compound parts (search.compounds), those of at least
    ``prefix_min_length`` letters marked ``:*``."""
    tokens = compounds.expand_query_tokens(query_tokens(query))  # issue 17: decompounding
    return [f"{token}:*" if prefix_min_length and len(token) >= prefix_min_length
            and not token.isdigit() else token for token in tokens]


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


def _filter_sql(user, filters: SearchFilters) -> tuple[str, list]:
    """WHERE conditions for permissions and filters (always joined to ``wagtailcore_page wp``)."""
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
    if filters.topic_ids:
        conditions.append(
            "EXISTS (SELECT 1 FROM knowledge_knowledgepage_topics kt "
            "WHERE kt.knowledgepage_id = p.page_id AND kt.topic_id = ANY(%s))"
        )
        params.append(list(filters.topic_ids))
    return " AND ".join(conditions), params


def vector_literal(vector) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


@dataclass(frozen=True)
class QueryTerms:
    """The query's distinct terms (normalised tsquery text) with their BM25 statistics."""

    terms: list[str]
    weights: list[float]  # BM25 IDF per term
    frequencies: list[int]  # passages the user may see that contain the term
    average_length: float  # distinct lexemes per visible passage

    def any_of(self, indices: Iterable[int] | None = None) -> str:
        """tsquery text matching a passage that contains any of the terms (all by default)."""
        chosen = range(len(self.terms)) if indices is None else indices
        return " | ".join(f"({self.terms[i]})" for i in chosen)


def term_weights(query: str, params: FusionParams, user=None) -> QueryTerms:
    """Per query term its normalised tsquery and BM25-style IDF; plus the average passage length.

    ``ts_rank_cd`` has no notion of how rare a word is, so in a long query ("Der Datensatz
    enthält die Geodaten der Grünanlagen …") frequent words drown the telling ones. Document
    frequencies, the passage count and the average length (distinct lexemes) that BM25's
    length normalisation needs are counted only over passages the user may see: counted over
    everything, restricted text would shift the scores and order of public results (a side
    channel on what restricted pages contain). All three are cached per index generation and
    visibility class (:func:`_corpus_statistics`, :func:`_document_frequencies`), so a query
    pays at most one GIN bitmap count per new term instead of a scan of the whole index.
    """
    tokens = _prefixed_tokens(query, params.prefix_min_length)
    if not tokens:
        return QueryTerms([], [], [], 1.0)
    key = _statistics_key(user)
    total, average_length = _corpus_statistics(key, user)
    frequencies = _document_frequencies(tokens, key, user)
    terms = sorted(frequencies)
    # A term cannot be in more passages than there are (counts of one generation agree, but a
    # negative IDF must never be possible).
    weights = [math.log(1 + (total - min(frequencies[t], total) + 0.5) / (frequencies[t] + 0.5))
               for t in terms]
    return QueryTerms(terms, weights, [frequencies[t] for t in terms], average_length)


def _statistics_key(user) -> str:
    from search.models import IndexGeneration

    return f"search:stats:{IndexGeneration.current()}:{visibility_key(user)}"


def _corpus_statistics(key: str, user) -> tuple[int, float]:
    """Number and average length of the passages the user may see (one scan per generation)."""
    cached = cache.get(key)
    if cached is None:
        where, where_params = _filter_sql(user, SearchFilters())
        sql = f"""
            SELECT count(*), avg(length(p.search_vector)) FROM search_passage p
            JOIN wagtailcore_page wp ON wp.id = p.page_id WHERE {where}
        """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, where_params)
            total, average = cursor.fetchone()
        cached = (int(total), float(average or 1.0))
        cache.set(key, cached, STATISTICS_CACHE_SECONDS)
    return cached


def _document_frequencies(tokens: list[str], key: str, user) -> dict[str, int]:
    """Visible passages containing each term (normalised tsquery text -> count), via GIN."""
    prefix = key + ":df:"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT q::text FROM (SELECT to_tsquery('german', tok) AS q "
            "FROM unnest(%s::text[]) AS u(tok)) t WHERE q::text <> ''", [tokens])
        terms = [row[0] for row in cursor.fetchall()]
    cached = cache.get_many([prefix + _cache_safe(t) for t in terms])
    frequencies = {t: cached[prefix + _cache_safe(t)] for t in terms
                   if prefix + _cache_safe(t) in cached}
    missing = [t for t in terms if t not in frequencies]
    if missing:
        where, where_params = _filter_sql(user, SearchFilters())
        sql = f"""
            SELECT t.term, (SELECT count(*) FROM search_passage p
                            JOIN wagtailcore_page wp ON wp.id = p.page_id
                            WHERE p.search_vector @@ t.term::tsquery AND {where})
            FROM unnest(%s::text[]) AS t(term)
        """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [*where_params, missing])
            counted = dict(cursor.fetchall())
        frequencies.update(counted)
        cache.set_many({prefix + _cache_safe(t): n for t, n in counted.items()},
                       STATISTICS_CACHE_SECONDS)
    return frequencies


def _cache_safe(term: str) -> str:
    """Cache keys must be short ASCII: terms are hashed."""
    return hashlib.sha256(term.encode()).hexdigest()[:24]


def bm25_term_factor(length: float, average_length: float, k1: float, b: float,
                     tf: float = 1.0) -> float:
    """BM25's term-frequency part: (k1 + 1) · tf / (tf + k1 · norm).

    ``norm = 1 − b + b · length / average_length``: a passage of average length gets 1, a
    longer one less, a shorter one more. The passage length is the number of distinct
    lexemes of its tsvector. ``tf`` is 1 for a term in the body: the passages are short and
    long queries are what needs taming, not repetition. A term in the page title counts as
    ``1 + title_boost`` occurrences (BM25F's field weight), so it gains, but saturates like
    any repeated term. :func:`_rank_sql` computes the same expression in SQL.
    """
    norm = 1 - b + b * length / max(average_length, 1e-9)
    return (k1 + 1) * tf / (tf + k1 * norm)


def title_terms(terms: Sequence[str]) -> list[str]:
    """The same tsquery terms restricted to weight A, i.e. to the page title.

    ``'abfal':*`` becomes ``'abfal':*A``; a term of several lexemes gets the label on each.
    """
    return [_LEXEME_RE.sub(lambda m: f"{m.group(1)}:{m.group(2) or ''}A", term)
            for term in terms]


def length_normalisation(term_count: int, params: FusionParams) -> float:
    """BM25's ``b`` for a query of ``term_count`` distinct terms.

    Length normalisation tames long queries: a description of forty words is matched by long
    passages through sheer length. A two-word keyword query is not, and normalising it only
    pushes the multi-section pages down that do contain both words. So ``b`` is 0 up to
    ``bm25_short_query_terms`` terms, the full ``bm25_b`` from ``bm25_long_query_terms`` on,
    and linear in between (measured in docs/search-ranking.md).
    """
    if term_count >= params.bm25_long_query_terms:
        return params.bm25_b
    if term_count <= params.bm25_short_query_terms:
        return 0.0
    span = params.bm25_long_query_terms - params.bm25_short_query_terms
    return params.bm25_b * (term_count - params.bm25_short_query_terms) / span


def _rank_sql(terms: QueryTerms, params: FusionParams) -> tuple[str, list]:
    """SQL expression (over ``p`` and ``q.query``) of a passage's full-text score."""
    # The tie-breaker ts_rank (term frequency) with normalisation flag 32 (rank / (rank + 1))
    # stays below TIE_BREAKER_BOUND, which the pruning in fulltext_candidates relies on. Not
    # ts_rank_cd: its cover density over a long OR query cost ten times the whole BM25 part.
    tie_breaker = ("%s::float8 * ts_rank(%s, p.search_vector, q.query, %s)",
                   [TIE_BREAKER_BOUND, _RANK_WEIGHTS, params.rank_normalization | 32])
    if params.fulltext_scoring in ("bm25", "idf"):
        # Per contained term: IDF · bm25_term_factor, where tf is 1 + title_boost for a term
        # in the page title (weight A); `idf` scoring is the same without length
        # normalisation. Plus ts_rank as a small tie-breaker that rewards repetition. One
        # inline CASE per term, not a sub-select over the term list: a SubPlan per scored
        # passage cost a third of the query and kept PostgreSQL from scanning in parallel.
        b = _effective_b(terms, params)
        k1 = params.bm25_k1
        # (k1 + 1) · tf / (tf + k1 · norm) = (k1 + 1) / (1 + k1 · norm / tf), with
        # k1 · norm = k1 · (1 − b) + k1 · b / avg · length.
        parts, sql_params = [], []
        for term, title, weight in zip(terms.terms, title_terms(terms.terms), terms.weights,
                                       strict=True):
            parts.append(
                "CASE WHEN p.search_vector @@ %s::tsquery THEN %s::float8 / (1 + (%s::float8 "
                "+ %s::float8 * length(p.search_vector)) / (1 + %s::float8 * "
                "(p.search_vector @@ %s::tsquery)::int)) ELSE 0 END")
            sql_params += [term, weight * (k1 + 1), k1 * (1 - b),
                           k1 * b / max(terms.average_length, 1e-9), params.title_boost, title]
        return f"({' + '.join(parts) or '0'} + {tie_breaker[0]})", [*sql_params, *tie_breaker[1]]
    return "ts_rank_cd(%s, p.search_vector, q.query, %s)", [_RANK_WEIGHTS,
                                                            params.rank_normalization]


def _effective_b(terms: QueryTerms, params: FusionParams) -> float:
    if params.fulltext_scoring == "bm25":
        return length_normalisation(len(terms.terms), params)
    return 0.0


def term_bounds(terms: QueryTerms, params: FusionParams) -> list[float]:
    """The most each term can add to a passage's score: its IDF times the largest factor.

    :func:`bm25_term_factor` is largest for a title match (tf = 1 + title_boost) in the
    shortest possible passage (length → 0, norm → 1 − b); with a negative boost (title words
    count less) a body match is the largest.
    """
    b = _effective_b(terms, params)
    tf = 1 + max(params.title_boost, 0.0)
    factor = (params.bm25_k1 + 1) * tf / (tf + params.bm25_k1 * (1 - b))
    return [weight * factor for weight in terms.weights]


def fulltext_sql(terms: QueryTerms, user, filters: SearchFilters, params: FusionParams,
                 limit: int, matching: Iterable[int] | None = None) -> tuple[str, list]:
    """The full-text candidate query over passages containing any of the ``matching`` terms.

    Every candidate is scored with all terms; ``matching`` (indices into ``terms``; all by
    default) only narrows which passages are looked at (see :func:`fulltext_candidates`).
    """
    where, where_params = _filter_sql(user, filters)
    rank, rank_params = _rank_sql(terms, params)
    sql = f"""
        SELECT p.id, p.page_id, {rank} AS rank
        FROM search_passage p
        JOIN wagtailcore_page wp ON wp.id = p.page_id,
             (SELECT %s::tsquery AS query) q
        WHERE p.search_vector @@ %s::tsquery AND {where}
        ORDER BY rank DESC, p.id
        LIMIT %s
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    return sql, [*rank_params, terms.any_of(), terms.any_of(matching), *where_params, limit]


def fulltext_candidates(query: str, user, filters: SearchFilters, params: FusionParams,
                        limit: int, terms: QueryTerms | None = None, exact: bool = True
                        ) -> list[tuple[int, int, float]]:
    """(passage id, page id, rank) of the ``limit`` best passages matching any query term.

    OR semantics make a common word ("Stadt", "Daten") match most of the index, and scoring
    every such passage dominated the search time. The result is the exact top ``limit`` of
    that exhaustive scoring, found with MaxScore-style pruning (Turtle & Flood, 1995): first
    only the passages containing the most valuable terms (by IDF, about
    ``params.fulltext_budget`` per wanted candidate) are scored, widened by the next terms
    until ``limit`` passages are found; the ``limit``-th score is a lower bound θ of the final
    one. Terms whose bounds (:func:`term_bounds`) sum, with the tie-breaker's, to less than θ
    cannot lift a passage containing only them into the result, so only passages containing
    one of the other terms need scoring: often the passes so far already covered them.
    ``ts_rank_cd`` scoring has no such bounds and scores exhaustively. ``terms`` are the
    query's :func:`term_weights` if the caller has them already.

    ``exact=False`` stops after the first pass: the best passages among those containing the
    rarest terms that fit the budget (always at least the rarest term). Hybrid search uses it
    to nominate candidates only; every candidate of either retriever is scored exactly
    afterwards, and the passages it can miss contain only common words of the query. The
    exact top list of a short paraphrase whose rare words occur in few passages needed some
    ten thousand mid-frequency passages scored (the tail of the latency at 100k passages).
    """
    terms = terms or term_weights(query, params, user)
    if not terms.terms:
        return []
    if params.fulltext_scoring == "ts_rank_cd":
        return _run_fulltext(fulltext_sql(terms, user, filters, params, limit))
    bounds = term_bounds(terms, params)
    remaining = sorted(range(len(bounds)), key=lambda i: -bounds[i])
    covered: list[int] = []
    while True:
        # Widen the pass by at least the next most valuable term, up to the passage budget.
        budget = params.fulltext_budget * limit
        widened = False
        while remaining and (not widened or budget >= terms.frequencies[remaining[0]]):
            budget -= terms.frequencies[remaining[0]]
            covered.append(remaining.pop(0))
            widened = True
        rows = _run_fulltext(fulltext_sql(terms, user, filters, params, limit, covered))
        if not remaining or not exact:
            return rows
        if len(rows) == limit:
            essential = essential_terms(bounds, rows[-1][2])
            if essential <= set(covered):
                return rows
            return _run_fulltext(fulltext_sql(terms, user, filters, params, limit,
                                              sorted(essential)))
        # Fewer than `limit` passages contain these terms: no threshold yet, widen.


def essential_terms(bounds: Sequence[float], threshold: float) -> set[int]:
    """Indices of the terms a passage must contain to possibly score ``threshold`` or more.

    The terms with the smallest bounds are dropped while their bounds plus the tie-breaker's
    stay below the threshold (with a margin for floating-point differences).
    """
    total = TIE_BREAKER_BOUND + 1e-9
    essential = set(range(len(bounds)))
    for index in sorted(range(len(bounds)), key=lambda i: bounds[i]):
        if total + bounds[index] >= threshold:
            break
        total += bounds[index]
        essential.discard(index)
    return essential


def _run_fulltext(built: tuple[str, list]) -> list[tuple[int, int, float]]:
    """Run a candidate query with the sequential scan switched off.

    When common words make a tenth of the index match, the planner estimates a sequential scan
    cheaper than the GIN bitmap scan; it is not (every tsvector is read and tested).
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_seqscan', 'off', true)")
        cursor.execute(*built)
        return [(row[0], row[1], float(row[2])) for row in cursor.fetchall()]


def vector_sql(vector, model_id: str, user, filters: SearchFilters,
               limit: int) -> tuple[str, list]:
    """The HNSW candidate query: nearest passages of the current model under all filters."""
    where, where_params = _filter_sql(user, filters)
    literal = vector_literal(vector)
    sql = f"""
        WITH c AS MATERIALIZED (
            SELECT p.id, p.page_id, p.embedding <=> %s::vector AS distance
            FROM search_passage p
            JOIN wagtailcore_page wp ON wp.id = p.page_id
            WHERE p.model_id = %s AND p.embedding IS NOT NULL AND {where}
            ORDER BY p.embedding <=> %s::vector
            LIMIT %s
        )
        SELECT id, page_id, 1 - distance FROM c ORDER BY distance, id
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    return sql, [literal, model_id, *where_params, literal, limit]


def vector_candidates(vector, model_id: str, user, filters: SearchFilters,
                      params: FusionParams, limit: int) -> list[tuple[int, int, float]]:
    """(passage id, page id, cosine similarity) of the nearest passages, via the HNSW index.

    ``hnsw.iterative_scan = relaxed_order`` lets pgvector keep scanning the graph until the
    filters (permissions, type, municipality, ...) let ``limit`` rows through; the relaxed
    order is repaired by sorting the materialised candidates by exact distance.
    """
    sql, sql_params = vector_sql(vector, model_id, user, filters, limit)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('hnsw.ef_search', %s, true), "
                       "set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                       [str(max(params.ef_search, limit))])
        cursor.execute(sql, sql_params)
        return [(row[0], row[1], float(row[2])) for row in cursor.fetchall()]


def _exact_scores(passage_ids: Iterable[int], query: str, vector, model_id: str | None,
                  params: FusionParams, user=None, terms: QueryTerms | None = None
                  ) -> dict[int, tuple[float, float | None]]:
    """Both scores for given passages (those one retriever found and the other did not)."""
    ids = list(passage_ids)
    if not ids:
        return {}
    terms = terms or term_weights(query, params, user)
    literal = vector_literal(vector) if vector is not None else None
    rank, rank_params = _rank_sql(terms, params)
    sql = f"""
        SELECT p.id,
               CASE WHEN p.search_vector @@ q.query THEN {rank} ELSE 0 END,
               CASE WHEN %s::vector IS NOT NULL AND p.model_id = %s
                    THEN 1 - (p.embedding <=> %s::vector) END
        FROM search_passage p, (SELECT %s::tsquery AS query) q
        WHERE p.id = ANY(%s)
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*rank_params, literal, model_id or "", literal, terms.any_of(),
                             ids])
        return {
            row[0]: (float(row[1]), None if row[2] is None else float(row[2]))
            for row in cursor.fetchall()
        }


# --- Fusion and aggregation ----------------------------------------------------------------


def _minmax(values: dict[int, float]) -> dict[int, float]:
    if not values:
        return {}
    low, high = min(values.values()), max(values.values())
    if high - low < 1e-9:
        return dict.fromkeys(values, 1.0 if high > 0 else 0.0)
    return {k: (v - low) / (high - low) for k, v in values.items()}


def fuse(fulltext: dict[int, float], vector: dict[int, float], vector_weight: float
         ) -> dict[int, float]:
    """Weighted sum of min-max normalised scores; a passage missing a score gets 0 for it."""
    ft_norm = _minmax({k: v for k, v in fulltext.items() if v > 0})
    vec_norm = _minmax(vector)
    keys = set(fulltext) | set(vector)
    return {
        k: vector_weight * vec_norm.get(k, 0.0) + (1 - vector_weight) * ft_norm.get(k, 0.0)
        for k in keys
    }


def aggregate_pages(passage_scores: dict[int, float], passage_pages: dict[int, int],
                    bonus: float) -> list[tuple[int, float, int]]:
    """Pages ranked by best passage score plus ``bonus`` times the sum of further passages.

    The bonus is small and capped (at most one extra best score) so that a long page with many
    mediocre passages cannot outrank a short page with one excellent passage.
    Returns (page id, score, best passage id), best first.
    """
    by_page: dict[int, list[tuple[float, int]]] = defaultdict(list)
    for passage_id, score in passage_scores.items():
        by_page[passage_pages[passage_id]].append((score, passage_id))
    ranked = []
    for page_id, scored in by_page.items():
        scored.sort(key=lambda item: (-item[0], item[1]))
        best, best_id = scored[0]
        extra = sum(s for s, _ in scored[1:4])
        ranked.append((page_id, best + bonus * min(extra, max(best, 0.0)), best_id))
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked


def fuse_pages(fulltext: dict[int, float], vector: dict[int, float],
               passage_pages: dict[int, int], params: FusionParams
               ) -> list[tuple[int, float, int]]:
    """Fusion at page level: each retriever's evidence is first aggregated per page.

    A page whose title passage matches the words and whose body passage matches the meaning
    combines both, which passage-level fusion would miss (each passage would only carry one
    strong score). The snippet is the passage with the best fused passage score.
    """
    ft_pages = aggregate_pages({k: v for k, v in fulltext.items() if v > 0}, passage_pages,
                               params.passage_bonus)
    vec_pages = aggregate_pages(_minmax(vector), passage_pages, params.passage_bonus)
    ft_norm = _minmax({page: score for page, score, _best in ft_pages})
    vec_norm = _minmax({page: score for page, score, _best in vec_pages})
    passage_scores = fuse(fulltext, vector, params.vector_weight)
    best_passage: dict[int, tuple[float, int]] = {}
    for passage_id, score in passage_scores.items():
        page = passage_pages[passage_id]
        if page not in best_passage or (score, -passage_id) > (best_passage[page][0],
                                                                -best_passage[page][1]):
            best_passage[page] = (score, passage_id)
    weight = params.vector_weight
    ranked = [
        (page, weight * vec_norm.get(page, 0.0) + (1 - weight) * ft_norm.get(page, 0.0),
         best_passage[page][1])
        for page in best_passage
    ]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked


def reciprocal_rank_fusion(fulltext: dict[int, float], vector: dict[int, float],
                           passage_pages: dict[int, int], params: FusionParams, k: int = 60
                           ) -> list[tuple[int, float, int]]:
    """Plain RRF over the two page rankings (1/(k + rank) summed): only a baseline.

    It ignores how far apart the scores are, so a weak retriever's top ranks count as much as
    a strong one's; on our judged sets it loses to the better single mode.
    """
    scores: dict[int, float] = defaultdict(float)
    best: dict[int, int] = {}
    for ranking in (
        aggregate_pages({k_: v for k_, v in fulltext.items() if v > 0}, passage_pages,
                        params.passage_bonus),
        aggregate_pages(_minmax(vector), passage_pages, params.passage_bonus),
    ):
        for rank, (page, _score, passage) in enumerate(ranking, start=1):
            scores[page] += 1.0 / (k + rank)
            best.setdefault(page, passage)
    ranked = [(page, score, best[page]) for page, score in scores.items()]
    ranked.sort(key=lambda item: (-item[1], item[0]))
    return ranked


# --- The search ----------------------------------------------------------------------------


def _current_embedder():
    from search.embedding import EmbeddingUnavailable, get_embedder

    try:
        return get_embedder(), ""
    except EmbeddingUnavailable as exc:
        logger.warning("Semantic search unavailable, falling back to full text: %s", exc)
        return None, _(
            "Die semantische Suche ist gerade nicht verfügbar; es werden nur Treffer der "
            "Volltextsuche angezeigt."
        )


def _model_has_passages(model_id: str) -> bool:
    from search.models import Passage

    return Passage.objects.filter(model_id=model_id).exists()


def _index_model_mismatch() -> bool:
    from search.models import Passage

    return Passage.objects.exclude(embedding=None).exists()


@dataclass
class Ranking:
    """What :func:`rank_pages` found: ranked pages and the passage scores behind them."""

    pages: list[tuple[int, float, int]]  # (page id, score, best passage id), best first
    mode: str  # the effective mode (full text if the model was unavailable)
    notice: str  # German notice when degraded, else ""
    passage_scores: dict[int, float]  # candidate passage -> its (fused) score
    passage_pages: dict[int, int]  # candidate passage -> page


def rank_pages(query: str, *, user, mode: str, filters: SearchFilters,
               params: FusionParams, embedder=None) -> Ranking:
    """The full ranking of pages with its candidate passages' scores.

    Separate from :func:`search` so that the evaluation can rank without loading pages, and
    matching can explain its suggestions from the scores already computed.
    """
    with remembered_access(user):
        query = typos.with_corrections(query, user)  # issue 17: misspelt short queries
        return _rank_pages(query, user=user, mode=mode, filters=filters, params=params,
                           embedder=embedder)


def _rank_pages(query: str, *, user, mode: str, filters: SearchFilters,
                params: FusionParams, embedder) -> Ranking:
    notice = ""
    vector = model_id = None
    if mode in ("vector", "hybrid"):
        if embedder is None:
            embedder, notice = _current_embedder()
        if embedder is not None:
            model_id = embedder.model_id
            if not _model_has_passages(model_id) and _index_model_mismatch():
                notice = _(
                    "Der Suchindex wurde mit einem anderen Sprachmodell erstellt als dem "
                    "eingestellten; es werden nur Treffer der Volltextsuche angezeigt. Bitte "
                    "den Index mit „python manage.py rebuild_search_index“ neu aufbauen."
                )
                embedder = None
        if embedder is None:
            mode = "fulltext"
        else:
            from search.embedding import EmbeddingUnavailable

            try:
                vector = embedder.embed_query(query)
            except EmbeddingUnavailable as exc:
                logger.warning("Query embedding failed: %s", exc)
                notice = _(
                    "Die semantische Suche ist gerade nicht verfügbar; es werden nur Treffer "
                    "der Volltextsuche angezeigt."
                )
                mode = "fulltext"

    if mode == "fulltext":
        rows = fulltext_candidates(query, user, filters, params, params.fulltext_candidates)
        scores = {pid: rank for pid, _page, rank in rows}
        pages = {pid: page for pid, page, _rank in rows}
        top = max(scores.values(), default=0.0) or 1.0
        scores = {k: v / top for k, v in scores.items()}
    elif mode == "vector":
        rows = vector_candidates(vector, model_id, user, filters, params, params.candidates)
        # Normalised like in hybrid mode, so the multi-passage bonus means the same thing
        # (raw cosine similarities of one query are squeezed into a narrow band).
        scores = _minmax({pid: sim for pid, _page, sim in rows})
        pages = {pid: page for pid, page, _sim in rows}
    else:
        vec_rows = vector_candidates(vector, model_id, user, filters, params, params.candidates)
        terms = term_weights(query, params, user)
        ft_rows = fulltext_candidates(query, user, filters, params, params.candidates,
                                      terms=terms, exact=params.exact_hybrid_fulltext)
        pages = {pid: page for pid, page, _ in vec_rows} | {pid: page for pid, page, _ in ft_rows}
        vec = {pid: sim for pid, _page, sim in vec_rows}
        ft = {pid: rank for pid, _page, rank in ft_rows}
        missing = [pid for pid in pages if pid not in vec or pid not in ft]
        for pid, (rank, sim) in _exact_scores(missing, query, vector, model_id, params,
                                              user, terms=terms).items():
            ft.setdefault(pid, rank)
            if sim is not None:
                vec.setdefault(pid, sim)
        scores = fuse(ft, vec, params.vector_weight)
        if params.fusion_level == "page":
            return Ranking(fuse_pages(ft, vec, pages, params), mode, notice, scores, pages)
        if params.fusion_level == "rrf":  # the naive baseline, kept for the evaluation
            return Ranking(reciprocal_rank_fusion(ft, vec, pages, params), mode, notice,
                           scores, pages)
    return Ranking(aggregate_pages(scores, pages, params.passage_bonus), mode, notice, scores,
                   pages)


def search(
    query: str,
    *,
    user=None,
    mode: str = "hybrid",
    limit: int = 10,
    offset: int = 0,
    filters: SearchFilters | None = None,
    request=None,
    params: FusionParams | None = None,
) -> SearchResults:
    """Search pages the user may see; ``query`` and ``mode`` are validated here as well.

    Raises :class:`SearchError` (German message) for invalid input. A missing or unusable
    embedding model is not an error: the result is full text with ``degraded=True``.
    """
    query = clean_query(query)
    requested = clean_mode(mode)
    filters = filters or SearchFilters()
    params = params or FusionParams.from_settings()
    limit = max(1, min(int(limit), 100))
    offset = max(0, int(offset))
    ranking = rank_pages(query, user=user, mode=requested, filters=filters, params=params)
    ranked, effective, notice = ranking.pages, ranking.mode, ranking.notice
    window = ranked[offset:offset + limit]
    return SearchResults(
        query=query,
        mode=effective,
        requested_mode=requested,
        results=_load_hits(window, query, params, request),
        total=len(ranked),
        offset=offset,
        limit=limit,
        degraded=effective != requested,
        notice=notice,
        facets=_facets([page_id for page_id, _s, _p in ranked]),
        ranked_page_ids=[page_id for page_id, _s, _p in ranked],
    )


class Headline(NamedTuple):
    heading: str
    snippet: str  # HTML: escaped text with <mark> around query terms
    attachment: AttachmentRef | None  # the file a passage was read from, if any


def _headlines(passage_ids: Sequence[int], query: str, params: FusionParams
               ) -> dict[int, Headline]:
    """Passage id -> :class:`Headline`.

    The snippet is PostgreSQL's ts_headline with the same (German, OR) query as full text.
    """
    if not passage_ids:
        return {}
    text = tsquery_text(query, params.prefix_min_length)
    options = (
        f"StartSel={_MARK_START}, StopSel={_MARK_END}, MaxWords=35, MinWords=15, "
        "ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \""
    )
    sql = """
        SELECT p.id, p.heading, ts_headline('german',
               translate(p.text, %s, ''), to_tsquery('german', %s), %s),
               p.document_id, d.title, d.file, p.source_page
        FROM search_passage p LEFT JOIN wagtaildocs_document d ON d.id = p.document_id
        WHERE p.id = ANY(%s)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [_MARK_START + _MARK_END, text, options, list(passage_ids)])
        rows = cursor.fetchall()
    return {pid: Headline(heading, highlight_html(headline), AttachmentRef.from_row(*source))
            for pid, heading, headline, *source in rows}


def highlight_html(headline: str) -> str:
    """Escape everything, then turn the sentinels back into <mark> elements."""
    html = str(escape(headline))
    return html.replace(_MARK_START, "<mark>").replace(_MARK_END, "</mark>")


# The shown pages' columns in one statement (knowledge page, municipality, topics by name).
_HITS_SQL = """
    SELECT wp.id, wp.title, wp.content_type_id, wp.url_path, kp.external_id, kp.date, m.name,
           m.slug, ARRAY(SELECT t.name FROM knowledge_knowledgepage_topics kt
                         JOIN knowledge_topic t ON t.id = kt.topic_id
                         WHERE kt.knowledgepage_id = wp.id ORDER BY t.name)
    FROM wagtailcore_page wp
    JOIN knowledge_knowledgepage kp ON kp.page_ptr_id = wp.id
    JOIN knowledge_municipality m ON m.id = kp.municipality_id
    WHERE wp.id = ANY(%s)
"""


def page_url(page_id: int, url_path: str, request) -> str:
    """A page's URL from its id and ``url_path``, as ``Page.get_url`` computes it.

    Result lists need nothing else of a page: a page instance with just these two fields
    (``Model.from_db``) saves loading the whole specific page.
    """
    from wagtail.models import Page

    return Page.from_db("default", ["id", "url_path"], [page_id, url_path]).get_url(
        request=request) or ""


def _load_hits(window, query, params, request) -> list[SearchHit]:
    """The shown results as plain values: one query for the pages, one for the snippets."""
    if not window:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_HITS_SQL, [[page_id for page_id, _s, _p in window]])
        rows = {row[0]: row for row in cursor.fetchall()}
    snippets = _headlines([passage_id for _page, _s, passage_id in window], query, params)
    hits = []
    for page_id, score, passage_id in window:
        if page_id not in rows:  # deleted between ranking and loading
            continue
        (_pk, title, content_type_id, url_path, external_id, date, municipality,
         municipality_slug, topics) = rows[page_id]
        knowledge_type = knowledge_type_of(content_type_id)
        heading, snippet, attachment = snippets.get(passage_id, ("", "", None))
        hits.append(SearchHit(
            page_id=page_id,
            title=title,
            url=page_url(page_id, url_path, request),
            knowledge_type=knowledge_type,
            type_label=str(TYPE_LABELS.get(knowledge_type, "")),
            municipality=municipality,
            municipality_slug=municipality_slug,
            external_id=external_id,
            score=score,
            snippet=snippet,
            heading=heading,
            attachment=attachment,
            date=date,
            topics=list(topics),
        ))
    return hits


def _facets(page_ids: list[int]) -> dict[str, list[Facet]]:
    """Counts per type, municipality and topic over the (already permitted) result pages.

    One query for all three: every search shows the facets, and each round trip counts.
    """
    if not page_ids:
        return {"types": [], "municipalities": [], "topics": []}
    # Index lookups by id (``= ANY``), not a join with a set of ids: for the few hundred pages
    # of a result list the planner hashed the whole page and topic tables instead.
    sql = """
        SELECT 'type', wp.content_type_id, '', '', count(*)
        FROM wagtailcore_page wp WHERE wp.id = ANY(%(ids)s) GROUP BY wp.content_type_id
        UNION ALL
        SELECT 'municipality', m.id, m.slug, m.name, count(*)
        FROM knowledge_knowledgepage kp JOIN knowledge_municipality m ON m.id = kp.municipality_id
        WHERE kp.page_ptr_id = ANY(%(ids)s) GROUP BY m.id
        UNION ALL
        SELECT 'topic', t.id, t.slug, t.name, count(*)
        FROM knowledge_knowledgepage_topics kt JOIN knowledge_topic t ON t.id = kt.topic_id
        WHERE kt.knowledgepage_id = ANY(%(ids)s) GROUP BY t.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": list(dict.fromkeys(page_ids))})
        rows = cursor.fetchall()
    type_counts: dict[str, int] = defaultdict(int)
    municipalities, topics = [], []
    for kind, key, slug, name, count in rows:
        if kind == "type":
            type_counts[knowledge_type_of(key)] += count
        elif kind == "municipality":
            municipalities.append(Facet(slug, name, count))
        else:
            topics.append(Facet(slug, name, count))

    def ordered(items):
        return sorted(items, key=lambda f: (-f.count, f.label.lower()))

    return {
        "types": ordered(Facet(k, str(TYPE_LABELS[k]), n) for k, n in type_counts.items()
                         if k in TYPE_LABELS),
        "municipalities": ordered(municipalities),
        "topics": ordered(topics),
    }
