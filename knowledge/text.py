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


def strip_control_characters(value: str) -> str:
    """Remove control characters except tab and newline (NUL would make psycopg fail)."""
    return "".join(ch for ch in value if ch in "\t\n" or unicodedata.category(ch) != "Cc")


def clean_query_value(value: str | None, max_length: int = 200) -> str:
    """A query-string value safe to hand to PostgreSQL: no control characters, surrounding
    whitespace removed, bounded length."""
    if not value:
        return ""
    return strip_control_characters(value).strip()[:max_length]
