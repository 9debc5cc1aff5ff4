from django import template

from knowledge.types import TYPE_LABELS

register = template.Library()


@register.filter
def type_label(page) -> str:
    """German label of a knowledge page's type ("Sitzungsprotokoll", ...)."""
    return TYPE_LABELS.get(getattr(page, "knowledge_type", ""), "")
