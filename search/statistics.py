"""BM25 statistics of the query terms over the passages the user may see, cached.

``ts_rank_cd`` has no notion of how rare a word is; BM25's IDF needs document frequencies, the
passage count and the average passage length. They are counted over visible passages only (a
side channel otherwise) and cached per index generation and visibility class.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection

from knowledge.access import visibility_key
from search.access_sql import filter_sql
from search.params import FusionParams
from search.query import SearchFilters, prefixed_tokens

# Index statistics are keyed by the index generation; the timeout only bounds cache memory.
STATISTICS_CACHE_SECONDS = 3600


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
    tokens = prefixed_tokens(query, params.prefix_min_length)
    if not tokens:
        return QueryTerms([], [], [], 1.0)
    key = scope_key(user)
    total, average_length = _corpus_statistics(key, user)
    frequencies = _document_frequencies(tokens, key, user)
    terms = sorted(frequencies)
    # A term cannot be in more passages than there are (counts of one generation agree, but a
    # negative IDF must never be possible).
    weights = [bm25_idf(frequencies[t], total) for t in terms]
    return QueryTerms(terms, weights, [frequencies[t] for t in terms], average_length)


def scope_key(user) -> str:
    """Cache-key prefix of what depends on the index and on what the user may see.

    The index generation changes with every passage write and the visibility key with the
    user's denied pages, so a value cached under it is never stale.
    """
    from search.models import IndexGeneration

    return f"search:stats:{IndexGeneration.current()}:{visibility_key(user)}"


def _corpus_statistics(key: str, user) -> tuple[int, float]:
    """Number and average length of the passages the user may see (one scan per generation)."""
    cached = cache.get(key)
    if cached is None:
        where, where_params = filter_sql(user, SearchFilters())
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
    return _counted(normalised_terms(tokens), key, user)


def normalised_terms(tokens: list[str]) -> list[str]:
    """The distinct tsquery texts of ``tokens`` under the German configuration, sorted.

    ``to_tsquery('german', …)`` stems a token and drops stop words (``''``). The answer
    depends on the token alone, so it is remembered: the statement cost a round trip per
    search, and it was the first of a hybrid search, competing with the query embedding.
    """
    keys = {token: "search:tsquery:" + _cache_safe(token) for token in tokens}
    known = cache.get_many(list(keys.values()))
    missing = [token for token in dict.fromkeys(tokens) if keys[token] not in known]
    if missing:
        with connection.cursor() as cursor:
            cursor.execute("SELECT tok, to_tsquery('german', tok)::text "
                           "FROM unnest(%s::text[]) AS u(tok)", [missing])
            found = {keys[token]: term for token, term in cursor.fetchall()}
        cache.set_many(found, STATISTICS_CACHE_SECONDS)
        known.update(found)
    return sorted({known[keys[token]] for token in tokens} - {""})


def lexeme_frequencies(lexemes: Iterable[str], user=None) -> dict[str, int]:
    """Visible passages containing each (already stemmed) lexeme, cached like query terms.

    For terms that do not come from the user's words but from the index itself (full-text
    pseudo-relevance feedback, :mod:`search.term_feedback`). Keys are the lexemes.
    """
    quoted = {lexeme: quoted_lexeme(lexeme) for lexeme in lexemes}
    counted = _counted(list(quoted.values()), scope_key(user), user)
    return {lexeme: counted[term] for lexeme, term in quoted.items()}


def quoted_lexeme(lexeme: str) -> str:
    """tsquery text matching exactly this lexeme (no stemming: ``'text'::tsquery``)."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def corpus_size(user=None) -> int:
    """Number of passages the user may see (BM25's N), cached per index generation."""
    return _corpus_statistics(scope_key(user), user)[0]


def bm25_idf(frequency: int, total: int) -> float:
    """BM25's IDF of a term in ``frequency`` of ``total`` passages (never negative)."""
    return math.log(1 + (total - min(frequency, total) + 0.5) / (frequency + 0.5))


def _counted(terms: list[str], key: str, user) -> dict[str, int]:
    """Visible passages per normalised tsquery text: cached counts, the rest via GIN."""

    def count(missing: list[str]) -> dict[str, int]:
        where, where_params = filter_sql(user, SearchFilters())
        sql = f"""
            SELECT t.term, (SELECT count(*) FROM search_passage p
                            JOIN wagtailcore_page wp ON wp.id = p.page_id
                            WHERE p.search_vector @@ t.term::tsquery AND {where})
            FROM unnest(%s::text[]) AS t(term)
        """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
        with connection.cursor() as cursor:
            cursor.execute(sql, [*where_params, missing])
            return dict(cursor.fetchall())

    return remembered_per_item(key + ":df:", terms, count)


def remembered_per_item(prefix: str, items: Iterable[str], compute) -> dict:
    """Each item's value, from the cache under ``prefix`` or from ``compute(missing items)``.

    ``compute`` returns a dict with a value for every item it is given; the values are cached
    for the rest of the index generation (``prefix`` starts with :func:`scope_key`). Shared by
    the document frequencies and the typo check's lookups.
    """
    keys = {item: prefix + _cache_safe(item) for item in items}
    cached = cache.get_many(list(keys.values()))
    values = {item: cached[key] for item, key in keys.items() if key in cached}
    missing = [item for item in keys if item not in values]
    if missing:
        computed = compute(missing)
        cache.set_many({keys[item]: computed[item] for item in missing},
                       STATISTICS_CACHE_SECONDS)
        values.update(computed)
    return values


def _cache_safe(term: str) -> str:
    """Cache keys must be short ASCII: terms are hashed."""
    return hashlib.sha256(term.encode()).hexdigest()[:24]
