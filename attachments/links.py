"""Which files a page uses, and the table of files used by live pages.

A page uses a file through an attachment block (protocols' "Anlagen"), a document block in
a body, or a document link in rich text. Wagtail's fields already know how to find their
references (``extract_references``, the same code that fills Wagtail's reference index), so
every StreamField and rich-text field is covered, including ones added later.
"""

from __future__ import annotations

from django.db import transaction
from wagtail.documents import get_document_model

from attachments.models import PageDocument


def document_ids_of(page) -> list[int]:
    """Ids of the documents the (specific) page uses, in field order, without repeats."""
    document_model = get_document_model()
    ids: list[int] = []
    for field in page._meta.get_fields():
        extract = getattr(field, "extract_references", None)
        if extract is None or not getattr(field, "concrete", False):
            continue
        for model, object_id, _path, _content_path in extract(field.value_from_object(page)):
            if issubclass(model, document_model):
                try:
                    document_id = int(object_id)
                except (TypeError, ValueError):
                    continue
                if document_id not in ids:
                    ids.append(document_id)
    return ids


def documents_of(page) -> list:
    """The page's existing documents in order (a deleted document is skipped)."""
    ids = document_ids_of(page)
    by_id = get_document_model().objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


@transaction.atomic
def sync_links(page, live: bool | None = None) -> list[int]:
    """Record the documents of a live page (or forget them if it is not live).

    Called when a page is published or unpublished (so downloads follow at once) and by
    indexing (so the table converges whatever happened in between).
    """
    live = page.live if live is None else live
    ids = [d.pk for d in documents_of(page)] if live else []
    PageDocument.objects.filter(page_id=page.pk).exclude(document_id__in=ids).delete()
    existing = dict(PageDocument.objects.filter(page_id=page.pk)
                    .values_list("document_id", "position"))
    for position, document_id in enumerate(ids):
        if document_id not in existing:
            PageDocument.objects.create(page_id=page.pk, document_id=document_id,
                                        position=position)
        elif existing[document_id] != position:
            PageDocument.objects.filter(page_id=page.pk, document_id=document_id).update(
                position=position)
    return ids


def forget_pages(page_ids) -> None:
    PageDocument.objects.filter(page_id__in=list(page_ids)).delete()
