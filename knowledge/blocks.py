"""StreamField blocks for the structured parts of knowledge pages.

A session protocol is not free text: its agenda items, decisions and action items are
separate records that the search indexes as passages of their own, so they are blocks with
named fields rather than paragraphs in a rich text.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.snippets.blocks import SnippetChooserBlock

RICH_TEXT_FEATURES = ["h2", "h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link"]
# Introductions of the home and index pages: the same without links to files.
INTRO_FEATURES = [feature for feature in RICH_TEXT_FEATURES if feature != "document-link"]


class ParticipantBlock(blocks.StructBlock):
    """A participant by role, not by name: protocols are shared across municipalities."""

    role = blocks.CharBlock(label=_("Rolle"), max_length=200)
    organisation = blocks.CharBlock(label=_("Organisation"), max_length=200, required=False)

    class Meta:
        icon = "user"
        label = _("Teilnehmende Person")


class AgendaItemBlock(blocks.StructBlock):
    title = blocks.CharBlock(label=_("Tagesordnungspunkt"), max_length=300)
    discussion = blocks.RichTextBlock(
        label=_("Diskussion"), features=RICH_TEXT_FEATURES, required=False
    )

    class Meta:
        icon = "list-ol"
        label = _("Tagesordnungspunkt")


class DecisionBlock(blocks.StructBlock):
    text = blocks.TextBlock(label=_("Beschluss"))

    class Meta:
        icon = "tick"
        label = _("Beschluss")


class ActionItemBlock(blocks.StructBlock):
    STATUS_CHOICES = [
        ("offen", _("offen")),
        ("in_arbeit", _("in Arbeit")),
        ("erledigt", _("erledigt")),
    ]

    task = blocks.TextBlock(label=_("Aufgabe"))
    owner_role = blocks.CharBlock(label=_("Verantwortlich (Rolle)"), max_length=200)
    due_date = blocks.DateBlock(label=_("Fällig am"), required=False)
    status = blocks.ChoiceBlock(label=_("Status"), choices=STATUS_CHOICES, default="offen")

    class Meta:
        icon = "date"
        label = _("Aufgabe")


class AttachmentBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("Dokument"))
    description = blocks.CharBlock(label=_("Beschreibung"), max_length=300, required=False)

    class Meta:
        icon = "doc-full"
        label = _("Anlage")


class BodyBlock(blocks.StreamBlock):
    """Free-form content of any knowledge page."""

    text = blocks.RichTextBlock(label=_("Text"), features=RICH_TEXT_FEATURES)
    quote = blocks.BlockQuoteBlock(label=_("Zitat"))
    document = AttachmentBlock()

    class Meta:
        label = _("Inhalt")


# --- Digitalisierungszeitstrahl (roadmap) ---------------------------------------------------


class MeasureBlock(blocks.StructBlock):
    """One measure of a Digitalbündel: what, on which topic, how far, who is responsible."""

    STATUS_CHOICES = [
        ("geplant", _("geplant")),
        ("laufend", _("laufend")),
        ("erledigt", _("erledigt")),
    ]

    title = blocks.CharBlock(label=_("Maßnahme"), max_length=300)
    topic = SnippetChooserBlock("knowledge.Topic", label=_("Thema"), required=False)
    status = blocks.ChoiceBlock(label=_("Status"), choices=STATUS_CHOICES, default="geplant")
    responsible_role = blocks.CharBlock(label=_("Verantwortlich (Rolle)"), max_length=200,
                                        required=False)
    description = blocks.TextBlock(label=_("Beschreibung"), required=False)

    class Meta:
        icon = "tick-inverse"
        label = _("Maßnahme")


class ChangeModuleBlock(blocks.StructBlock):
    """The change-management cluster that prepares the staff before a bundle starts."""

    title = blocks.CharBlock(label=_("Change-Modul"), max_length=300, required=False)
    description = blocks.TextBlock(label=_("Beschreibung"), required=False)

    class Meta:
        icon = "group"
        label = _("Change-Modul")


class RoadmapStepBlock(blocks.StructBlock):
    """One half-year of the roadmap: its change module and its Digitalbündel of measures."""

    HALF_CHOICES = [("1", _("1. Halbjahr")), ("2", _("2. Halbjahr"))]

    year = blocks.IntegerBlock(label=_("Jahr"), min_value=2000, max_value=2100)
    half = blocks.ChoiceBlock(label=_("Halbjahr"), choices=HALF_CHOICES, default="1")
    title = blocks.CharBlock(label=_("Digitalbündel"), max_length=300)
    change_module = ChangeModuleBlock()
    measures = blocks.ListBlock(MeasureBlock(), label=_("Maßnahmen"))

    class Meta:
        icon = "date"
        label = _("Halbjahresschritt")
