"""Background tasks that keep the passage index in sync with the page tree.

One task covers every event (publish, unpublish, delete, move): it re-reads the page and
either indexes it (live) or removes its passages (not live, or deleted). Because it looks at
the current state instead of trusting the event, it is idempotent and safe to retry or to run
out of order; duplicate enqueues cost a hash comparison, not a model call.

Backends (``settings.TASKS``): the immediate backend runs the task right after the commit in
the same process (embedded set-up, tests); production uses ``django_tasks_db`` and
``python manage.py db_worker``.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_tasks import task

from search.indexing import state, writer
from search.models import PageIndexState

logger = logging.getLogger(__name__)


@task()
def sync_page_index(page_id: int, include_descendants: bool = False) -> dict:
    """Index ``page_id`` (and its descendants) or remove it, whatever its state is now."""
    return sync_pages_index.call([page_id], [page_id] if include_descendants else [])


@task()
def sync_pages_index(page_ids: list[int], descendants_of: list[int] | None = None) -> dict:
    """Sync several pages at once (one model call for all their new passages).

    An import publishes hundreds of pages in one transaction; indexing them as one batch is
    several times faster than one task per page. ``descendants_of`` lists pages whose
    descendants are synced too (a moved or renamed project).
    """
    ids = set(page_ids)
    for page_id in descendants_of or []:
        ids.update(state.page_and_descendant_ids(page_id))
    try:
        result = writer.index_pages(sorted(ids))
    except Exception as exc:
        logger.exception("Indexing pages %s failed", sorted(ids)[:20])
        _mark_failed(sorted(ids), exc)
        raise  # the database backend records the failure; rebuild --stale retries it
    return result.as_dict()


def _mark_failed(page_ids: list[int], exc: Exception) -> None:
    """Best effort: remember the failure so that ``rebuild_search_index --stale`` picks it up."""
    from knowledge.models import KnowledgePage

    try:
        with transaction.atomic():
            for page_id in KnowledgePage.objects.filter(pk__in=page_ids).values_list(
                    "pk", flat=True):
                PageIndexState.objects.update_or_create(
                    page_id=page_id,
                    defaults={"status": PageIndexState.Status.FAILED, "error": repr(exc)[:2000]},
                )
    except Exception:
        logger.exception("Cannot record the indexing failure of pages %s", page_ids[:20])
