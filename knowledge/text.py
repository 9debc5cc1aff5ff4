"""Small text helpers used across the project."""

import unicodedata

from django.utils.formats import number_format
from django.utils.text import slugify

_GERMAN_TRANSLITERATION = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def german_slugify(value: str, max_length: int = 80) -> str:
    """Slug that keeps German words readable ("Übergabe" -> "uebergabe", not "ubergabe")."""
    slug = slugify(value.translate(_GERMAN_TRANSLITERATION))[:max_length].strip("-")
    return slug or "seite"


def free_slug(base: str, rows) -> str:
    """``base``, or ``base-2``, ``base-3``, … whichever no row of ``rows`` (a queryset with a
    ``slug`` field) has. Only the candidates starting with ``base`` are fetched, so importing
    thousands of pages into one section stays linear."""
    taken = set(rows.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def strip_control_characters(value: str) -> str:
    """Remove control characters except tab and newline (NUL would make psycopg fail)."""
    return "".join(ch for ch in value if ch in "\t\n" or unicodedata.category(ch) != "Cc")


def clean_query_value(value: str | None, max_length: int = 200) -> str:
    """A query-string value safe to hand to PostgreSQL: no control characters, surrounding
    whitespace removed, bounded length."""
    if not value:
        return ""
    return strip_control_characters(value).strip()[:max_length]


def int_in_range(value: str, lowest: int, highest: int) -> int | None:
    """``value`` as a number if it is written in ASCII digits within the bounds, else None.

    Not ``str.isdigit``: "²" and other Unicode digits pass it and ``int()`` then raises (a
    500 from a query string). More digits than ``highest`` plus any leading zeros cannot be in
    range; ``int()`` of thousands of digits raises as well.
    """
    if not (value.isascii() and value.isdecimal()):
        return None
    digits = value.lstrip("0") or "0"
    if len(digits) > len(str(highest)):
        return None
    number = int(digits)
    return number if lowest <= number <= highest else None


def german_count(value: int) -> str:
    """A count as users read it in German text: "5.000", not "5000" (Django groups digits
    only when asked; the separator follows the active language)."""
    return number_format(value, force_grouping=True)
