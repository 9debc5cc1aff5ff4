from django.apps import AppConfig


class AttachmentsConfig(AppConfig):
    """Attached files as knowledge: their text in the index, their download behind the page's
    privacy (see :mod:`attachments.serving`)."""

    name = "attachments"
    verbose_name = "Anhänge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from attachments import permissions

        permissions.register()
