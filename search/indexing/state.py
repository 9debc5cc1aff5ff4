"""Which pages the index should hold and which are not current: the read side of indexing.

Used by the writer, by the signal handlers and tasks (a page and its descendants), and by
``rebuild_search_index`` (what is stale, counts for ``--check``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from search.models import PageIndexState, Passage


def _knowledge_page_model():
    from knowledge.models import KnowledgePage

    return KnowledgePage

def indexable_pages():
    """Live knowledge pages that get passages. Aliases are skipped (a guard: the unique
    ``external_id`` prevents them today) since they would show one page twice in results."""
    return _knowledge_page_model().objects.live().filter(alias_of__isnull=True)


# Passages and states of these pages must go: unpublished, or an alias.
NOT_INDEXABLE = Q(page__live=False) | Q(page__alias_of__isnull=False)


def page_and_descendant_ids(page_id: int) -> list[int]:
    """The page and all knowledge pages below it (a project's protocols and lessons)."""
    model = _knowledge_page_model()
    page = model.objects.filter(pk=page_id).first()
    if page is None:
        return [page_id]
    return [page_id, *model.objects.descendant_of(page).order_by("path")
            .values_list("pk", flat=True)]


def mark_pending(page_ids: Iterable[int] | None = None, reason: str = "") -> int:
    """Mark live pages (default: all) as needing indexing; returns how many were marked.

    A full rebuild starts with this, so that an interrupted rebuild leaves exactly the
    unfinished pages pending and ``rebuild_search_index --stale`` continues from there.
    """
    live = indexable_pages()
    if page_ids is not None:
        live = live.filter(pk__in=list(page_ids))
    ids = list(live.values_list("pk", flat=True))
    with transaction.atomic():
        # update() skips auto_now: the time says since when the page waits.
        PageIndexState.objects.filter(page_id__in=ids).update(
            status=PageIndexState.Status.PENDING, error=reason, updated_at=timezone.now()
        )
        PageIndexState.objects.bulk_create(
            [PageIndexState(page_id=pk, status=PageIndexState.Status.PENDING, error=reason)
             for pk in ids],
            ignore_conflicts=True,
        )
    return len(ids)


def stale_page_ids(model_id: str) -> list[int]:
    """Live pages whose passages are not current for ``model_id``, in tree order.

    Stale means: never indexed, pending or failed, indexed with another model, or having a
    passage without a vector or with another model's vector.
    """
    current = PageIndexState.objects.filter(
        page_id=OuterRef("pk"), status=PageIndexState.Status.INDEXED, model_id=model_id
    )
    foreign = Passage.objects.filter(page_id=OuterRef("pk")).filter(
        Q(embedding__isnull=True) | ~Q(model_id=model_id)
    )
    return list(
        indexable_pages()
        .filter(~Exists(current) | Exists(foreign))
        .order_by("path")
        .values_list("pk", flat=True)
    )


def unsearchable_pages(model_id: str, settled_before):
    """Live pages whose state says they are not searchable with ``model_id``: never indexed,
    failed, indexed with another model, or pending since before ``settled_before`` (younger
    pending pages are the task queue's current work). In tree order, with ``index_state``.

    For the Redaktion's dashboard, which is opened often: it reads the states only (2 ms at
    2,119 pages and 1M passages) and trusts an indexed state, which the writer sets only
    together with that model's vectors. :func:`stale_page_ids` also checks every passage
    (4.4 s there), which is for the rebuild.
    """
    status = PageIndexState.Status
    return (
        indexable_pages()
        .filter(Q(index_state__isnull=True)
                | Q(index_state__status=status.FAILED)
                | Q(index_state__status=status.PENDING,
                    index_state__updated_at__lt=settled_before)
                | (Q(index_state__status=status.INDEXED) & ~Q(index_state__model_id=model_id)))
        .select_related("index_state")
        .order_by("path")
    )


def index_status(model_id: str | None) -> dict:
    """Counts for ``rebuild_search_index --check`` and health pages."""
    live = indexable_pages()
    states = PageIndexState.objects.filter(page__in=live)
    passages = Passage.objects.all()
    status = {
        "live_pages": live.count(),
        "indexed": states.filter(status=PageIndexState.Status.INDEXED).count(),
        "pending": states.filter(status=PageIndexState.Status.PENDING).count(),
        "failed": states.filter(status=PageIndexState.Status.FAILED).count(),
        "passages": passages.count(),
        "passages_without_vector": passages.filter(embedding__isnull=True).count(),
        "passages_by_model": dict(
            passages.values_list("model_id").annotate(n=Count("id")).order_by("model_id")
        ),
        "pages_not_live_with_passages": passages.filter(NOT_INDEXABLE)
        .values("page_id").distinct().count(),
    }
    if model_id is not None:
        status["stale"] = len(stale_page_ids(model_id))
    return status


def column_dimensions() -> int | None:
    """The dimension of the embedding column as it is in the database (None if unknown)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = 'embedding'",
            [Passage._meta.db_table],
        )
        row = cursor.fetchone()
    return row[0] if row and row[0] > 0 else None
