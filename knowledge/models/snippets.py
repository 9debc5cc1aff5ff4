"""Municipalities and topics: the two axes along which members look for each other's experience.

Both are Wagtail snippets so that the Redaktion can maintain them in the admin; the import
creates missing ones by name.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.panels import FieldPanel
from wagtail.search import index

from knowledge.text import free_slug, german_slugify


def unique_slug(instance) -> str:
    """A free slug for a new municipality or topic: names that differ only in spelling
    ("Preußisch Oldendorf" / "Preussisch Oldendorf", "Bürger-Portal" / "Bürger Portal") get
    "-2", "-3", … instead of a database error."""
    model = type(instance)
    base = german_slugify(instance.name, max_length=model._meta.get_field("slug").max_length - 4)
    return free_slug(base, model.objects.exclude(pk=instance.pk))


class Municipality(index.Indexed, models.Model):
    """A member of the IT service provider: a town (Stadt), municipality (Gemeinde) or district."""

    class Kind(models.TextChoices):
        STADT = "stadt", _("Stadt")
        GEMEINDE = "gemeinde", _("Gemeinde")
        KREIS = "kreis", _("Kreis")

    name = models.CharField(_("Name"), max_length=120, unique=True)
    slug = models.SlugField(_("Kurzname (URL)"), max_length=120, unique=True, blank=True)
    kind = models.CharField(_("Art"), max_length=10, choices=Kind.choices, default=Kind.STADT)
    district = models.CharField(_("Kreis"), max_length=120, blank=True)
    population = models.PositiveIntegerField(_("Einwohnerzahl"), null=True, blank=True)
    contact_role = models.CharField(
        _("Ansprechpartner im Netzwerk (Rolle)"), max_length=200, blank=True,
        help_text=_("Eine Rolle, kein Name, z. B. „Digitalisierungsbeauftragte“."),
    )
    contact_email = models.EmailField(
        _("Kontaktadresse für das Netzwerk"), blank=True,
        help_text=_("Am besten ein Funktionspostfach, das auch bei Personalwechsel gilt."),
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("kind"),
        FieldPanel("district"),
        FieldPanel("population"),
        FieldPanel("contact_role"),
        FieldPanel("contact_email"),
    ]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("Kommune")
        verbose_name_plural = _("Kommunen")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        """The municipality's profile page (its material at a glance)."""
        return reverse("knowledge:municipality", args=[self.slug])

    def get_browse_url(self):
        return reverse("knowledge:browse") + f"?kommune={self.slug}"


class Topic(index.Indexed, models.Model):
    """A subject area (Digitalisierungsstrategie, E-Akte, ...) shared across municipalities."""

    name = models.CharField(_("Name"), max_length=120, unique=True)
    slug = models.SlugField(_("Kurzname (URL)"), max_length=120, unique=True, blank=True)
    description = models.TextField(_("Beschreibung"), blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]
    search_fields = [index.SearchField("name"), index.AutocompleteField("name")]

    class Meta:
        ordering = ["name"]
        verbose_name = _("Thema")
        verbose_name_plural = _("Themen")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = unique_slug(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("knowledge:browse") + f"?thema={self.slug}"


class MunicipalityMember(models.Model):
    """Which municipality an account writes for.

    A Kommune member drafts lessons and best practices for their own municipality only: the
    page editor offers no other (:mod:`knowledge.page_forms`). The entry also lets the member
    edit colleagues' pages of that municipality (:mod:`knowledge.colleague_editing`).
    Maintained by the Redaktion under "Stammdaten"; an account without an entry may choose
    any municipality and edits only its own pages.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="member_municipality", verbose_name=_("Konto"))
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="members", verbose_name=_("Kommune"))

    panels = [FieldPanel("user"), FieldPanel("municipality")]

    class Meta:
        ordering = ["municipality__name", "user__username"]
        verbose_name = _("Konto einer Kommune")
        verbose_name_plural = _("Konten der Kommunen")

    def __str__(self):
        return f"{self.user.get_username()} – {self.municipality}"
