"""StreamField blocks for the structured parts of knowledge pages.

A session protocol is not free text: its agenda items, decisions and action items are
separate records that the search indexes as passages of their own, so they are blocks with
named fields rather than paragraphs in a rich text.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.documents.blocks import DocumentChooserBlock

RICH_TEXT_FEATURES = ["h2", "h3", "h4", "bold", "italic", "ol", "ul", "link", "document-link"]


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
