"""Small text helpers used across the project."""

from django.utils.text import slugify

_GERMAN_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def german_slugify(value: str, max_length: int = 80) -> str:
    """Slug that keeps German words readable ("Übergabe" -> "uebergabe", not "ubergabe")."""
    slug = slugify(value.translate(_GERMAN_TRANSLITERATION))[:max_length].strip("-")
    return slug or "seite"
