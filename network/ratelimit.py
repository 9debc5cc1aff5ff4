"""A fixed-window counter in the cache: enough to stop a script from flooding feedback.

Counted per process (the cache is per process), like the API limits; the limit is given as
``"N/m"``, ``"N/h"`` or ``"off"`` (also ``"0"`` or empty).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache

from knowledge.audit import client_address

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int] | None:
    """``"10/m"`` -> (10, 60); ``"off"``, ``"0"`` or empty -> None (as the API's limits)."""
    if rate.strip().lower() in ("off", "0", ""):
        return None
    count, _, period = rate.strip().partition("/")
    return int(count), _PERIODS[period.strip()[:1]]


def allow(scope: str, key: str, rate: str) -> bool:
    """Count one request of ``key``; False once the window's limit is exceeded."""
    parsed = parse_rate(rate)
    if parsed is None:
        return True
    limit, seconds = parsed
    window = int(time.time() // seconds)
    cache_key = f"ratelimit:{scope}:{key}:{window}"
    cache.add(cache_key, 0, timeout=seconds + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, timeout=seconds + 1)
        count = 1
    return count <= limit


def allow_matching(request, returning: bool = False) -> bool:
    """``KNOWLEDGE_MATCH_RATE_LIMIT`` ("anonymous per address, members per account"), for
    ``/lernen/`` and ``POST /api/v1/match`` alike: each matching embeds a description of up to
    5,000 characters, several times a search query's work.

    Returns after votes (which run the matching again) count apart from new descriptions:
    voting on several suggestions is not describing many projects, and still bounded."""
    anonymous, _comma, member = settings.KNOWLEDGE_MATCH_RATE_LIMIT.partition(",")
    scope = "match-return" if returning else "match"
    if request.user.is_authenticated:
        return allow(f"{scope}-member", str(request.user.pk), (member or anonymous))
    return allow(f"{scope}-address", client_address(request), anonymous)
