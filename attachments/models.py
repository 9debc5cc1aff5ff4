"""What was read from an attached file, and which live pages use which file.

:class:`DocumentText` caches the extraction per file content (SHA-256) and extension:
re-indexing a page does not parse its files again, and a file that cannot be read keeps its
German message for the admin. :class:`PageDocument` is the list of files a live page uses;
the download view asks it who may fetch a file (:mod:`attachments.serving`).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.documents import get_document_model_string


class DocumentText(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("gelesen")
        PARTIAL = "partial", _("teilweise gelesen")
        FAILED = "failed", _("nicht lesbar")
        SKIPPED = "skipped", _("nicht durchsuchbares Format")

    document = models.OneToOneField(get_document_model_string(), on_delete=models.CASCADE,
                                    related_name="extracted_text")
    sha256 = models.CharField(max_length=64)
    # The result depends on the name too: the extension picks the reader (and a mismatch with
    # the content is an error), so a renamed file with the same content is read again.
    extension = models.CharField(max_length=16, blank=True)
    # Bumped in attachments.extraction when readers change, so old results are read again.
    extractor_version = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(_("Status"), max_length=10, choices=Status.choices)
    error_code = models.CharField(max_length=30, blank=True)
    message = models.TextField(_("Meldung"), blank=True)
    sections = models.JSONField(default=list, blank=True)
    page_count = models.PositiveIntegerField(_("Seiten"), null=True, blank=True)
    characters = models.PositiveIntegerField(_("Zeichen"), default=0)
    seconds = models.FloatField(default=0.0)
    extracted_at = models.DateTimeField(_("Gelesen am"), auto_now=True)

    class Meta:
        verbose_name = _("Text eines Anhangs")
        verbose_name_plural = _("Texte der Anhänge")

    def __str__(self):
        return f"{self.document_id}: {self.status}"

    @property
    def readable(self) -> bool:
        return self.status in (self.Status.OK, self.Status.PARTIAL)


class PageDocument(models.Model):
    """A file used by a live knowledge page (attachment block, document block or link)."""

    page = models.ForeignKey("knowledge.KnowledgePage", on_delete=models.CASCADE,
                             related_name="document_links")
    document = models.ForeignKey(get_document_model_string(), on_delete=models.CASCADE,
                                 related_name="page_links")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["page_id", "position"]
        constraints = [models.UniqueConstraint(fields=["page", "document"],
                                               name="page_document_unique")]

    def __str__(self):
        return f"{self.page_id} -> {self.document_id}"
