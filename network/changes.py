"""Which publications are digest material: first publications and substantial updates.

A page counts as substantially updated when its text (the passages the search indexes,
title, summary and body) differs from the text last announced by more than
``KNOWLEDGE_SUBSTANTIAL_CHANGE`` (share of changed words, default 0.2). Fixing a typo
must not put a page into forty digests.
"""

from __future__ import annotations

import difflib

from django.conf import settings
from django.utils import timezone

from network.models import PageChange, PageText


def page_text(page) -> str:
    from search.indexing.chunking import CharBudget
    from search.indexing.page_chunks import chunk_page

    return "\n".join(f"{c.heading}\n{c.text}" for c in chunk_page(page, CharBudget(1_000_000)))


def changed_share(old: str, new: str) -> float:
    """0.0 for identical texts, 1.0 for texts without anything in common (compared word by
    word: characters would make long protocols quadratic)."""
    return 1.0 - difflib.SequenceMatcher(None, old.split(), new.split(), autojunk=False).ratio()


def record_publication(page) -> PageChange | None:
    """Remember a publication if it is new or substantial; returns the change row, if any."""
    text = page_text(page)
    snapshot = PageText.objects.filter(page_id=page.pk).first()
    now = timezone.now()
    if snapshot is None:
        PageText.objects.create(page_id=page.pk, text=text)
        return PageChange.objects.create(page_id=page.pk, kind=PageChange.Kind.NEW,
                                         changed_at=now)
    threshold = float(getattr(settings, "KNOWLEDGE_SUBSTANTIAL_CHANGE", 0.2))
    if changed_share(snapshot.text, text) < threshold:
        return None
    snapshot.text = text
    snapshot.save(update_fields=["text"])
    return PageChange.objects.create(page_id=page.pk, kind=PageChange.Kind.UPDATED,
                                     changed_at=now)


def on_page_published(sender, instance, **kwargs):
    from knowledge.models import KnowledgePage

    specific = instance.specific
    if isinstance(specific, KnowledgePage):
        record_publication(specific)
