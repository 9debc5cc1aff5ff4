"""``send_digests``: one e-mail per member and period, never twice, nothing lost.

How it stays idempotent and crash-safe:

1. For every member due (daily or weekly, on their own schedule: the previous due time plus
   the period, so hourly runs do not drift), a :class:`Digest` row for the period
   (``2026-12-03`` or ``2026-W49``) is created with its window [end of the last window,
   now). The unique (user, period) key means a second run in the same period finds the row
   instead of making another.
2. Each pending digest is sent inside a transaction that holds its row lock
   (``select_for_update(skip_locked=True)``, so two runners never send the same digest); the
   content is computed right then, with the member's permissions at sending time. The row is
   marked sent and the member's watermark advanced in the same transaction.
3. If the run dies before that commit, the row stays pending with the same window, and the
   next run sends it: nothing is lost, and digests already committed are never sent again.
   The Message-ID is derived from the digest, so in the one unavoidable case (the SMTP server
   accepted the message but the process died before the commit) the resend carries the same
   Message-ID and mail clients show it once.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from network.matching import kinds_by_page, matching_pages
from network.models import Digest, DigestSettings, PageChange, Subscription
from network.review import due_pages, unattended
from network.tokens import make_token
from search.models import PageIndexState, Passage

logger = logging.getLogger("network.digests")

PERIOD_LENGTH = {
    DigestSettings.Frequency.DAILY: dt.timedelta(days=1),
    DigestSettings.Frequency.WEEKLY: dt.timedelta(days=7),
}
# A run a little early (cron jitter) still counts as the next period.
TOLERANCE = dt.timedelta(hours=2)


@dataclass
class RunReport:
    sent: int = 0
    empty: int = 0
    failed: int = 0


def period_key(frequency: str, now: dt.datetime) -> str:
    local = timezone.localtime(now)
    if frequency == DigestSettings.Frequency.DAILY:
        return local.date().isoformat()
    year, week, _ = local.isocalendar()
    return f"{year}-W{week:02d}"


def absolute_url(path: str) -> str:
    return urljoin(settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/", path.lstrip("/"))


def _candidate_user_ids() -> set[int]:
    """Members who follow something, own a page due for review, or belong to a municipality
    with a due page whose owner gets no reminder (:func:`network.review.unattended`)."""
    from knowledge.models import MunicipalityMember

    subscribers = set(Subscription.objects.values_list("user_id", flat=True))
    due = list(due_pages())  # one read for the owners and the unattended pages
    owners = {page.owner_id for page in due if page.owner_id is not None}
    municipalities = {page.municipality_id for page in unattended(due)}
    colleagues = set(MunicipalityMember.objects.filter(municipality_id__in=municipalities)
                     .values_list("user_id", flat=True))
    return subscribers | owners | colleagues


def plan_digests(now: dt.datetime) -> int:
    """Create the pending digest rows of this run (step 1); returns how many are new."""
    created = 0
    users = get_user_model().objects.filter(pk__in=_candidate_user_ids(), is_active=True)
    for user in users.exclude(email=""):
        prefs, _ = DigestSettings.objects.get_or_create(user=user)
        length = PERIOD_LENGTH.get(prefs.frequency)
        if length is None:
            continue
        start = prefs.covered_until or (now - length)
        due = prefs.next_due or (start + length)
        if now + TOLERANCE < due:
            continue
        if Digest.objects.filter(user=user, status=Digest.Status.PENDING).exists():
            continue  # an unsent digest of an earlier run goes first, with its window
        _, was_created = Digest.objects.get_or_create(
            user=user, period=period_key(prefs.frequency, now),
            defaults={"window_start": start, "window_end": now})
        created += was_created
        if was_created:
            DigestSettings.objects.filter(pk=prefs.pk).update(
                next_due=next_due_after(due, length, now))
    return created


def next_due_after(due: dt.datetime, length: dt.timedelta, now: dt.datetime) -> dt.datetime:
    """The next due time on the member's schedule: ``due`` plus whole periods, after ``now``
    (plus the tolerance), so missed periods (cron stopped for days) are not sent one by one."""
    following = due + length
    while following <= now + TOLERANCE:
        following += length
    return following


def digest_content(user, digest: Digest) -> dict:
    """What the digest says, computed now with the member's current permissions.

    Sets ``digest.change_ids`` to the changes it considered (saved with the digest).
    """
    changes = announceable_changes(digest)
    digest.change_ids = [pk for pk, _page, _kind in changes]
    kinds = kinds_by_page((page_id, kind) for _pk, page_id, kind in changes)
    items = matching_pages(user, digest.window_start, digest.window_end, kinds=kinds)
    return {"items": items, "reviews": review_reminders(user),
            "colleague_reviews": colleague_review_reminders(user)}


def announceable_changes(digest: Digest) -> list[tuple[int, int, str]]:
    """(change id, page id, kind) this digest announces where they match.

    A change is stamped when it is published, but other transactions see it only after its
    commit: an import running while digests are sent commits changes stamped inside windows
    already sent. So besides its window, a digest looks back ``KNOWLEDGE_DIGEST_LOOKBACK_HOURS``
    for changes that no earlier digest of the member considered (each digest records the ids).
    A change whose page is still waiting for the search index (no passage yet) is left for
    the next digest: saved searches find pages through the index.
    """
    lookback = dt.timedelta(hours=settings.KNOWLEDGE_DIGEST_LOOKBACK_HOURS)
    earlier = list(Digest.objects.filter(user_id=digest.user_id,
                                         window_end__gt=digest.window_start - lookback)
                   .exclude(pk=digest.pk).exclude(status=Digest.Status.PENDING)
                   .values_list("change_ids", flat=True))
    since = digest.window_start
    seen: set[int] = set()
    if earlier and all(ids is not None for ids in earlier):
        since -= lookback
        seen = {pk for ids in earlier for pk in ids}
    rows = list(PageChange.objects.filter(changed_at__gte=since, changed_at__lt=digest.window_end)
                .exclude(pk__in=seen).values_list("pk", "page_id", "kind"))
    page_ids = {page_id for _pk, page_id, _kind in rows}
    # Waiting: indexing scheduled and not one passage yet. A page the model could not embed
    # is pending too, but its full-text passages are written, which is all saved searches use.
    waiting = set(PageIndexState.objects.filter(
        page_id__in=page_ids, status=PageIndexState.Status.PENDING)
        .values_list("page_id", flat=True)) - set(
        Passage.objects.filter(page_id__in=page_ids).values_list("page_id", flat=True))
    return [row for row in rows if row[1] not in waiting]


def review_reminders(user) -> list:
    """Due pages the member owns and may still edit: a reminder names the page and links its
    editor, so an owner who lost the right since (left the group, page moved or restricted)
    gets none; ownership alone is history, not permission."""
    if not user.is_active:
        return []
    return [page for page in due_pages().filter(owner=user)
            if page.permissions_for_user(user).can_edit()]


def colleague_review_reminders(user) -> list:
    """Due pages of the member's municipality that their owner is not reminded of and that the
    member may edit as a colleague (:mod:`knowledge.colleague_editing`): a lesson whose author
    left stays someone's task. Every such colleague is reminded until one has reviewed it."""
    from knowledge.colleague_editing import colleague_page_ids

    if not user.is_active:
        return []
    ids = colleague_page_ids(user)
    if not ids:
        return []
    pages = due_pages().filter(pk__in=ids).exclude(owner=user)
    return [page for page in unattended(pages) if page.permissions_for_user(user).can_edit()]


