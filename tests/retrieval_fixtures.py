"""Fixtures for retrieval tests: pages with passages in the real index, embedded by the real model.

Passages are written through the indexing half (``search.indexing.writer.index_pages``) when it
exists, so the tests exercise the same rows the product searches. Until then (and as a fallback
when its API differs) :func:`write_passages` builds simple passages itself: title and summary,
then one passage per non-empty text field, embedded in one batch with the configured model.
"""

from __future__ import annotations

import hashlib
import importlib

import pytest

from knowledge.importing import record_from_page

_TEXT_FIELDS = ("body", "goals", "situation", "went_well", "went_badly", "recommendation",
                "problem", "solution", "result", "transferability")


def _indexing_api():
    try:
        module = importlib.import_module("search.indexing.writer")
    except ImportError:
        return None
    return getattr(module, "index_pages", None)


def _page_passages(page) -> list[tuple[str, str, str]]:
    """(kind, heading, text) of a page, in the spirit of the real chunker."""
    data = record_from_page(page)
    passages = [("overview", page.title, f"{page.title}\n{page.summary}".strip())]
    for name in _TEXT_FIELDS:
        text = (data.get(name) or "").strip()
        if text:
            passages.append(("section", "", text))
    for item in data.get("agenda_items") or []:
        passages.append(("agenda_item", item["title"],
                         f"{item['title']}\n{item.get('discussion', '')}".strip()))
    for decision in data.get("decisions") or []:
        passages.append(("decision", "Beschluss", decision))
    return passages


def write_passages(pages, embedder=None) -> None:
    """Replace the passages of ``pages`` with freshly embedded ones (direct fallback)."""
    from search.embedding import get_embedder
    from search.models import Passage

    embedder = embedder or get_embedder()
    rows = []
    for page in pages:
        page = page.specific
        for position, (kind, heading, text) in enumerate(_page_passages(page)):
            rows.append(Passage(
                page_id=page.pk, position=position, kind=kind, heading=heading[:500],
                text=text, content_hash=hashlib.sha256(text.encode()).hexdigest(),
                knowledge_type=page.knowledge_type, municipality_id=page.municipality_id,
                date=page.date, model_id=embedder.model_id,
            ))
    vectors = embedder.embed_passages([r.text for r in rows]) if rows else []
    for row, vector in zip(rows, vectors, strict=True):
        row.embedding = vector
    Passage.objects.filter(page_id__in=[p.pk for p in pages]).delete()
    Passage.objects.bulk_create(rows)


def index_pages(pages) -> None:
    """Make sure the passages of ``pages`` are in the index (the real indexer if available)."""
    from search.models import Passage

    indexer = _indexing_api()
    if indexer is None:
        write_passages(pages)
        return
    indexer([p.pk for p in pages])
    missing = [p for p in pages if p.live and not Passage.objects.filter(page_id=p.pk).exists()]
    if missing:
        write_passages(missing)


# Two public pages shared by the corpora of the ranking and search-surface tests; each test module
# adds the pages (and fields) its own assertions need.
ABFALL = {"external_id": "bp-abfall", "title": "Digitaler Abfallkalender", "municipality": "Lemgo",
          "topics": ["Abfallwirtschaft"], "date": "2023-05-01",
          "summary": "Die Müllabfuhrtermine stehen als App und als iCal-Datei bereit."}
EAKTE = {"external_id": "ll-eakte", "title": "Einführung der E-Akte", "municipality": "Detmold",
         "topics": ["E-Akte"], "date": "2022-01-15",
         "summary": "Die elektronische Aktenführung scheiterte zunächst an Schulungen."}


def shared_records() -> list[dict]:
    """The three pages (two municipalities' practice and lesson, a project) both the ranking
    and the feedback tests start from, with the fields their assertions rely on."""
    from tests.conftest import record

    return [
        record("best_practice", **ABFALL,
               solution="Wir veröffentlichen die Abfuhrtermine aller Tonnen als offene Daten."),
        record("lesson_learned", **EAKTE,
               went_badly="Zu wenige Schulungen für die Sachbearbeitung."),
        record("project", external_id="pr-kita", title="Kita-Portal",
               municipality="Bielefeld", topics=["Bildung"], date="2024-02-01",
               summary="Eltern melden ihre Kinder online für einen Betreuungsplatz an."),
    ]


def import_indexed(import_lines, *records: dict) -> dict:
    """Import ``records``, index their pages and return them (specific) by external id."""
    from knowledge.models import KnowledgePage

    import_lines(*records)
    pages = {p.external_id: p.specific for p in KnowledgePage.objects.filter(
        external_id__in=[r["external_id"] for r in records])}
    index_pages(list(pages.values()))
    return pages


@pytest.fixture
def indexed_page(make_page):
    """Create a page via the importer and make sure its passages are indexed."""

    def _make(kind: str, **overrides):
        page = make_page(kind, **overrides)
        index_pages([page])
        return page

    return _make
