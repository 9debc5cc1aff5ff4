"""The roadmap comparison ``/zeitstrahl/``: several Digitalisierungszeitstrahle side by side.

Rows are half-years, columns are roadmaps (one per municipality, or several if a municipality
has more than one), so a member sees which measures others planned when and which are done.
Only roadmaps the viewer may see are offered (:func:`knowledge.access.viewable_pages`).
Filters: ``kommune`` (repeatable), ``thema`` (a measure topic); unknown values are ignored with
a notice. ``mit`` (a municipality) preselects that municipality's roadmap first and others up
to the limit: the "compare with others" links of a roadmap and a profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.conf import settings
from django.utils.translation import gettext as _

from knowledge.access import viewable_pages
from knowledge.models import RoadmapPage, Topic
from knowledge.models.roadmap import half_year_label
from knowledge.text import clean_query_value


@dataclass
class ComparisonCell:
    step: object | None  # a RoadmapStep or None (nothing planned in that half-year)
    measures: list = field(default_factory=list)


@dataclass
class ComparisonRow:
    year: int
    half: int
    cells: list[ComparisonCell]

    @property
    def label(self) -> str:
        return half_year_label(self.year, self.half)


@dataclass
class Comparison:
    roadmaps: list[RoadmapPage]
    rows: list[ComparisonRow]
    available: list[RoadmapPage]
    topics: list[Topic]
    selected_municipalities: list[str]
    selected_topic: str
    notices: list[str] = field(default_factory=list)
    querystring: str = ""


def _half_years(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    """Every half-year from ``first`` to ``last`` inclusive, so columns align on one axis."""
    keys, (year, half) = [], first
    while (year, half) <= last:
        keys.append((year, half))
        year, half = (year, 2) if half == 1 else (year + 1, 1)
    return keys


def build_comparison(request) -> Comparison:
    available = list(viewable_pages(request.user, RoadmapPage).select_related("municipality")
                     .order_by("municipality__name", "date"))
    limit = int(getattr(settings, "KNOWLEDGE_ROADMAP_COMPARE_MAX", 6))
    notices: list[str] = []

    wanted = [clean_query_value(v) for v in request.GET.getlist("kommune") if v.strip()]
    known = {r.municipality.slug for r in available}
    unknown = [slug for slug in wanted if slug not in known]
    if unknown:
        notices.append(_("Für mindestens eine gewählte Kommune gibt es keinen Zeitstrahl, den "
                         "Sie sehen dürfen; sie wurde ignoriert."))
    chosen_slugs = list(dict.fromkeys(slug for slug in wanted if slug in known))
    anchor = clean_query_value(request.GET.get("mit"))
    preselecting = not chosen_slugs and anchor in known
    if preselecting:
        first = [r for r in available if r.municipality.slug == anchor]
        preselected = (first + [r for r in available if r.municipality.slug != anchor])[:limit]
        chosen_slugs = list(dict.fromkeys(r.municipality.slug for r in preselected))
    roadmaps = ([r for r in available if r.municipality.slug in chosen_slugs] if chosen_slugs
                else available)
    if anchor in chosen_slugs:  # the anchor's column first
        roadmaps.sort(key=lambda r: r.municipality.slug != anchor)
    if len(roadmaps) > limit:
        if not preselecting:  # a preselection was not the visitor's choice
            notices.append(_("Es werden höchstens %(limit)d Zeitstrahle nebeneinander "
                             "gezeigt; wählen Sie Kommunen aus, um andere zu vergleichen.")
                           % {"limit": limit})
        roadmaps = roadmaps[:limit]

    topics_by_slug: dict[str, Topic] = {}
    timelines = [r.timeline() for r in roadmaps]
    for timeline in [r.timeline() for r in available]:
        for step in timeline:
            for measure in step.measures:
                if measure.topic is not None:
                    topics_by_slug[measure.topic.slug] = measure.topic
    topic_slug = clean_query_value(request.GET.get("thema"))
    if topic_slug and topic_slug not in topics_by_slug:
        notices.append(_("Zu diesem Thema gibt es keine Maßnahmen in den Zeitstrahlen; der "
                         "Filter wurde ignoriert."))
        topic_slug = ""

    rows = []
    keys = [step.key for timeline in timelines for step in timeline]
    if keys:
        by_key = [{step.key: step for step in timeline} for timeline in timelines]
        for year, half in _half_years(min(keys), max(keys)):
            cells = []
            for steps in by_key:
                step = steps.get((year, half))
                measures = step.measures if step else []
                if topic_slug:
                    measures = [m for m in measures
                                if m.topic is not None and m.topic.slug == topic_slug]
                cells.append(ComparisonCell(step, measures))
            if topic_slug and not any(cell.measures for cell in cells):
                continue
            rows.append(ComparisonRow(year, half, cells))

    selected = [("kommune", slug) for slug in chosen_slugs]
    if topic_slug:
        selected.append(("thema", topic_slug))
    return Comparison(
        roadmaps=roadmaps,
        rows=rows,
        available=available,
        topics=sorted(topics_by_slug.values(), key=lambda t: t.name),
        selected_municipalities=chosen_slugs,
        selected_topic=topic_slug,
        notices=notices,
        querystring=urlencode(selected),
    )
