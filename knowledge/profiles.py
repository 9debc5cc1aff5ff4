"""Municipality profiles: the list ``/kommunen/`` with filters and one profile per municipality.

A profile shows a municipality at a glance — its master data and network contact (from the
``Municipality`` snippet), its projects with phase, lessons, best practices and roadmaps — so
that a member starting something new sees whom to ask. Every page-derived part goes through
:func:`knowledge.access.viewable_pages`: counts and lists contain only what the viewer may see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from knowledge.access import viewable_pages
from knowledge.models import (
    BestPracticePage,
    KnowledgePage,
    LessonLearnedPage,
    Municipality,
    ProjectPage,
    RoadmapPage,
    Topic,
)
from knowledge.text import clean_query_value

# Size classes of the list filter: (key, label, lowest, highest inhabitants).
SIZE_CLASSES = (
    ("unter-10000", gettext_lazy("unter 10.000 Einwohner"), 0, 9_999),
    ("10000-25000", gettext_lazy("10.000 bis 25.000 Einwohner"), 10_000, 25_000),
    ("25000-50000", gettext_lazy("25.001 bis 50.000 Einwohner"), 25_001, 50_000),
    ("ueber-50000", gettext_lazy("über 50.000 Einwohner"), 50_001, None),
)


def format_inhabitants(number: int | None) -> str:
    """German thousands separator: 54000 -> "54.000"."""
    return f"{number:,}".replace(",", ".") if number is not None else ""


@dataclass
class MunicipalityRow:
    municipality: Municipality
    material: int

    @property
    def inhabitants(self) -> str:
        return format_inhabitants(self.municipality.population)


@dataclass
class MunicipalityList:
    rows: list[MunicipalityRow]
    districts: list[str]
    kinds: list[tuple[str, str]]
    sizes: list[tuple[str, str]]
    topics: list[Topic]
    selected: dict[str, str]
    notices: list[str] = field(default_factory=list)
    querystring: str = ""


def _accepted(request, name: str, allowed, notice: str, selected: dict, notices: list) -> str:
    """The filter value if it is one of ``allowed``; otherwise "" and the notice."""
    value = clean_query_value(request.GET.get(name))
    if value and value not in allowed:
        notices.append(notice)
        return ""
    if value:
        selected[name] = value
    return value


def build_municipality_list(request) -> MunicipalityList:
    """Municipalities filtered by district (``kreis``), kind (``art``), size (``groesse``) and
    a topic they have visible material on (``thema``); unknown values are ignored with a
    notice, like every listing of the site."""
    visible = viewable_pages(request.user, KnowledgePage)
    municipalities = Municipality.objects.all()
    selected: dict[str, str] = {}
    notices: list[str] = []
    districts = sorted({d for d in Municipality.objects.values_list("district", flat=True) if d})
    bounds = {key: (low, high) for key, _label, low, high in SIZE_CLASSES}

    if district := _accepted(request, "kreis", districts, _(
            "Den gewählten Kreis gibt es nicht; der Filter wurde ignoriert."), selected, notices):
        municipalities = municipalities.filter(district=district)
    if kind := _accepted(request, "art", Municipality.Kind.values, _(
            "Die gewählte Art gibt es nicht; der Filter wurde ignoriert."), selected, notices):
        municipalities = municipalities.filter(kind=kind)
    if size := _accepted(request, "groesse", bounds, _(
            "Die gewählte Größe gibt es nicht; der Filter wurde ignoriert."), selected, notices):
        low, high = bounds[size]
        municipalities = municipalities.filter(population__gte=low)
        if high is not None:
            municipalities = municipalities.filter(population__lte=high)
    material = visible
    topic_slugs = set(Topic.objects.values_list("slug", flat=True))
    if topic := _accepted(request, "thema", topic_slugs, _(
            "Das gewählte Thema gibt es nicht; der Filter wurde ignoriert."), selected, notices):
        material = visible.filter(topics__slug=topic)
        municipalities = municipalities.filter(pk__in=material.values("municipality"))

    counts = dict(material.order_by().values_list("municipality").annotate(
        n=Count("pk", distinct=True)))
    return MunicipalityList(
        rows=[MunicipalityRow(m, counts.get(m.pk, 0)) for m in municipalities],
        districts=districts,
        kinds=list(Municipality.Kind.choices),
        sizes=[(key, str(label)) for key, label, _low, _high in SIZE_CLASSES],
        topics=list(Topic.objects.filter(pages__in=visible).distinct()),
        selected=selected,
        notices=notices,
        querystring=urlencode(selected),
    )


@dataclass
class Profile:
    municipality: Municipality
    projects: list
    lessons: list
    best_practices: list
    roadmaps: list
    material_count: int
    similar: list

    @property
    def inhabitants(self) -> str:
        return format_inhabitants(self.municipality.population)


def build_profile(request, municipality: Municipality) -> Profile:
    """Everything of one municipality the viewer may see, and similar municipalities."""
    from search.related import similar_municipalities

    user = request.user
    own = Q(municipality=municipality)
    return Profile(
        municipality=municipality,
        projects=list(viewable_pages(user, ProjectPage).filter(own).order_by("-date")),
        lessons=list(viewable_pages(user, LessonLearnedPage).filter(own).order_by("-date")),
        best_practices=list(viewable_pages(user, BestPracticePage).filter(own)
                            .order_by("-date")),
        roadmaps=list(viewable_pages(user, RoadmapPage).filter(own).order_by("-date")),
        material_count=viewable_pages(user, KnowledgePage).filter(own).count(),
        similar=similar_municipalities(municipality, user=user, request=request),
    )
