"""The page tree: home, one index per section, and the four kinds of knowledge pages.

Layout (parent/child rules are enforced with ``parent_page_types``/``subpage_types``)::

    HomePage
    ├── ProjectIndexPage ("Projekte")
    │   └── ProjectPage
    │       ├── SessionProtocolPage
    │       └── LessonLearnedPage
    ├── LessonLearnedIndexPage ("Lessons Learned")  -- lessons without a project
    │   └── LessonLearnedPage
    └── BestPracticeIndexPage ("Best Practices")
        └── BestPracticePage (may link to a ProjectPage)

See https://docs.wagtail.org/en/stable/topics/pages.html for the page model.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel, MultiFieldPanel, PageChooserPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from knowledge.blocks import (
    INTRO_FEATURES,
    RICH_TEXT_FEATURES,
    ActionItemBlock,
    AgendaItemBlock,
    AttachmentBlock,
    BodyBlock,
    DecisionBlock,
    ParticipantBlock,
)
from knowledge.models.mixins import KnowledgePage
from knowledge.models.roadmap import RoadmapPage


class SectionIndexPage(Page):
    """Abstract index page: an introduction and a filterable, paginated listing."""

    # No links to files here: a file is served to whoever may view a knowledge page that uses
    # it (attachments.serving); a link from an index or the home page would lead nowhere.
    intro = RichTextField(_("Einleitung"), blank=True, features=INTRO_FEATURES)
    content_panels = [*Page.content_panels, FieldPanel("intro")]

    listing_types: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def get_context(self, request, *args, **kwargs):
        from knowledge.listing import build_listing

        context = super().get_context(request, *args, **kwargs)
        context["listing"] = build_listing(request, self.listing_types)
        return context


class HomePage(SectionIndexPage):
    """Start page: what the network is for, newest material, entry points into the sections."""

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [
        "knowledge.ProjectIndexPage",
        "knowledge.LessonLearnedIndexPage",
        "knowledge.BestPracticeIndexPage",
    ]
    max_count = 1
    listing_types = ("project", "session_protocol", "lesson_learned", "best_practice", "roadmap")

    class Meta:
        verbose_name = _("Startseite")


class ProjectIndexPage(SectionIndexPage):
    parent_page_types = ["knowledge.HomePage"]
    subpage_types = ["knowledge.ProjectPage"]
    max_count = 1
    listing_types = ("project", "session_protocol", "roadmap")

    class Meta:
        verbose_name = _("Projektübersicht")


class LessonLearnedIndexPage(SectionIndexPage):
    parent_page_types = ["knowledge.HomePage"]
    subpage_types = ["knowledge.LessonLearnedPage"]
    max_count = 1
    listing_types = ("lesson_learned",)

    class Meta:
        verbose_name = _("Lessons-Learned-Übersicht")


class BestPracticeIndexPage(SectionIndexPage):
    parent_page_types = ["knowledge.HomePage"]
    subpage_types = ["knowledge.BestPracticePage"]
    max_count = 1
    listing_types = ("best_practice",)

    class Meta:
        verbose_name = _("Best-Practice-Übersicht")


class ProjectPage(KnowledgePage):
    """A digitalisation project of one municipality, e.g. a six-month strategy project."""

    knowledge_type = "project"

    class Phase(models.TextChoices):
        PLANNED = "geplant", _("geplant")
        RUNNING = "laufend", _("laufend")
        FINISHED = "abgeschlossen", _("abgeschlossen")

    start_date = models.DateField(_("Beginn"), null=True, blank=True)
    end_date = models.DateField(_("Ende"), null=True, blank=True)
    phase = models.CharField(_("Phase"), max_length=20, choices=Phase.choices, default="laufend")
    goals = RichTextField(_("Ziele"), blank=True, features=RICH_TEXT_FEATURES)
    body = StreamField(BodyBlock(), verbose_name=_("Inhalt"), blank=True)

    @property
    def report_title(self) -> str:
        """What the project's PDF is: its final report once the project is finished, an
        interim report while it is planned or running."""
        return _("Abschlussbericht") if self.phase == self.Phase.FINISHED else _(
            "Zwischenbericht")

    content_panels = [
        *Page.content_panels,
        *KnowledgePage.metadata_panels,
        MultiFieldPanel(
            [FieldPanel("phase"), FieldPanel("start_date"), FieldPanel("end_date")],
            heading=_("Laufzeit"),
        ),
        FieldPanel("goals"),
        FieldPanel("body"),
    ]
    search_fields = [*KnowledgePage.search_fields, index.SearchField("goals"),
                     index.SearchField("body")]

    parent_page_types = ["knowledge.ProjectIndexPage"]
    subpage_types = ["knowledge.SessionProtocolPage", "knowledge.LessonLearnedPage",
                     "knowledge.RoadmapPage"]

    class Meta:
        verbose_name = _("Projekt")
        verbose_name_plural = _("Projekte")

    def get_project(self):
        return self

    def get_context(self, request, *args, **kwargs):
        from knowledge.access import viewable_pages_for_request

        context = super().get_context(request, *args, **kwargs)
        visible = viewable_pages_for_request(request, KnowledgePage)
        children = visible.child_of(self)
        context["protocols"] = (
            children.type(SessionProtocolPage)
            .specific()
            .order_by("sessionprotocolpage__session_number", "date")
        )
        context["lessons"] = children.type(LessonLearnedPage).specific().order_by("-date")
        context["roadmaps"] = children.type(RoadmapPage).specific().order_by("date")
        context["best_practices"] = (
            visible.type(BestPracticePage)
            .filter(bestpracticepage__related_project=self)
            .specific()
            .order_by("-date")
        )
        return context


class SessionProtocolPage(KnowledgePage):
    """The minutes of one project-group session: who, what was discussed, decided and assigned."""

    knowledge_type = "session_protocol"

    class Format(models.TextChoices):
        VIRTUAL = "virtuell", _("virtuell")
        ON_SITE = "vor_ort", _("vor Ort")

    session_number = models.PositiveSmallIntegerField(_("Sitzungsnummer"), default=1)
    format = models.CharField(_("Format"), max_length=10, choices=Format.choices,
                              default=Format.VIRTUAL)
    participants = StreamField([("participant", ParticipantBlock())],
                               verbose_name=_("Teilnehmende"), blank=True)
    agenda_items = StreamField([("agenda_item", AgendaItemBlock())],
                               verbose_name=_("Tagesordnung und Diskussion"), blank=True)
    decisions = StreamField([("decision", DecisionBlock())], verbose_name=_("Beschlüsse"),
                            blank=True)
    action_items = StreamField([("action_item", ActionItemBlock())],
                               verbose_name=_("Aufgaben"), blank=True)
    attachments = StreamField([("attachment", AttachmentBlock())], verbose_name=_("Anlagen"),
                              blank=True)
    body = StreamField(BodyBlock(), verbose_name=_("Weitere Notizen"), blank=True)

    content_panels = [
        *Page.content_panels,
        *KnowledgePage.metadata_panels,
        MultiFieldPanel([FieldPanel("session_number"), FieldPanel("format")],
                        heading=_("Sitzung")),
        FieldPanel("participants"),
        FieldPanel("agenda_items"),
        FieldPanel("decisions"),
        FieldPanel("action_items"),
        FieldPanel("attachments"),
        FieldPanel("body"),
    ]
    search_fields = [*KnowledgePage.search_fields, index.SearchField("agenda_items"),
                     index.SearchField("decisions"), index.SearchField("action_items"),
                     index.SearchField("body")]

    parent_page_types = ["knowledge.ProjectPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("Sitzungsprotokoll")
        verbose_name_plural = _("Sitzungsprotokolle")

    def get_project(self):
        return self.get_parent().specific

    def visible_siblings(self, visible):
        return (
            visible.sibling_of(self, inclusive=False)
            .type(SessionProtocolPage)
            .specific()
            .order_by("sessionprotocolpage__session_number", "date")
        )


class LessonLearnedPage(KnowledgePage):
    """What a municipality learned: starting point, what went well and badly, recommendation."""

    knowledge_type = "lesson_learned"

    situation = RichTextField(_("Ausgangslage"), features=RICH_TEXT_FEATURES)
    went_well = RichTextField(_("Was gut lief"), blank=True, features=RICH_TEXT_FEATURES)
    went_badly = RichTextField(_("Was nicht gut lief"), blank=True, features=RICH_TEXT_FEATURES)
    recommendation = RichTextField(_("Empfehlung"), features=RICH_TEXT_FEATURES)
    body = StreamField(BodyBlock(), verbose_name=_("Weitere Inhalte"), blank=True)

    content_panels = [
        *Page.content_panels,
        *KnowledgePage.metadata_panels,
        FieldPanel("situation"),
        FieldPanel("went_well"),
        FieldPanel("went_badly"),
        FieldPanel("recommendation"),
        FieldPanel("body"),
    ]
    search_fields = [*KnowledgePage.search_fields, index.SearchField("situation"),
                     index.SearchField("went_well"), index.SearchField("went_badly"),
                     index.SearchField("recommendation")]

    parent_page_types = ["knowledge.ProjectPage", "knowledge.LessonLearnedIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("Lesson Learned")
        verbose_name_plural = _("Lessons Learned")

    def get_project(self):
        parent = self.get_parent().specific
        return parent if isinstance(parent, ProjectPage) else None


class BestPracticePage(KnowledgePage):
    """A proven solution another municipality can adopt, with effort and a contact role."""

    knowledge_type = "best_practice"

    problem = RichTextField(_("Problem"), features=RICH_TEXT_FEATURES)
    solution = RichTextField(_("Lösung"), features=RICH_TEXT_FEATURES)
    result = RichTextField(_("Ergebnis"), blank=True, features=RICH_TEXT_FEATURES)
    transferability = RichTextField(_("Übertragbarkeit"), blank=True,
                                    features=RICH_TEXT_FEATURES)
    effort = models.CharField(_("Aufwand"), max_length=300, blank=True)
    contact_role = models.CharField(_("Ansprechpartner (Rolle)"), max_length=200, blank=True)
    contact_email = models.EmailField(_("Kontaktadresse"), blank=True)
    related_project = models.ForeignKey(
        "knowledge.ProjectPage",
        verbose_name=_("Zugehöriges Projekt"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="best_practices",
    )
    body = StreamField(BodyBlock(), verbose_name=_("Weitere Inhalte"), blank=True)

    content_panels = [
        *Page.content_panels,
        *KnowledgePage.metadata_panels,
        PageChooserPanel("related_project", "knowledge.ProjectPage"),
        FieldPanel("problem"),
        FieldPanel("solution"),
        FieldPanel("result"),
        FieldPanel("transferability"),
        MultiFieldPanel(
            [FieldPanel("effort"), FieldPanel("contact_role"), FieldPanel("contact_email")],
            heading=_("Aufwand und Ansprechpartner"),
        ),
        FieldPanel("body"),
    ]
    search_fields = [*KnowledgePage.search_fields, index.SearchField("problem"),
                     index.SearchField("solution"), index.SearchField("result"),
                     index.SearchField("transferability")]

    parent_page_types = ["knowledge.BestPracticeIndexPage"]
    subpage_types = []

    class Meta:
        verbose_name = _("Best Practice")
        verbose_name_plural = _("Best Practices")

    def get_project(self):
        return self.related_project

    def visible_siblings(self, visible):
        """Best practices have no project siblings: show others of the same municipality."""
        return (
            visible.type(BestPracticePage)
            .exclude(pk=self.pk)
            .filter(municipality=self.municipality_id)
            .specific()
            .order_by("-date")[:10]
        )


KNOWLEDGE_PAGE_MODELS = {
    model.knowledge_type: model
    for model in (ProjectPage, SessionProtocolPage, LessonLearnedPage, BestPracticePage,
                  RoadmapPage)
}
