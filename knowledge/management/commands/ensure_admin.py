"""Create the admin account and demo role accounts once, and print how to log in.

The password is generated on first use and kept in ``KNOWLEDGE_DATA_DIR/admin_password``
(mode 0600) so that ``make run`` can print it again on every start.
"""

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from knowledge.models import Municipality, MunicipalityMember
from knowledge.setup import BERATUNG, KOMMUNE, REDAKTION

DEMO_ACCOUNTS = [("redaktion", REDAKTION), ("beratung", BERATUNG), ("kommune", KOMMUNE)]
# The demo Kommune account writes for this municipality (if the demo content has it).
DEMO_MUNICIPALITY = "Lage"


class Command(BaseCommand):
    help = "Create the superuser 'admin' and demo accounts for each role (idempotent)."

    def handle(self, *args, **options):
        path = settings.KNOWLEDGE_DATA_DIR / "admin_password"
        if not path.exists():
            path.write_text(secrets.token_urlsafe(12))
            path.chmod(0o600)
        password = path.read_text().strip()
        users = get_user_model()
        if not users.objects.filter(username="admin").exists():
            users.objects.create_superuser("admin", "admin@example.org", password)
        municipality = Municipality.objects.filter(name=DEMO_MUNICIPALITY).first()
        for username, group_name in DEMO_ACCOUNTS:
            user, created = users.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.org"}
            )
            if created:
                user.set_password(password)
                user.save()
            user.groups.add(Group.objects.get(name=group_name))
            if group_name == KOMMUNE and municipality is not None:
                MunicipalityMember.objects.get_or_create(
                    user=user, defaults={"municipality": municipality})
        self.stdout.write(
            f"Anmeldung: Benutzer 'admin' (alle Rechte) oder 'redaktion', 'beratung', "
            f"'kommune' (schreibt für {DEMO_MUNICIPALITY}) – Passwort: {password}"
        )
