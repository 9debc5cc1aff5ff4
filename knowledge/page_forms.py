"""The page editor's form for knowledge pages: a Kommune member writes for their municipality.

Without it a Kommune account could file a lesson learned as any of the ~40 municipalities, and
only the Redaktion's review would notice. An account with a :class:`MunicipalityMember` entry
that does not edit others' pages (:func:`knowledge.page_cache.edits_or_moderates`) is offered
only its own municipality, preselected; the Redaktion and Beratung keep the full list.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminPageForm


class KnowledgePageForm(WagtailAdminPageForm):
    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, for_user=for_user, **kwargs)
        own = own_municipality(for_user)
        field = self.fields.get("municipality")
        if own is None or field is None:
            return
        # A page filed earlier under another municipality keeps it when edited.
        field.queryset = field.queryset.filter(pk__in=[own.pk, self.instance.municipality_id])
        field.empty_label = None
        # A plain list instead of the snippet chooser, whose picker lists every municipality.
        field.widget = forms.Select(choices=field.choices)
        if not self.instance.pk:
            self.initial["municipality"] = own.pk
        field.help_text = _("Sie schreiben für Ihre Kommune; eine andere trägt die Redaktion "
                            "ein.")


def own_municipality(user):
    """The municipality a non-editor account is tied to, or None (free choice)."""
    from knowledge.models import MunicipalityMember
    from knowledge.page_cache import edits_or_moderates

    if user is None or not user.is_authenticated or edits_or_moderates(user):
        return None
    member = MunicipalityMember.objects.filter(user=user).select_related("municipality").first()
    return member.municipality if member is not None else None
