"""The shared token that says which cached anonymous pages are still current."""

from django.db import models


class PageCacheGeneration(models.Model):
    """One row: a new random token after every commit that changes what visitors can see.

    Each gunicorn process keeps its own page cache in memory; this row is what they share, so
    a page published through one process is never served stale by another. A random token
    (not a counter) cannot repeat after a rolled-back test, and a restore renews it
    (:func:`knowledge.backup.restore_backup`), so an old entry can never be mistaken for a
    current one. Search's page facts (:mod:`search.page_facts`) are keyed by it too.
    """

    token = models.UUIDField()

    class Meta:
        verbose_name = "Seiten-Cache-Stand"

    def __str__(self):
        return str(self.token)
