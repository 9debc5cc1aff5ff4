"""Admin views: the report of attachments and their text, and "Protokoll aus Datei"."""

from __future__ import annotations

import tempfile
from pathlib import Path

import django_filters
from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, DateColumn, TitleColumn
from wagtail.admin.views.reports import ReportView
from wagtail.documents import get_document_model
from wagtail.rich_text import RichText

from attachments.extraction import hexdigest_of, message_for, run_worker
from attachments.formats import extension_of
from attachments.models import DocumentText
from attachments.protocol_import import parse_protocol
from attachments.readers import Section
from attachments.serving import document_policy
from knowledge.spreadsheet import FormulaSafeExportMixin


def may_see_report(user) -> bool:
    return document_policy().user_has_any_permission(user, ["change", "add"])


class AttachmentFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=DocumentText.Status.choices)

    class Meta:
        model = DocumentText
        fields = ["status"]


class AttachmentReportView(FormulaSafeExportMixin, ReportView):
    """Every attached file the user may edit with what the search could read from it,
    problems first. Editors with the documents' "change" permission see all files; a member
    who may only upload sees their own uploads (Wagtail's rule for editing documents), not the
    titles and names of files on pages they may not view."""

    page_title = _("Anhänge im Suchindex")
    header_icon = "doc-full"
    index_url_name = "attachments_report"
    index_results_url_name = "attachments_report_results"
    filterset_class = AttachmentFilterSet
    columns = [
        TitleColumn("document", label=_("Dokument"),
                    url_name="wagtaildocs:edit", id_accessor="document_id"),
        Column("get_status_display", label=_("Status")),
        Column("message", label=_("Meldung")),
        Column("page_count", label=_("Seiten")),
        Column("characters", label=_("Zeichen")),
        DateColumn("extracted_at", label=_("Gelesen am")),
    ]
    list_export = ["document.title", "document.filename", "get_status_display", "message",
                   "page_count", "characters", "extracted_at"]
    export_headings = {"document.title": _("Dokument"), "document.filename": _("Datei"),
                       "get_status_display": _("Status"), "message": _("Meldung"),
                       "page_count": _("Seiten"), "characters": _("Zeichen"),
                       "extracted_at": _("Gelesen am")}

    def dispatch(self, request, *args, **kwargs):
        if not may_see_report(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        order = {"failed": 0, "partial": 1, "skipped": 2, "ok": 3}
        editable = document_policy().instances_user_has_permission_for(self.request.user,
                                                                        "change")
        return DocumentText.objects.filter(document__in=editable).select_related(
            "document").annotate(
            problem_first=Case(*[When(status=k, then=Value(v)) for k, v in order.items()],
                               output_field=IntegerField())
        ).order_by("problem_first", "-extracted_at")


# --- Protokoll aus Datei -----------------------------------------------------------------------

PROTOCOL_EXTENSIONS = ("docx", "odt")


class ProtocolFileForm(forms.Form):
    file = forms.FileField(label=_("Protokolldatei (DOCX oder ODT)"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if extension_of(upload.name) not in PROTOCOL_EXTENSIONS:
            raise forms.ValidationError(_("Bitte eine Word- (.docx) oder LibreOffice-Datei "
                                          "(.odt) hochladen."))
        if upload.size > settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES:
            raise forms.ValidationError(message_for("too_large", "", upload.name))
        return upload


def may_add_protocol(user, project) -> bool:
    return project.permissions_for_user(user).can_add_subpage()


def protocol_from_file(request, project_id: int):
    """Upload minutes, get an unpublished protocol draft under the project, then edit it."""
    from knowledge.models import ProjectPage

    project = get_object_or_404(ProjectPage, pk=project_id)
    if not may_add_protocol(request.user, project):
        raise PermissionDenied
    form = ProtocolFileForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            sections, error = _read_upload(upload)
            if error:
                form.add_error("file", error)
            else:
                page, draft = create_protocol_draft(project, sections, upload, request.user)
                messages.success(request, _("Der Protokollentwurf wurde aus der Datei angelegt. "
                                            "Bitte prüfen und ergänzen, dann veröffentlichen."))
                if draft.date is None:
                    messages.warning(request, _(
                        "In der Datei wurde kein Sitzungsdatum gefunden; eingetragen ist das "
                        "Datum des Projekts. Bitte korrigieren."))
                return redirect("wagtailadmin_pages:edit", page.pk)
        status = 400
    return TemplateResponse(request, "attachments/protocol_from_file.html",
                            {"form": form, "project": project}, status=status)


def _read_upload(upload) -> tuple[list[Section], str]:
    suffix = "." + extension_of(upload.name)
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        answer = run_worker(handle.name, upload.name)
    if not answer.get("ok"):
        return [], message_for(answer.get("code", "corrupt"), answer.get("detail", ""),
                               upload.name)
    return [Section(**s) for s in answer["sections"]], ""


@transaction.atomic
def create_protocol_draft(project, sections: list[Section], upload, user):
    """A draft SessionProtocolPage under ``project`` from the file's sections."""
    from knowledge.importing import markdown_to_rich_text, unique_slug
    from knowledge.models import SessionProtocolPage

    draft = parse_protocol(sections, upload.name)
    number = draft.session_number or project.get_children().type(SessionProtocolPage).count() + 1
    upload.seek(0)
    document = get_document_model()(title=draft.title, uploaded_by_user=user,
                                    file_size=upload.size, file_hash=hexdigest_of(upload, "sha1"))
    upload.seek(0)
    document.file.save(Path(upload.name).name, File(upload), save=False)
    document.save()

    def rich(text: str):
        return RichText(markdown_to_rich_text(text))

    page = SessionProtocolPage(
        title=draft.title,
        slug=unique_slug(project, draft.title),
        live=False,
        owner=user,
        municipality=project.municipality,
        date=draft.date or project.date,
        summary=draft.decisions[0] if draft.decisions else draft.title,
        session_number=number,
        format=draft.format or SessionProtocolPage.Format.VIRTUAL,
        participants=[("participant", p) for p in draft.participants if p["role"]],
        agenda_items=[("agenda_item", {"title": a["title"], "discussion": rich(a["discussion"])})
                      for a in draft.agenda_items],
        decisions=[("decision", {"text": d}) for d in draft.decisions],
        action_items=[("action_item", {**a, "owner_role": a["owner_role"] or "offen"})
                      for a in draft.action_items],
        attachments=[("attachment", {"document": document,
                                     "description": "Originaldatei des Protokolls"})],
        body=[("text", rich(f"## {heading}\n\n{text}" if heading else text))
              for heading, text in draft.notes],
    )
    page.topics = list(project.topics.all())
    project.add_child(instance=page)
    page.save_revision(user=user)
    return page, draft

