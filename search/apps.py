from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Semantische Suche"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from search.indexing import handlers

        handlers.connect()
