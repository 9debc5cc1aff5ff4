"""The matrix "Wer hat was schon gemacht?": municipalities × topics, with material counts.

Each cell counts the knowledge pages of one municipality on one topic that the viewer may see
(through :func:`knowledge.access.viewable_pages`, so a restricted page never shows up as a
number either) and links to the listing filtered by both. Rows and columns are the
municipalities and topics with at least one visible page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Count
from django.urls import reverse

from knowledge.access import viewable_pages
from knowledge.models import KnowledgePage, Municipality, Topic


@dataclass
class Cell:
    count: int
    url: str


@dataclass
class MatrixRow:
    municipality: Municipality
    cells: list[Cell]
    total: Cell  # distinct pages of the municipality (a page may have several topics)


@dataclass
class Matrix:
    topics: list[Topic]
    rows: list[MatrixRow]
    topic_totals: list[Cell]  # distinct pages per topic


def _link(**filters) -> str:
    return reverse("knowledge:browse") + "?" + urlencode(filters)


def build_matrix(user) -> Matrix:
    """Counts of visible pages per (municipality, topic), per municipality and per topic."""
    visible = viewable_pages(user, KnowledgePage).order_by()
    counts = {
        (municipality_id, topic_id): n
        for municipality_id, topic_id, n in visible.filter(topics__isnull=False)
        .values_list("municipality", "topics").annotate(n=Count("pk", distinct=True))
    }
    # Every page counts in its municipality's total, topics or not: the total links to the
    # municipality's listing, which shows them all.
    per_municipality = dict(visible.values_list("municipality")
                            .annotate(n=Count("pk", distinct=True)))
    municipality_ids = set(per_municipality)
    topic_ids = {t for _m, t in counts}
    topics = list(Topic.objects.filter(pk__in=topic_ids))
    rows = []
    for municipality in Municipality.objects.filter(pk__in=municipality_ids):
        cells = [Cell(counts.get((municipality.pk, topic.pk), 0),
                      _link(kommune=municipality.slug, thema=topic.slug))
                 for topic in topics]
        total = Cell(per_municipality.get(municipality.pk, 0), _link(kommune=municipality.slug))
        rows.append(MatrixRow(municipality, cells, total))
    per_topic = dict(visible.filter(topics__isnull=False).values_list("topics")
                     .annotate(n=Count("pk", distinct=True)))
    topic_totals = [Cell(per_topic.get(topic.pk, 0), _link(thema=topic.slug))
                    for topic in topics]
    return Matrix(topics=topics, rows=rows, topic_totals=topic_totals)
