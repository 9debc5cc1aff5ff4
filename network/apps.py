from django.apps import AppConfig


class NetworkConfig(AppConfig):
    """Subscriptions, digests, feeds, feedback, query log and the knowledge-gap dashboard."""

    name = "network"
    verbose_name = "Netzwerk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate
        from wagtail.signals import page_published

        from network.changes import on_page_published
        from network.roles import grant_redaktion_permissions

        page_published.connect(on_page_published, dispatch_uid="network_page_published")
        post_migrate.connect(grant_redaktion_permissions, dispatch_uid="network_roles")