def build_message(user, digest: Digest, content: dict, connection=None):
    prefs = user.digest_settings
    unsubscribe_url = absolute_url(reverse("network:unsubscribe",
                                           args=[make_token(prefs)]))
    context = {
        "user": user, "digest": digest, "items": content["items"],
        "reviews": content["reviews"], "colleague_reviews": content["colleague_reviews"],
        "review_count": len(content["reviews"]) + len(content["colleague_reviews"]),
        "unsubscribe_url": unsubscribe_url,
        "settings_url": absolute_url(reverse("network:subscriptions")),
        "absolute_url": absolute_url, "frequency": prefs.get_frequency_display(),
        "site_name": settings.WAGTAIL_SITE_NAME,
    }
    for item in content["items"]:
        item["url"] = absolute_url(item["page"].url or "")
    for page in [*content["reviews"], *content["colleague_reviews"]]:
        page.edit_url = absolute_url(reverse("wagtailadmin_pages:edit", args=[page.pk]))
    subject = render_to_string("network/email/digest_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("network/email/digest.txt", context),
        to=[user.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Message-ID": f"<digest-{digest.pk}-{digest.period}@{_mail_domain()}>",
        },
    )
    message.attach_alternative(render_to_string("network/email/digest.html", context),
                               "text/html")
    return message


def _mail_domain() -> str:
    from urllib.parse import urlparse

    return urlparse(settings.WAGTAILADMIN_BASE_URL).hostname or "localhost"


def send_pending(now: dt.datetime, report: RunReport, connection) -> None:
    """Step 2: send every pending digest, each in its own transaction."""
    pending = list(Digest.objects.filter(status=Digest.Status.PENDING)
                   .order_by("pk").values_list("pk", flat=True))
    for pk in pending:
        try:
            with transaction.atomic():
                digest = (Digest.objects.select_for_update(skip_locked=True)
                          .filter(pk=pk, status=Digest.Status.PENDING)
                          .select_related("user").first())
                if digest is None:
                    continue  # sent meanwhile or being sent by another runner
                _send_one(digest, now, report, connection)
        except Exception:
            report.failed += 1
            logger.exception("Digest %s could not be sent; it stays pending", pk)


def _send_one(digest: Digest, now, report: RunReport, connection) -> None:
    user = digest.user
    content = digest_content(user, digest)
    count = len(content["items"]) + len(content["reviews"]) + len(content["colleague_reviews"])
    wanted = DigestSettings.objects.filter(user=user).exclude(
        frequency=DigestSettings.Frequency.NEVER).exists()
    if count and wanted and user.is_active and user.email:
        build_message(user, digest, content, connection).send()
        digest.status = Digest.Status.SENT
        report.sent += 1
    else:
        digest.status = Digest.Status.EMPTY
        report.empty += 1
    digest.page_count = count
    digest.sent_at = now
    digest.save(update_fields=["status", "page_count", "sent_at", "change_ids"])
    DigestSettings.objects.filter(user=user).update(covered_until=digest.window_end)


def send_digests(now: dt.datetime | None = None) -> RunReport:
    now = now or timezone.now()
    report = RunReport()
    plan_digests(now)
    connection = get_connection()
    try:
        send_pending(now, report, connection)
    finally:
        connection.close()
    return report
