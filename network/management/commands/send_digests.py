"""Send the due e-mail digests (cron: hourly or daily; safe to run repeatedly)."""

from django.core.management.base import BaseCommand

from network.digests import send_digests
from network.querylog import purge_old_entries


class Command(BaseCommand):
    help = ("Versendet fällige E-Mail-Zusammenfassungen (idempotent) und löscht alte "
            "Suchprotokoll-Einträge.")

    def handle(self, *args, **options):
        report = send_digests()
        purged = purge_old_entries()
        self.stdout.write(f"Zusammenfassungen: {report.sent} gesendet, {report.empty} ohne "
                          f"Neues, {report.failed} fehlgeschlagen (bleiben offen); "
                          f"{purged} alte Suchanfragen gelöscht.")
        if report.failed:
            raise SystemExit(1)
