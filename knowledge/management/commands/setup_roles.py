from django.core.management.base import BaseCommand

from knowledge.setup import ensure_roles


class Command(BaseCommand):
    help = "Create (idempotently) the site structure, the groups Redaktion, Beratung, Kommune "\
        "and the moderation workflow. Also runs automatically after every migrate."

    def handle(self, *args, **options):
        ensure_roles()
        self.stdout.write(self.style.SUCCESS("Site structure, roles and workflow are in place."))
