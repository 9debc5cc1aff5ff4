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
        if not self.instance.pk:
            self._start_from_the_project()
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

    def _start_from_the_project(self):
        """A new page below a project (a consultant's protocol of the next session, a lesson
        of the project) starts with the project's municipality and topics, and a protocol with
        the number after the project's last session: the consultant changes what differs
        instead of typing what the project already says."""
        from knowledge.models import ProjectPage, SessionProtocolPage

        parent = self.parent_page.specific if self.parent_page is not None else None
        if not isinstance(parent, ProjectPage):
            return
        if "municipality" in self.fields and parent.municipality_id:
            self.initial["municipality"] = parent.municipality_id
        if "topics" in self.fields:
            self.initial["topics"] = list(parent.topics.values_list("pk", flat=True))
        if "session_number" in self.fields:
            numbers = SessionProtocolPage.objects.child_of(parent).values_list(
                "session_number", flat=True)
            self.initial["session_number"] = max(numbers, default=0) + 1


def own_municipality(user):
    """The municipality a non-editor account is tied to, or None (free choice)."""
    from knowledge.models import MunicipalityMember
    from knowledge.page_cache import edits_or_moderates

    if user is None or not user.is_authenticated or edits_or_moderates(user):
        return None
    member = MunicipalityMember.objects.filter(user=user).select_related("municipality").first()
    return member.municipality if member is not None else None
