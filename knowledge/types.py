"""The knowledge types: German labels and the type of a page row, shared by templates, search
and the API."""

from django.utils.translation import gettext_lazy as _

TYPE_LABELS = {
    "project": _("Projekt"),
    "session_protocol": _("Sitzungsprotokoll"),
    "lesson_learned": _("Lesson Learned"),
    "best_practice": _("Best Practice"),
    "roadmap": _("Digitalisierungszeitstrahl"),
}


def knowledge_type_of(content_type_id: int) -> str:
    """The knowledge type of a page's content type ("" for other page types).

    Result lists read pages as plain rows; the content type cache resolves the id without a
    query.
    """
    from django.contrib.contenttypes.models import ContentType

    model = ContentType.objects.get_for_id(content_type_id).model_class()
    return getattr(model, "knowledge_type", "")
