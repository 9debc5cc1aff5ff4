"""The query log: what people search for and whether they found it, without who searched.

The search page, the search API and the matching page call :func:`log_query` once per
request. Only the query text (cut to 300 characters: matching descriptions are long), the
surface, the mode, whether filters were set and the number of results are stored; no user,
session, address or filter values. ``purge_query_log`` deletes entries older than
``KNOWLEDGE_QUERY_LOG_RETENTION_DAYS`` (default 180).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from knowledge.text import strip_control_characters
from network.models import QueryLog

MAX_LOGGED_LENGTH = 300


def normalize_query(text: str) -> str:
    """Case and whitespace folded, so "E-Akte" and " e-akte " count as one query."""
    return " ".join(text.lower().split())[:MAX_LOGGED_LENGTH]


def log_query(surface: str, query: str, result_count: int, mode: str = "",
              filtered: bool = False) -> QueryLog | None:
    """Store one query; an empty query is not a search and is not stored."""
    text = " ".join(strip_control_characters(query or "").split())[:MAX_LOGGED_LENGTH]
    if not text:
        return None
    return QueryLog.objects.create(query=text, normalized=normalize_query(text),
                                   surface=surface, mode=mode or "", filtered=filtered,
                                   result_count=result_count)


def retention_days() -> int:
    return int(getattr(settings, "KNOWLEDGE_QUERY_LOG_RETENTION_DAYS", 180))


def purge_old_entries(now: dt.datetime | None = None) -> int:
    """Delete log entries older than the retention period; returns how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=retention_days())
    deleted, _ = QueryLog.objects.filter(created_at__lt=cutoff).delete()
    return deleted
