"""Admin and serving hooks: download privacy, the attachments report, publish warnings."""

from django.contrib import messages
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from attachments import serving, views
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
    """Publishing succeeds either way; the editor learns which files search cannot read."""
    ids = document_ids_of(page.specific)
    if not ids:
        return
    texts = DocumentText.objects.filter(
        document_id__in=ids,
        status__in=[DocumentText.Status.FAILED, DocumentText.Status.PARTIAL],
    ).select_related("document")
    for text in texts:
        messages.warning(request, f"Anhang „{text.document.title}“: {text.message}")


@hooks.register("register_page_header_buttons")
def protocol_from_file_button(page, user, view_name=None, next_url=None):
    from wagtail.admin.widgets import Button

    from knowledge.models import ProjectPage

    if isinstance(page.specific_deferred, ProjectPage) and views.may_add_protocol(user, page):
        yield Button(_("Protokoll aus Datei"), reverse("protocol_from_file", args=[page.pk]),
                     icon_name="doc-full-inverse", priority=60)
