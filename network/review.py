""""Aktualität prüfen": pages whose review-by date has passed or that nobody touched for long.

A page is due when its ``review_by`` date (set by the editor) is today or earlier, or, without
such a date, when it was last published more than ``KNOWLEDGE_REVIEW_AFTER_MONTHS`` months
(default 12) ago. The dashboard lists them; page owners get a reminder in their digest, and
when a page's owner will not (no owner, a deactivated account, one without an e-mail address,
or one that may no longer edit the page), the colleagues of its municipality who may edit it
do (:func:`unattended`).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone


def review_after_months() -> int:
    return int(getattr(settings, "KNOWLEDGE_REVIEW_AFTER_MONTHS", 12))


def due_filter(months: int | None = None, today: dt.date | None = None) -> Q:
    today = today or timezone.localdate()
    months = review_after_months() if months is None else months
    published_before = timezone.now() - dt.timedelta(days=round(months * 30.44))
    return Q(review_by__lte=today) | Q(review_by__isnull=True,
                                       last_published_at__lt=published_before)


def due_pages(months: int | None = None, today: dt.date | None = None):
    """Live knowledge pages due for review, the most overdue first."""
    from knowledge.models import KnowledgePage

    return (KnowledgePage.objects.live().filter(due_filter(months, today))
            .select_related("municipality", "owner").order_by("review_by", "last_published_at"))


def unattended(pages) -> list:
    """The pages among ``pages`` whose owner gets no reminder: none, a deactivated account, an
    account without an e-mail address, or one that may no longer edit the page.

    A lesson whose author left the municipality would otherwise go stale unnoticed by anyone
    but the Redaktion's report; its colleagues may edit it (:mod:`knowledge.colleague_editing`)
    and are reminded instead.
    """
    owners: dict[int, object] = {}
    found = []
    for page in pages:
        owner = page.owner
        if owner is None or not owner.is_active or not owner.email:
            found.append(page)
            continue
        # One user object per owner: Wagtail remembers an account's permissions on it.
        owner = owners.setdefault(owner.pk, owner)
        if not page.permissions_for_user(owner).can_edit():
            found.append(page)
    return found
