"""Delete query-log entries older than KNOWLEDGE_QUERY_LOG_RETENTION_DAYS."""

from django.core.management.base import BaseCommand

from network.querylog import purge_old_entries, retention_days


class Command(BaseCommand):
    help = "Löscht Suchanfragen, die älter als die Aufbewahrungsfrist sind."

    def handle(self, *args, **options):
        deleted = purge_old_entries()
        self.stdout.write(f"{deleted} Suchanfragen älter als {retention_days()} Tage gelöscht.")
