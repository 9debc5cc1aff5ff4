"""The knowledge-gap dashboard: Wagtail report views (filterable, CSV/XLSX export).

* "Suchanfragen": top queries with zero-result, click and negative-feedback figures, a chart
  of searches per week and the share without results (SVG with a table alternative).
* "Rückmeldungen" and "Seiten-Feedback": votes with comments and the pages with most
  "nicht hilfreich"; the Redaktion sees all, other editors only feedback on pages they own.
* "Aktualität prüfen": pages past their review-by date or long unpublished.
* "Themen und Kommunen ohne neues Material".
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import django_filters
from django import forms
from django.db.models import Count, F, IntegerField, Max, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.admin.widgets import AdminDateInput
from wagtail.models import Page
from wagtail.permission_policies import ModelPermissionPolicy

from knowledge.spreadsheet import FormulaSafeExportMixin
from network.charts import weekly_search_figures
from network.models import Feedback, QueryLog
from network.querylog import NO_RESULTS
from network.review import due_pages, review_after_months
from network.roles import is_redaktion

# "Wenig Klicks": searched at least twice on the search page with results, and at most one
# click in ten such searches. Only the search page counts clicks (<a ping> on its results); the
# API's and the matching page's searches cannot be clicked.
LOW_CLICK_MIN_SEARCHES = 2
LOW_CLICK_RATE = 0.1
CLICKABLE = Q(surface=QueryLog.Surface.SEARCH)


class RedaktionOnly:
    """The query log and the gap reports are for the Redaktion (``network.view_querylog``)."""

    permission_policy = ModelPermissionPolicy(QueryLog)
    permission_required = "view"


class QueryFilterSet(WagtailFilterSet):
    von = django_filters.DateFilter(label=_("Von"), field_name="created_at",
                                    lookup_expr="date__gte", widget=AdminDateInput)
    bis = django_filters.DateFilter(label=_("Bis"), field_name="created_at",
                                    lookup_expr="date__lte", widget=AdminDateInput)
    surface = django_filters.ChoiceFilter(label=_("Oberfläche"),
                                          choices=QueryLog.Surface.choices)
    ansicht = django_filters.ChoiceFilter(
        label=_("Ansicht"), method="keep_all", empty_label=_("alle Anfragen"),
        choices=[("ohne_treffer", _("ohne Treffer")), ("wenig_klicks", _("wenig Klicks")),
                 ("negativ", _("mit negativer Rückmeldung"))])

    class Meta:
        model = QueryLog
        fields = ["surface"]

    def keep_all(self, queryset, name, value):
        return queryset  # applied to the aggregated rows, see QueryReportView


def aggregate_queries(queryset, view: str = ""):
    """One row per normalised query: searches, without results, clicks, negative feedback."""
    negative = (Feedback.objects.filter(query=OuterRef("normalized"), helpful=False)
                .values("query").annotate(n=Count("pk")).values("n"))
    rows = (queryset.values("normalized")
            .annotate(searches=Count("pk"), zero_results=Count("pk", filter=NO_RESULTS),
                      clickable=Count("pk", filter=CLICKABLE & ~NO_RESULTS),
                      clicks=Coalesce(Sum("clicks"), 0), last_searched=Max("created_at"),
                      negative_feedback=Coalesce(Subquery(negative, output_field=IntegerField()),
                                                 0))
            .order_by("-searches", "normalized"))
    if view == "ohne_treffer":
        rows = rows.filter(zero_results__gt=0).order_by("-zero_results", "normalized")
    elif view == "wenig_klicks":
        rows = rows.filter(clickable__gte=LOW_CLICK_MIN_SEARCHES,
                           clicks__lte=F("clickable") * LOW_CLICK_RATE)
    elif view == "negativ":
        rows = rows.filter(negative_feedback__gt=0).order_by("-negative_feedback",
                                                              "normalized")
    return rows


class QueryReportView(FormulaSafeExportMixin, RedaktionOnly, ReportView):
    page_title = _("Suchanfragen")
    header_icon = "search"
    template_name = "network/reports/queries.html"
    filterset_class = QueryFilterSet
    index_url_name = "network_reports:queries"
    index_results_url_name = "network_reports:queries_results"
    export_filename = "suchanfragen"
    columns = [
        # Linked to the search itself: what searchers got, and where a promotion would help.
        TitleColumn("normalized", label=_("Suchanfrage"), get_url=lambda row: (
            reverse("search:search") + "?" + urlencode({"q": row["normalized"]}))),
        Column("searches", label=_("Suchen")),
        Column("zero_results", label=_("ohne Treffer")),
        Column("clicks", label=_("Klicks")),
        Column("negative_feedback", label=_("„Nicht hilfreich“")),
        DateColumn("last_searched", label=_("Zuletzt")),
    ]
    list_export = ["normalized", "searches", "zero_results", "clicks", "negative_feedback",
                   "last_searched"]
    export_headings = {"normalized": _("Suchanfrage"), "searches": _("Suchen"),
                       "zero_results": _("ohne Treffer"), "clicks": _("Klicks"),
                       "negative_feedback": _("Nicht hilfreich"),
                       "last_searched": _("Zuletzt gesucht")}

    def get_queryset(self):
        return QueryLog.objects.all()

    def get_filtered_queryset(self):
        logs = self.filter_queryset(self.get_queryset())
        view = ""
        if self.filters and self.filters.is_valid():
            view = self.filters.form.cleaned_data.get("ansicht") or ""
        return aggregate_queries(logs, view)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if not self.results_only:
            context["weeks"] = weekly_search_figures(timezone.now())
        return context


class FeedbackFilterSet(WagtailFilterSet):
    helpful = django_filters.BooleanFilter(label=_("Hilfreich"), widget=forms.Select(choices=[
        ("", _("alle")), ("true", _("Ja")), ("false", _("Nein"))]))
    source = django_filters.ChoiceFilter(label=_("Herkunft"), choices=Feedback.Source.choices)
    von = django_filters.DateFilter(label=_("Von"), field_name="updated_at",
                                    lookup_expr="date__gte", widget=AdminDateInput)

    class Meta:
        model = Feedback
        fields = ["helpful", "source"]


def feedback_visible_to(user):
    """All feedback for the Redaktion, feedback on their own pages for other editors."""
    feedback = Feedback.objects.select_related("page")
    return feedback if is_redaktion(user) else feedback.filter(page__owner=user)


class FeedbackReportView(FormulaSafeExportMixin, ReportView):
    page_title = _("Rückmeldungen")
    header_icon = "comment"
    filterset_class = FeedbackFilterSet
    index_url_name = "network_reports:feedback"
    index_results_url_name = "network_reports:feedback_results"
    export_filename = "rueckmeldungen"
    columns = [
        TitleColumn("page", label=_("Seite"), accessor="page.title",
                    get_url=lambda fb: reverse("wagtailadmin_pages:edit", args=[fb.page_id])),
        Column("helpful_label", label=_("Hilfreich")),
        Column("comment", label=_("Kommentar")),
        Column("source_label", label=_("Herkunft")),
        Column("query", label=_("Suchanfrage")),
        Column("rank", label=_("Rang")),
        DateColumn("updated_at", label=_("Datum")),
    ]
    list_export = ["page.title", "helpful_label", "comment", "source_label", "query", "rank",
                   "updated_at"]
    export_headings = {"page.title": _("Seite"), "helpful_label": _("Hilfreich"),
                       "comment": _("Kommentar"), "source_label": _("Herkunft"),
                       "query": _("Suchanfrage"), "rank": _("Rang"), "updated_at": _("Datum")}

    def get_queryset(self):
        return feedback_visible_to(self.request.user)

    def decorate_paginated_queryset(self, object_list):
        for feedback in object_list:
            _label_feedback(feedback)
        return object_list

    def to_row_dict(self, item):
        return super().to_row_dict(_label_feedback(item))


def _label_feedback(feedback):
    feedback.helpful_label = _("Ja") if feedback.helpful else _("Nein")
    feedback.source_label = feedback.get_source_display()
    return feedback


class PageFeedbackReportView(FormulaSafeExportMixin, ReportView):
    page_title = _("Seiten mit „nicht hilfreich“")
    header_icon = "warning"
    index_url_name = "network_reports:page_feedback"
    index_results_url_name = "network_reports:page_feedback_results"
    export_filename = "seiten-feedback"
    columns = [
        TitleColumn("title", label=_("Seite"),
                    get_url=lambda p: reverse("wagtailadmin_pages:edit", args=[p.pk])),
        Column("not_helpful", label=_("Nicht hilfreich")),
        Column("helpful", label=_("Hilfreich")),
        Column("comments", label=_("Kommentare")),
    ]
    list_export = ["title", "not_helpful", "helpful", "comments"]
    export_headings = {"title": _("Seite"), "not_helpful": _("Nicht hilfreich"),
                       "helpful": _("Hilfreich"), "comments": _("Kommentare")}

    def get_queryset(self):
        pages = Page.objects.filter(network_feedback__isnull=False)
        if not is_redaktion(self.request.user):
            pages = pages.filter(owner=self.request.user)
        return (pages.annotate(
            not_helpful=Count("network_feedback", filter=Q(network_feedback__helpful=False)),
            helpful=Count("network_feedback", filter=Q(network_feedback__helpful=True)),
            comments=Count("network_feedback", filter=~Q(network_feedback__comment="")))
            .order_by("-not_helpful", "title"))


class MonthsFilterSet(WagtailFilterSet):
    """A page-less filter form: "older than N months"."""

    monate = django_filters.NumberFilter(label=_("Monate"), method="keep_all",
                                         min_value=1, max_value=120)

    class Meta:
        model = Page
        fields = []

    def keep_all(self, queryset, name, value):
        return queryset


class _MonthsMixin:
    filterset_class = MonthsFilterSet

    def months(self) -> int:
        if self.filters and self.filters.is_valid():
            value = self.filters.form.cleaned_data.get("monate")
            if value:
                return int(value)
        return review_after_months()


class ReviewReportView(FormulaSafeExportMixin, RedaktionOnly, _MonthsMixin, ReportView):
    page_title = _("Aktualität prüfen")
    header_icon = "time"
    index_url_name = "network_reports:review"
    index_results_url_name = "network_reports:review_results"
    export_filename = "aktualitaet-pruefen"
    columns = [
        TitleColumn("title", label=_("Seite"),
                    get_url=lambda p: reverse("wagtailadmin_pages:edit", args=[p.pk])),
        Column("municipality", label=_("Kommune")),
        DateColumn("review_by", label=_("Überprüfen bis")),
        DateColumn("last_published_at", label=_("Zuletzt veröffentlicht")),
        Column("owner", label=_("Besitzer")),
    ]
    list_export = ["title", "municipality.name", "review_by", "last_published_at",
                   "owner.username"]
    export_headings = {"title": _("Seite"), "municipality.name": _("Kommune"),
                       "review_by": _("Überprüfen bis"),
                       "last_published_at": _("Zuletzt veröffentlicht"),
                       "owner.username": _("Besitzer")}

    def get_queryset(self):
        return due_pages(self.months())

    def get_filtered_queryset(self):
        return self.get_queryset()


class GapReportView(FormulaSafeExportMixin, RedaktionOnly, _MonthsMixin, ReportView):
    page_title = _("Themen und Kommunen ohne neues Material")
    header_icon = "folder-open-inverse"
    index_url_name = "network_reports:gaps"
    index_results_url_name = "network_reports:gaps_results"
    export_filename = "luecken"
    columns = [
        Column("kind", label=_("Art")),
        Column("name", label=_("Name")),
        DateColumn("latest", label=_("Neuestes Material")),
        Column("pages", label=_("Seiten insgesamt")),
    ]
    list_export = ["kind", "name", "latest", "pages"]
    export_headings = {"kind": _("Art"), "name": _("Name"), "latest": _("Neuestes Material"),
                       "pages": _("Seiten insgesamt")}

    def get_queryset(self):
        return gap_rows(timezone.now() - dt.timedelta(days=round(self.months() * 30.44)))

    def get_filtered_queryset(self):
        return self.get_queryset()


def gap_rows(cutoff: dt.datetime) -> list[dict]:
    """Topics and municipalities whose newest live page was first published before
    ``cutoff`` (or that have none); the stalest first."""
    from knowledge.models import KnowledgePage, Municipality, Topic

    live = KnowledgePage.objects.live()
    rows = []
    for label, model, relation in ((_("Thema"), Topic, "topics"),
                                   (_("Kommune"), Municipality, "municipality")):
        latest = {}
        for key, first_published, count in _latest_per(live, relation):
            latest[key] = (first_published, count)
        for obj in model.objects.all():
            first_published, count = latest.get(obj.pk, (None, 0))
            if first_published is None or first_published < cutoff:
                rows.append({"kind": str(label), "name": obj.name,
                             "latest": first_published, "pages": count})
    epoch = timezone.make_aware(dt.datetime(1970, 1, 1))
    return sorted(rows, key=lambda r: (r["latest"] or epoch, r["name"]))


def _latest_per(pages, relation: str):
    # Without order_by(), Wagtail's page manager orders by path, which would group per page.
    return (pages.order_by().values_list(relation)
            .annotate(latest=Max("first_published_at"), n=Count("pk", distinct=True))
            .values_list(relation, "latest", "n"))
