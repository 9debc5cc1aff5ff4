"""The "passages changed" announcement: the one thing indexing tells the rest of the project.

A module of its own so that the writer, the signal handlers and every listener (related-content
caches, subscriptions) depend on it, and it on nothing of theirs: that breaks the old
``indexing`` -> ``signals`` -> ``tasks`` -> ``indexing`` import cycle.

:data:`passages_changed` is sent (and ``IndexGeneration`` bumped, the key of related-content
caches in every process) after the commit of every index write, with ``page_ids`` (the pages
whose passages or visibility changed; empty list: "anything may have changed").
"""

from __future__ import annotations

from django.dispatch import Signal

from search.models import IndexGeneration, Passage

passages_changed = Signal()


def announce(page_ids: list[int], sender=None, **extra) -> None:
    """After commit: invalidate related-content caches (all processes) and tell listeners."""
    IndexGeneration.bump()
    passages_changed.send(sender=sender or Passage, page_ids=list(page_ids), **extra)
