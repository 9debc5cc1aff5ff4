from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _set_up_site(sender, using="default", **kwargs):
    """After migrate: make sure all permissions exist, then create site skeleton and roles.

    Django creates each app's permissions in that app's own post_migrate handler, which may run
    after this one; creating them here first (idempotent) lets the roles reference them.
    """
    from django.apps import apps
    from django.contrib.auth.management import create_permissions

    from knowledge.setup import ensure_roles

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    ensure_roles()


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    verbose_name = "Wissensnetz"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from knowledge import admin_access, audit, page_cache

        admin_access.register_page_policy()

        post_migrate.connect(_set_up_site, sender=self, dispatch_uid="knowledge-setup")
        audit.connect()
        page_cache.connect()
