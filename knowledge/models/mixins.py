"""The shared base of every knowledge page (project, protocol, lesson, best practice).

One concrete (but not creatable) base page carries what search, listings, related content and
the import rely on: municipality, topics, date, summary and a stable ``external_id``. Being one
table, it lets a listing filter all kinds by municipality, topic and year in one query, and
makes ``external_id`` unique across all kinds, as the import format requires.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from modelcluster.fields import ParentalManyToManyField
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.models import Page
from wagtail.search import index

from knowledge.colleague_editing import ColleaguePagePermissionTester
from knowledge.page_forms import KnowledgePageForm


class KnowledgePage(Page):
    """Base of all knowledge pages; ``knowledge_type`` is the key used by import, search, API."""

    knowledge_type: str = ""
    is_creatable = False
    base_form_class = KnowledgePageForm

    municipality = models.ForeignKey(
        "knowledge.Municipality",
        verbose_name=_("Kommune"),
        on_delete=models.PROTECT,
        related_name="pages",
    )
    topics = ParentalManyToManyField(
        "knowledge.Topic", verbose_name=_("Themen"), blank=True, related_name="pages"
    )
    date = models.DateField(_("Datum"))
    summary = models.TextField(
        _("Zusammenfassung"),
        help_text=_("Zwei bis vier Sätze: worum geht es, was ist das Ergebnis?"),
    )
    external_id = models.CharField(
        _("Externe Kennung"),
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Stabile Kennung für Import und Export; leer lassen bei Handeingabe."),
    )
    review_by = models.DateField(
        _("Überprüfen bis"),
        null=True,
        blank=True,
        help_text=_("Bis wann der Inhalt auf Aktualität geprüft werden soll. Danach erscheint "
                    "die Seite unter „Aktualität prüfen“ und in der Erinnerung an den Besitzer."),
    )

    metadata_panels = [
        MultiFieldPanel(
            [
                FieldPanel("municipality"),
                FieldPanel("topics"),
                FieldPanel("date"),
                FieldPanel("external_id"),
                FieldPanel("review_by"),
            ],
            heading=_("Einordnung"),
        ),
        FieldPanel("summary"),
    ]

    search_fields = [
        *Page.search_fields,
        index.SearchField("summary"),
        index.FilterField("date"),
        index.RelatedFields("municipality", [index.SearchField("name")]),
        index.RelatedFields("topics", [index.SearchField("name")]),
    ]

    class Meta:
        verbose_name = _("Wissensseite")
        verbose_name_plural = _("Wissensseiten")

    def get_project(self):
        """The project this page belongs to (itself for a project), or None."""
        return None

    def permissions_for_user(self, user):
        """Wagtail's tester, also letting colleagues of the page's municipality edit it
        where they draft (:mod:`knowledge.colleague_editing`)."""
        return ColleaguePagePermissionTester(user, self)

    def get_context(self, request, *args, **kwargs):
        from knowledge.access import viewable_pages_for_request

        context = super().get_context(request, *args, **kwargs)
        project = self.get_project()
        visible = viewable_pages_for_request(request, KnowledgePage)
        if project is not None and not visible.filter(pk=project.pk).exists():
            project = None
        context["project"] = project
        context["siblings"] = self.visible_siblings(visible)
        context["fragment_cache_seconds"] = settings.KNOWLEDGE_FRAGMENT_CACHE_SECONDS
        return context

    def visible_siblings(self, visible):
        """Other pages of the same project (or section) that the viewer may see."""
        return (
            visible.sibling_of(self, inclusive=False)
            .type(type(self))
            .specific()
            .order_by("-date")[:10]
        )
