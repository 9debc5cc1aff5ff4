"""The Digitalisierungszeitstrahl: a project's multi-year roadmap in half-year steps.

Every strategy project ends in such a roadmap (typically seven years): each half-year holds a
"Digitalbündel" of measures, preceded by a change-management module that prepares the staff.
It is the most reusable result of a project, so it is a knowledge page of its own (searchable,
related, restricted and imported like every other kind) filed under its project, and its steps
are structured blocks so that roadmaps of several municipalities can be aligned by half-year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.fields import StreamField
from wagtail.models import Page
from wagtail.search import index

from knowledge.blocks import BodyBlock, MeasureBlock, RoadmapStepBlock
from knowledge.models.mixins import KnowledgePage

STATUS_LABELS = dict(MeasureBlock.STATUS_CHOICES)


def half_year_label(year: int, half: int) -> str:
    """German label of a half-year, e.g. "2. Halbjahr 2022"."""
    return f"{half}. Halbjahr {year}"


@dataclass
class Measure:
    title: str
    topic: object  # a Topic or None
    status: str
    responsible_role: str
    description: str

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.status, self.status))


@dataclass
class RoadmapStep:
    year: int
    half: int
    title: str
    change_title: str
    change_description: str
    measures: list[Measure] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (self.year, self.half)

    @property
    def label(self) -> str:
        return half_year_label(self.year, self.half)


class RoadmapPage(KnowledgePage):
    """A project's Digitalisierungszeitstrahl: half-year steps with change module and measures."""

    knowledge_type = "roadmap"

    steps = StreamField([("step", RoadmapStepBlock())], verbose_name=_("Halbjahresschritte"),
                        blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("Weitere Inhalte"), blank=True)

    content_panels = [
        *Page.content_panels,
        *KnowledgePage.metadata_panels,
        FieldPanel("steps"),
        FieldPanel("body"),
    ]
    search_fields = [*KnowledgePage.search_fields, index.SearchField("steps"),
                     index.SearchField("body")]

    parent_page_types = ["knowledge.ProjectPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("Digitalisierungszeitstrahl")
        verbose_name_plural = _("Digitalisierungszeitstrahle")

    def clean(self):
        super().clean()
        seen: set[tuple[int, int]] = set()
        for block in self.steps:
            key = (block.value.get("year"), int(block.value.get("half") or 1))
            if key in seen:
                raise ValidationError({"steps": _(
                    "Das %(label)s kommt mehrfach vor: jedes Halbjahr darf nur einen "
                    "Schritt haben.") % {"label": half_year_label(*key)}})
            seen.add(key)

    def get_project(self):
        return self.get_parent().specific

    def timeline(self) -> list[RoadmapStep]:
        """The steps in chronological order, as plain objects for templates and the index."""
        steps = []
        for block in self.steps:
            value = block.value
            change = value.get("change_module") or {}
            steps.append(RoadmapStep(
                year=int(value.get("year")),
                half=int(value.get("half") or 1),
                title=value.get("title") or "",
                change_title=change.get("title") or "",
                change_description=change.get("description") or "",
                measures=[
                    Measure(
                        title=m.get("title") or "",
                        topic=m.get("topic"),
                        status=m.get("status") or "geplant",
                        responsible_role=m.get("responsible_role") or "",
                        description=m.get("description") or "",
                    )
                    for m in value.get("measures") or []
                ],
            ))
        return sorted(steps, key=lambda step: step.key)

    def span_label(self) -> str:
        """"1. Halbjahr 2021 bis 2. Halbjahr 2027" ("" without steps)."""
        steps = self.timeline()
        return f"{steps[0].label} bis {steps[-1].label}" if steps else ""

    def status_counts(self) -> dict[str, int]:
        """How many measures are planned, running and done (for the summary line)."""
        counts = dict.fromkeys(STATUS_LABELS, 0)
        for step in self.timeline():
            for measure in step.measures:
                counts[measure.status] = counts.get(measure.status, 0) + 1
        return counts
