"""German compound splitting for full text: the parts of a compound as extra words.

PostgreSQL's ``german`` configuration stems whole words only, so "Beteiligung" never matches
"Bürgerbeteiligung" and "Akten scannen" never matches "Aktenscannen" (prefix matching helps
only with the first part). At index time the parts of every long word of a passage are stored
beside its text (``Passage.compound_parts``, ``Passage.title_parts`` for the page title) and go
into the same ``tsvector`` with the same weight as the word they come from; at query time the
parts of the query's words are added as extra OR terms. Both sides then meet on the parts.

The splitter is ``compound-split`` (CharSplit's n-gram model of German word beginnings, middles
and ends, Tuggener 2016): it scores every split point of a word and needs no dictionary. It
was measured against PostgreSQL's ispell template with Debian's ``hunspell-de-de`` files (no
word split at all: igerman98 marks compound parts through affix continuation flags, which
PostgreSQL's Hunspell support does not implement) and ``german-nouns`` (Wiktionary nouns, also
splits non-compounds such as "Präsentation" into nonsense); see docs/search-ranking.md, fifth
round. Only confident splits with parts of at least :data:`MIN_PART` letters are kept, so
"Technikpauschale" does not yield "Pau" and "Schale" and ordinary words stay whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

#: Words shorter than this are never split (two parts of MIN_PART letters at least).
MIN_WORD = 8
#: Shortest part kept; shorter ones ("Rat", "Bei", "Vor") match too much.
MIN_PART = 4
#: CharSplit score a split must exceed (measured: 0 splits "Termin" into "Ter" + "Min").
MIN_SCORE = 0.5

_WORD_RE = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _splitter():
    """CharSplit's module, imported on first use: its n-gram tables (German and Dutch, as
    Python literals) take about 350 MB and 5–20 s to load, which processes that never search
    or index (most management commands) should not pay."""
    from compound_split import char_split

    return char_split


@lru_cache(maxsize=100_000)
def split_word(word: str) -> tuple[str, ...]:
    """The parts of a German compound (recursively split), or ``()`` if it is none."""
    if len(word) < MIN_WORD:
        return ()
    score, head, tail = _splitter().split_compound(word)[0]
    if score <= MIN_SCORE or len(head) < MIN_PART or len(tail) < MIN_PART:
        return ()
    parts: list[str] = []
    for part in (head, tail):
        parts.extend(split_word(part) or (part,))
    return tuple(parts)


def parts_of(words: Iterable[str]) -> list[str]:
    """Distinct compound parts of the given words (in order), none equal to a given word."""
    words = list(words)
    seen = {word.lower() for word in words}
    parts: list[str] = []
    for word in words:
        for part in split_word(word) if word.isalpha() else ():
            if part.lower() not in seen:
                seen.add(part.lower())
                parts.append(part)
    return parts


def text_parts(text: str) -> str:
    """The compound parts of a text, space-separated, for the passage's ``tsvector``."""
    return " ".join(parts_of(_WORD_RE.findall(text or "")))


def passage_parts(kind: str, heading: str, text: str) -> dict[str, str]:
    """``title_parts`` and ``compound_parts`` of a passage, as ``Passage.search_vector`` weighs
    them: the overview's heading is the page title (weight A), the rest weight B."""
    if kind == "overview":
        return {"title_parts": text_parts(heading), "compound_parts": text_parts(text)}
    return {"title_parts": "", "compound_parts": text_parts(f"{heading} {text}")}


def expand_query_tokens(tokens: list[str]) -> list[str]:
    """The query's tokens followed by the compound parts of its words (query side), unless
    ``KNOWLEDGE_SEARCH_DECOMPOUND_QUERY`` is off (then only the index side splits)."""
    from django.conf import settings

    if not getattr(settings, "KNOWLEDGE_SEARCH_DECOMPOUND_QUERY", True):
        return tokens
    return tokens + parts_of(tokens)
