"""The query log: what people search for and whether they found it, without who searched.

The search page, the search API and the matching page call :func:`log_query` once per
request. Only the query text (cut to 300 characters: matching descriptions are long; e-mail
addresses and telephone numbers masked), the surface, the mode, whether filters were set, the
number of results and of pages containing the query's words are stored; no user, session,
address or filter values. ``purge_query_log`` deletes entries older than
``KNOWLEDGE_QUERY_LOG_RETENTION_DAYS`` (default 180).
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from knowledge.text import strip_control_characters
from network.models import QueryLog

MAX_LOGGED_LENGTH = 300
# "ohne Treffer" in the reports: nothing shown, or no page containing a word of the query
# (hybrid search always shows the semantically nearest pages, however far they are).
NO_RESULTS = Q(result_count=0) | Q(word_hits=0)


def normalize_query(text: str) -> str:
    """Case and whitespace folded, so "E-Akte" and " e-akte " count as one query."""
    return " ".join(text.lower().split())[:MAX_LOGGED_LENGTH]


def log_query(surface: str, query: str, result_count: int, mode: str = "",
              filtered: bool = False, word_hits: int | None = None) -> QueryLog | None:
    """Store one query; an empty query is not a search and is not stored.

    E-mail addresses and telephone numbers in the query are masked first: people paste
    them ("Beschwerde max.mustermann@…"), and the log must not point to a person.
    """
    text = logged_text(query)
    if not text:
        return None
    return QueryLog.objects.create(query=text, normalized=normalize_query(text),
                                   surface=surface, mode=mode or "", filtered=filtered,
                                   result_count=result_count, word_hits=word_hits)


def logged_text(query: str) -> str:
    """The query as the log stores it: one line, personal data masked, at most the column."""
    text = mask_personal_data(" ".join(strip_control_characters(query or "").split()))
    return text[:MAX_LOGGED_LENGTH]


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Six or more digits, optionally with a leading + and the separators people type in numbers.
_PHONE = re.compile(r"(?<![\w])\+?\d(?:[\d /().-]{4,}\d)(?![\w])")


def mask_personal_data(text: str) -> str:
    """``[E-Mail]`` for e-mail addresses, ``[Telefon]`` for telephone-like digit runs
    (six digits or more; years and section numbers such as "2024" or "§ 35a" stay)."""
    text = _EMAIL.sub("[E-Mail]", text)
    return _PHONE.sub(lambda m: "[Telefon]" if sum(c.isdigit() for c in m.group()) >= 6
                      else m.group(), text)


def retention_days() -> int:
    return int(getattr(settings, "KNOWLEDGE_QUERY_LOG_RETENTION_DAYS", 180))


def purge_old_entries(now: dt.datetime | None = None) -> int:
    """Delete log entries older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    deleted, _ = QueryLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted
