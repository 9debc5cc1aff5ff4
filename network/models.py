"""What keeps the network alive: the query log, feedback, subscriptions and digests.

Privacy by construction: a :class:`QueryLog` row holds the query text, the surface and the
number of results but never a user, session or address, so a query cannot be traced to a
person; it is deleted after ``KNOWLEDGE_QUERY_LOG_RETENTION_DAYS``. :class:`Feedback` keeps a
salted hash of the session only to de-duplicate votes.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class QueryLog(models.Model):
    """One search (page 1 only), API search or matching request, without any personal data."""

    class Surface(models.TextChoices):
        SEARCH = "suche", _("Suchseite")
        API = "api", _("Such-API")
        MATCH = "lernen", _("Von anderen lernen")

    query = models.CharField(_("Suchanfrage"), max_length=300)
    normalized = models.CharField(_("Normalisierte Anfrage"), max_length=300, db_index=True)
    surface = models.CharField(_("Oberfläche"), max_length=10, choices=Surface.choices)
    mode = models.CharField(_("Modus"), max_length=20, blank=True)
    filtered = models.BooleanField(_("Mit Filtern"), default=False)
    result_count = models.PositiveIntegerField(_("Treffer"))
    # Pages containing a word of the query (None: not known, e.g. vector mode or matching).
    # Hybrid search always shows the semantically nearest pages; a gap is a query whose words
    # no page contains.
    word_hits = models.PositiveIntegerField(_("Seiten mit den Suchwörtern"), null=True,
                                            blank=True)
    clicks = models.PositiveIntegerField(_("Klicks"), default=0)
    created_at = models.DateTimeField(_("Zeitpunkt"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("Suchanfrage")
        verbose_name_plural = _("Suchanfragen")
        ordering = ["-created_at"]

    def __str__(self):
        return self.query

    @property
    def feedback_token(self) -> str:
        """What a result's feedback form sends to name this search (signed)."""
        from network.feedback import feedback_token

        return feedback_token(self.pk)


class Feedback(models.Model):
    """"War das hilfreich?" on a page, a search result or a matching suggestion."""

    class Source(models.TextChoices):
        PAGE = "seite", _("Wissensseite")
        SEARCH = "suche", _("Suchergebnis")
        MATCH = "lernen", _("Vorschlag (Von anderen lernen)")

    page = models.ForeignKey("wagtailcore.Page", verbose_name=_("Seite"),
                             on_delete=models.CASCADE, related_name="network_feedback")
    helpful = models.BooleanField(_("Hilfreich"))
    comment = models.TextField(_("Kommentar"), blank=True)
    source = models.CharField(_("Herkunft"), max_length=10, choices=Source.choices)
    query_log = models.ForeignKey(QueryLog, verbose_name=_("Suchanfrage"), null=True,
                                  blank=True, on_delete=models.SET_NULL,
                                  related_name="feedback")
    query = models.CharField(_("Suchanfrage"), max_length=300, blank=True)
    rank = models.PositiveSmallIntegerField(_("Rang"), null=True, blank=True)
    session_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(_("Erstellt"), auto_now_add=True)
    updated_at = models.DateTimeField(_("Geändert"), auto_now=True)

    class Meta:
        verbose_name = _("Rückmeldung")
        verbose_name_plural = _("Rückmeldungen")
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["session_hash", "page", "source", "query"],
                                    name="network_feedback_one_per_session"),
        ]

    def __str__(self):
        return f"{self.page_id}: {'ja' if self.helpful else 'nein'}"


class PageChange(models.Model):
    """A page was published for the first time or changed substantially: digest material.

    Written by the ``page_published`` handler; small edits (typos) produce no row, so a
    digest never announces a page for a comma.
    """

    class Kind(models.TextChoices):
        NEW = "neu", _("neu")
        UPDATED = "aktualisiert", _("aktualisiert")

    page = models.ForeignKey("wagtailcore.Page", on_delete=models.CASCADE,
                             related_name="network_changes")
    kind = models.CharField(max_length=15, choices=Kind.choices)
    changed_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["changed_at"]

    def __str__(self):
        return f"{self.page_id} {self.kind} {self.changed_at:%Y-%m-%d}"


class PageText(models.Model):
    """The text of a page as last announced, to tell a substantial update from a small one."""

    page = models.OneToOneField("wagtailcore.Page", on_delete=models.CASCADE,
                                primary_key=True, related_name="network_text")
    text = models.TextField()

    def __str__(self):
        return str(self.page_id)


class DigestSettings(models.Model):
    """A member's digest rhythm and the end of the last digest window (the watermark)."""

    class Frequency(models.TextChoices):
        DAILY = "taeglich", _("täglich")
        WEEKLY = "woechentlich", _("wöchentlich")
        NEVER = "nie", _("keine E-Mails")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                primary_key=True, related_name="digest_settings")
    frequency = models.CharField(_("Zusammenfassung per E-Mail"), max_length=15,
                                 choices=Frequency.choices, default=Frequency.WEEKLY)
    covered_until = models.DateTimeField(null=True, blank=True)
    # When the next digest is due: the previous due time plus the period, not the time the
    # previous run happened to start (an hourly cron, up to two hours early each time, would
    # move the digests towards midnight). None: one period after ``covered_until``.
    next_due = models.DateTimeField(null=True, blank=True)
    token_version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("E-Mail-Einstellung")
        verbose_name_plural = _("E-Mail-Einstellungen")

    def __str__(self):
        return f"{self.user_id}: {self.frequency}"


class Subscription(models.Model):
    """Follow a topic, a municipality, a project or a saved search (query + filters)."""

    class Kind(models.TextChoices):
        TOPIC = "thema", _("Thema")
        MUNICIPALITY = "kommune", _("Kommune")
        PROJECT = "projekt", _("Projekt")
        SEARCH = "suche", _("Gespeicherte Suche")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="subscriptions")
    kind = models.CharField(_("Art"), max_length=10, choices=Kind.choices)
    topic = models.ForeignKey("knowledge.Topic", null=True, blank=True,
                              on_delete=models.CASCADE, verbose_name=_("Thema"))
    municipality = models.ForeignKey("knowledge.Municipality", null=True, blank=True,
                                     on_delete=models.CASCADE, verbose_name=_("Kommune"))
    project = models.ForeignKey("wagtailcore.Page", null=True, blank=True,
                                on_delete=models.CASCADE, verbose_name=_("Projekt"),
                                related_name="+")
    query = models.CharField(_("Suchanfrage"), max_length=300, blank=True)
    filters = models.JSONField(_("Filter"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Benachrichtigung")
        verbose_name_plural = _("Benachrichtigungen")
        ordering = ["kind", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "kind", "topic", "municipality", "project", "query",
                        "filters"],
                name="network_subscription_unique", nulls_distinct=False),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.label}"

    def label_for(self, viewable_project_ids) -> str:
        """The label as a member may see it: a project they may no longer view (restricted or
        unpublished since they followed it) is not named; they can still stop following it."""
        if self.kind == self.Kind.PROJECT and self.project_id not in viewable_project_ids:
            return str(_("ein Projekt, das Sie nicht mehr sehen können"))
        return self.label

    @property
    def label(self) -> str:
        """The label with nothing hidden: for the member only through :meth:`label_for`."""
        if self.kind == self.Kind.TOPIC:
            return self.topic.name
        if self.kind == self.Kind.MUNICIPALITY:
            return self.municipality.name
        if self.kind == self.Kind.PROJECT:
            return self.project.title
        return self.query


class Digest(models.Model):
    """One digest e-mail per member and period: the unique key makes sending idempotent."""

    class Status(models.TextChoices):
        PENDING = "offen", _("offen")
        SENT = "gesendet", _("gesendet")
        EMPTY = "leer", _("nichts Neues")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="digests")
    period = models.CharField(max_length=20)  # "2026-12-03" (daily) or "2026-W49" (weekly)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    page_count = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    # The PageChange ids this digest considered at sending time (None: sent before they were
    # recorded). A later digest looks back for changes none of them considered.
    change_ids = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "period"], name="network_digest_once"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.period} {self.status}"
