"""Small text helpers used across the project."""

import unicodedata

from django.utils.text import slugify

_GERMAN_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def german_slugify(value: str, max_length: int = 80) -> str:
    """Slug that keeps German words readable ("Übergabe" -> "uebergabe", not "ubergabe")."""
    slug = slugify(value.translate(_GERMAN_TRANSLITERATION))[:max_length].strip("-")
    return slug or "seite"


def clean_query_value(value: str | None, max_length: int = 200) -> str:
    """A query-string value safe to hand to PostgreSQL: no control characters (NUL would make
    psycopg fail), surrounding whitespace removed, bounded length."""
    if not value:
        return ""
    cleaned = "".join(ch for ch in value if ch in "\t\n" or unicodedata.category(ch) != "Cc")
    return cleaned.strip()[:max_length]
