"""German labels of the knowledge types, shared by templates, search and the API."""

from django.utils.translation import gettext_lazy as _

TYPE_LABELS = {
    "project": _("Projekt"),
    "session_protocol": _("Sitzungsprotokoll"),
    "lesson_learned": _("Lesson Learned"),
    "best_practice": _("Best Practice"),
}
