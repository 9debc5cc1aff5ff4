"""Admin and serving hooks: download privacy, the attachments report, publish warnings."""

from django.contrib import messages
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem
from wagtail.documents import get_document_model

from attachments import serving, views
from attachments.formats import extension_of
from attachments.links import document_ids_of
from attachments.models import DocumentText


@hooks.register("before_serve_document")
def check_document_privacy(document, request):
    return serving.check_download(document, request)


@hooks.register("register_admin_urls")
def attachment_admin_urls():
    return [
        path("reports/anhaenge/", views.AttachmentReportView.as_view(),
             name="attachments_report"),
        path("reports/anhaenge/results/",
             views.AttachmentReportView.as_view(results_only=True),
             name="attachments_report_results"),
        path("protokoll-aus-datei/<int:project_id>/", views.protocol_from_file,
             name="protocol_from_file"),
    ]


class _DocumentManagersMenuItem(MenuItem):
    def is_shown(self, request):
        return views.may_see_report(request.user)


@hooks.register("register_reports_menu_item")
def attachment_report_menu_item():
    return _DocumentManagersMenuItem(_("Anhänge im Suchindex"), reverse("attachments_report"),
                                     name="attachments", icon_name="doc-full", order=650)


@hooks.register("after_publish_page")
def warn_about_unreadable_attachments(request, page):
    """Publishing succeeds either way; the editor learns which files search cannot read.

    With a background task queue (production) a new file is read after this request: the
    editor is told where the verdict will appear instead of hearing nothing.
    """
    ids = document_ids_of(page.specific)
    if not ids:
        return
    documents = get_document_model().objects.filter(pk__in=ids).select_related(
        "extracted_text")
    for document in sorted(documents, key=lambda d: ids.index(d.pk)):
        text = getattr(document, "extracted_text", None)
        if text is None or text.extension != extension_of(document.filename):
            messages.info(request, f"Anhang „{document.title}“ wird im Hintergrund "
                                   "ausgelesen; ob er durchsuchbar ist, zeigt der Bericht "
                                   "„Anhänge im Suchindex“.")
        elif text.status in (DocumentText.Status.FAILED, DocumentText.Status.PARTIAL):
            messages.warning(request, f"Anhang „{document.title}“: {text.message}")


@hooks.register("register_page_header_buttons")
def protocol_from_file_button(page, user, view_name=None, next_url=None):
    from wagtail.admin.widgets import Button

    from knowledge.models import ProjectPage

    if isinstance(page.specific_deferred, ProjectPage) and views.may_add_protocol(user, page):
        yield Button(_("Protokoll aus Datei"), reverse("protocol_from_file", args=[page.pk]),
                     icon_name="doc-full-inverse", priority=60)
