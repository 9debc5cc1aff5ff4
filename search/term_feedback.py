"""Pseudo-relevance feedback on the full-text side of hybrid search (RM3-style expansion).

Why: a paraphrase or a record's description shares few words with its answer, but the answer
shares words with the first ranking's best pages (records of the same kind use the same
vocabulary). After the first fusion, the lexemes of the top ``term_feedback_pages`` pages
(all their passages, as stored in ``search_passage.search_vector``) are counted per page; the
lexemes in at least two of these pages that are not query terms are ranked by
pages × BM25 IDF, and the best ``term_feedback_terms`` are added to the query as BM25 terms of
weight ``term_feedback_weight`` (times their IDF, with the query's own length normalisation
and title weight). Only the candidate passages are scored again, in one statement: no new
candidates, no scan of the index, no model call. The feedback pages are candidates, so
the user may see them (visibility is per page), and the document frequencies are counted over
passages the user may see, like the query's own (:mod:`search.statistics`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.db import connection

from search.fulltext import length_normalisation, term_score_sql
from search.fusion import fuse_pages
from search.params import FusionParams
from search.query import int_array
from search.statistics import (
    QueryTerms,
    bm25_idf,
    corpus_size,
    lexeme_frequencies,
    quoted_lexeme,
)

# A lexeme in a normalised tsquery text, optionally prefix-marked (as in search.fulltext).
_LEXEME_RE = re.compile(r"'((?:[^']|'')*)'(?::(\*))?")
# A lexeme must occur in at least this many feedback pages: a word of one page only says
# nothing about what the good answers share (and would only lift that page).
MIN_FEEDBACK_PAGES = 2


def applies(terms: QueryTerms, params: FusionParams) -> bool:
    """Whether a query of these terms gets full-text feedback (long enough, switched on)."""
    return params.term_feedback_pages > 0 and len(terms.terms) >= params.term_feedback_min_terms


def expand(fulltext: dict[int, float], vector: dict[int, float], pages: dict[int, int],
           terms: QueryTerms, params: FusionParams, user=None) -> list[tuple[str, float]]:
    """Add the expansion terms' BM25 scores to ``fulltext`` (in place) and return the terms.

    ``fulltext``, ``vector`` and ``pages`` are hybrid search's candidate pools (every candidate
    with both exact scores); their first fusion picks the feedback pages.
    """
    first = fuse_pages(fulltext, vector, pages, params)
    feedback = [page for page, _score, _best in first[:params.term_feedback_pages]]
    expansion = expansion_terms(feedback, terms, params, user)
    for passage_id, score in expansion_scores(list(pages), expansion, terms, params).items():
        fulltext[passage_id] = fulltext.get(passage_id, 0.0) + score
    return expansion


def expansion_terms(feedback_pages: Sequence[int], terms: QueryTerms, params: FusionParams,
                    user=None) -> list[tuple[str, float]]:
    """(lexeme, BM25 IDF) of the best expansion terms from the feedback pages, best first.

    Counted per page: the lexemes of all passages of each page. Lexemes that are query terms,
    or that a prefix term of the query matches, are left out, and so are lexemes that are not
    plain words (numbers, paths, e-mail addresses).
    """
    if len(feedback_pages) < MIN_FEEDBACK_PAGES or params.term_feedback_terms <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.lexeme, count(DISTINCT p.page_id) FROM search_passage p, "
            "unnest(p.search_vector) u WHERE p.page_id = ANY(%s::int[]) "
            "AND u.lexeme ~ '^[[:alpha:]]+$' "
            "GROUP BY u.lexeme HAVING count(DISTINCT p.page_id) >= %s",
            [int_array(feedback_pages), MIN_FEEDBACK_PAGES])
        counts = {lexeme: count for lexeme, count in cursor.fetchall()
                  if not _in_query(lexeme, terms)}
    if not counts:
        return []
    frequencies = lexeme_frequencies(counts, user)
    total = corpus_size(user)
    ranked = sorted(((count * bm25_idf(frequencies[lexeme], total), lexeme)
                     for lexeme, count in counts.items()), key=lambda item: (-item[0], item[1]))
    return [(lexeme, bm25_idf(frequencies[lexeme], total))
            for _score, lexeme in ranked[:params.term_feedback_terms]]


def expansion_scores(passage_ids: Sequence[int], expansion: Sequence[tuple[str, float]],
                     terms: QueryTerms, params: FusionParams) -> dict[int, float]:
    """The expansion terms' part of each passage's BM25 score (passages without any: none).

    The same term factor as :func:`search.fulltext.rank_sql` (the query's ``b``, a title
    lexeme counting as ``1 + title_boost`` occurrences), times ``term_feedback_weight`` × IDF.
    """
    if not passage_ids or not expansion:
        return {}
    b = length_normalisation(len(terms.terms), params)
    parts, sql_params = [], []
    for lexeme, idf in expansion:
        quoted = quoted_lexeme(lexeme)
        part, part_params = term_score_sql(quoted, quoted + ":A",
                                           params.term_feedback_weight * idf, b,
                                           terms.average_length, params)
        parts.append(part)
        sql_params += part_params
    any_of = " | ".join(quoted_lexeme(lexeme) for lexeme, _idf in expansion)
    sql = f"""
        SELECT p.id, {' + '.join(parts)} FROM search_passage p
        WHERE p.id = ANY(%s::bigint[]) AND p.search_vector @@ %s::tsquery
    """  # noqa: S608 - only fixed SQL fragments are interpolated; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*sql_params, int_array(passage_ids), any_of])
        return {row[0]: float(row[1]) for row in cursor.fetchall()}


def _in_query(lexeme: str, terms: QueryTerms) -> bool:
    """Whether a query term matches the lexeme already (exactly or as its prefix)."""
    for term in terms.terms:
        for word, prefix in _lexemes(term):
            if lexeme == word or (prefix and lexeme.startswith(word)):
                return True
    return False


def _lexemes(term: str) -> list[tuple[str, bool]]:
    """(lexeme, is prefix) of a normalised tsquery term such as ``'abfal':*``."""
    return [(m.group(1).replace("''", "'"), m.group(2) == "*") for m in _LEXEME_RE.finditer(term)]
