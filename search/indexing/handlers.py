"""Signal handlers that enqueue index updates, and the signal other code can listen to.

Wagtail's page events (``page_published``, ``page_unpublished``, ``post_page_move``) and
Django's ``post_delete`` enqueue :func:`search.indexing.tasks.sync_pages_index` for knowledge
pages.
Enqueueing waits for the commit (``transaction.on_commit``): the task must see the committed
page, and a rolled-back publish must not touch the index. Several events for one page in one
transaction (an import publishes, then moves) are synced once, and an import's pages are
synced in batches.

Publishing and unpublishing also update, at once, which files the page uses
(:func:`attachments.links.sync_links`): the download view decides by that table. A saved
document (a replaced file) re-indexes the pages that use it.

Privacy changes (``PageViewRestriction`` saved, deleted or its groups changed) need no
re-indexing: passages carry no access scope, retrieval filters them by the page's tree path
at query time (:func:`knowledge.access.denied_path_prefixes`), so a new restriction hides the
passages with the next query. Those events only announce a change
(:func:`search.indexing.events.announce`), so that caches built from passages (related
content) are dropped.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils import timezone

from search.indexing.events import announce
from search.indexing.state import page_and_descendant_ids
from search.indexing.tasks import sync_pages_index
from search.models import PageIndexState

logger = logging.getLogger(__name__)

_pending = threading.local()


def _queue() -> dict[int, bool]:
    if not hasattr(_pending, "pages"):
        _pending.pages = {}
    return _pending.pages


def schedule_page_sync(page_id: int, include_descendants: bool = False) -> None:
    """Enqueue a sync of this page once the current transaction commits.

    The page is marked pending in the same transaction as the change itself: if the process
    dies after the commit but before the task ran (or the queue loses the task), the page is
    still known to be stale and ``rebuild_search_index --stale`` catches it up.
    """
    ids = page_and_descendant_ids(page_id) if include_descendants else [page_id]
    # update() skips auto_now: the time is set here, it says since when the page waits.
    PageIndexState.objects.filter(page_id__in=ids).update(
        status=PageIndexState.Status.PENDING, error="indexing scheduled",
        updated_at=timezone.now(),
    )
    queue = _queue()
    queue[page_id] = queue.get(page_id, False) or include_descendants
    transaction.on_commit(_flush, robust=True)


def _flush() -> None:
    """Enqueue everything scheduled so far (the first on_commit callback does the work).

    Pages go in batches, so that an import of many pages embeds them in few model calls.
    """
    queue = _queue()
    items = sorted(queue.items())
    queue.clear()
    size = settings.KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE
    for start in range(0, len(items), size):
        batch = items[start:start + size]
        page_ids = [page_id for page_id, _ in batch]
        try:
            sync_pages_index.enqueue(page_ids, [pid for pid, desc in batch if desc])
        except Exception:
            # A broken queue must not break publishing; the pages stay stale for --stale.
            logger.exception("Cannot enqueue indexing of pages %s", page_ids)


def _is_a(sender, instance, model) -> bool:
    """Wagtail sends some events with a plain ``Page`` instance; the sender is specific."""
    return isinstance(instance, model) or (isinstance(sender, type) and issubclass(sender, model))


def _is_knowledge_page(sender, instance) -> bool:
    from knowledge.models import KnowledgePage

    return _is_a(sender, instance, KnowledgePage)


def _has_knowledge_children(sender, instance) -> bool:
    from knowledge.models import ProjectPage

    return _is_a(sender, instance, ProjectPage)


def _sync_document_links(instance, live: bool) -> None:
    """Downloads follow a publish or unpublish at once, not when the indexing task runs."""
    from attachments.links import sync_links

    sync_links(instance.specific, live=live)


def on_page_published(sender, instance, **kwargs):
    """A published knowledge page (and a project's pages below it) is re-indexed."""
    if _is_knowledge_page(sender, instance):
        _sync_document_links(instance, live=True)
        # A project's title is context in its protocols' and lessons' overview passages.
        schedule_page_sync(instance.pk,
                           include_descendants=_has_knowledge_children(sender, instance))


def on_page_unpublished(sender, instance, **kwargs):
    """An unpublished page loses its downloads at once and its passages with the task."""
    if _is_knowledge_page(sender, instance):
        _sync_document_links(instance, live=False)
        # Pages left live below an unpublished project must no longer name it.
        schedule_page_sync(instance.pk,
                           include_descendants=_has_knowledge_children(sender, instance))


def on_page_moved(sender, instance, **kwargs):
    """A move changes tree paths (permissions) and context of every knowledge page below."""
    from knowledge.models import KnowledgePage

    # Any page may hold knowledge pages below it (moving a section index moves them all).
    if (_is_knowledge_page(sender, instance)
            or KnowledgePage.objects.descendant_of(instance).exists()):
        schedule_page_sync(instance.pk, include_descendants=True)


def on_page_deleted(sender, instance, **kwargs):
    """A deleted page's sync confirms the removal and announces it (caches drop the page)."""
    # The database cascade already deleted the passages; the task confirms it and announces it.
    if _is_knowledge_page(sender, instance):
        schedule_page_sync(instance.pk)


def on_document_saved(sender, instance, created=False, **kwargs):
    """A replaced file (or a new title) changes the passages of every page that uses it."""
    if created:
        return
    from attachments.models import PageDocument

    for page_id in PageDocument.objects.filter(document=instance).values_list("page_id",
                                                                               flat=True):
        schedule_page_sync(page_id)


def on_restriction_changed(sender, instance, **kwargs):
    """Privacy changes need no re-indexing, only an announcement (see the module docstring)."""
    page_id = getattr(instance, "page_id", None)

    transaction.on_commit(lambda: announce([], sender=sender, restricted_page=page_id),
                          robust=True)


def connect() -> None:
    """Called from :meth:`search.apps.SearchConfig.ready`."""
    from wagtail.documents import get_document_model
    from wagtail.models import PageViewRestriction
    from wagtail.signals import page_published, page_unpublished, post_page_move

    page_published.connect(on_page_published, dispatch_uid="search_page_published")
    page_unpublished.connect(on_page_unpublished, dispatch_uid="search_page_unpublished")
    post_page_move.connect(on_page_moved, dispatch_uid="search_page_moved")
    post_delete.connect(on_page_deleted, dispatch_uid="search_page_deleted")
    post_save.connect(on_document_saved, sender=get_document_model(),
                      dispatch_uid="search_document_saved")
    post_save.connect(on_restriction_changed, sender=PageViewRestriction,
                      dispatch_uid="search_restriction_saved")
    post_delete.connect(on_restriction_changed, sender=PageViewRestriction,
                        dispatch_uid="search_restriction_deleted")
    m2m_changed.connect(on_restriction_changed, sender=PageViewRestriction.groups.through,
                        dispatch_uid="search_restriction_groups")
