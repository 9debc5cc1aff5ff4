"""Shared fixtures: real pages in the real (embedded, throwaway) PostgreSQL.

The site skeleton (home, section index pages), the groups Redaktion/Beratung/Kommune and the
moderation workflow exist in every test database: they are created after migrate.
"""

from __future__ import annotations

import itertools
import json

import pytest
from django.contrib.auth.models import Group

from knowledge.importing import import_records, validate_lines

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def _empty_cache():
    """Every test starts with empty caches.

    Index statistics and related lists are cached per index generation, and anonymous pages
    and search's page facts per page-cache token, which both advance on commit; test
    transactions roll back, so without this a later test would read an earlier test's pages.
    """
    from django.core.cache import caches

    from search import page_facts

    for cache in caches.all():
        cache.clear()
    page_facts.forget()
    yield
    for cache in caches.all():
        cache.clear()
    page_facts.forget()


@pytest.fixture
def import_lines(db):
    """Import records (dicts in the JSONL format) through the real importer; fail on errors."""

    def _import(*records: dict):
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        valid, errors = validate_lines(lines)
        assert not errors, [str(e) for e in errors]
        return import_records(valid)

    return _import


def record(kind: str, **overrides) -> dict:
    """A minimal valid import record of ``kind`` with a fresh external_id."""
    n = next(_counter)
    base = {
        "external_id": f"{kind}-{n}",
        "type": kind,
        "title": f"Testseite {n}",
        "municipality": "Lemgo",
        "topics": ["Digitalisierungsstrategie"],
        "date": "2024-03-01",
        "summary": "Kurze Zusammenfassung.",
        "body": "",
        "project": None,
    }
    base.update(REQUIRED_BY_TYPE.get(kind, {}))
    base.update(overrides)
    return base


REQUIRED_BY_TYPE = {
    "lesson_learned": {"situation": "Ausgangslage.", "recommendation": "Empfehlung."},
    "best_practice": {"problem": "Problem.", "solution": "Lösung."},
}


@pytest.fixture
def make_page(import_lines):
    """Create one page via the importer and return it as its specific class."""
    from knowledge.models import KnowledgePage

    def _make(kind: str, **overrides):
        data = record(kind, **overrides)
        import_lines(data)
        return KnowledgePage.objects.get(external_id=data["external_id"]).specific

    return _make


@pytest.fixture
def user_in(django_user_model):
    """Create a user in one of the role groups (or none): ``user_in("Kommune")``."""

    def _make(group_name: str | None = None, **kwargs):
        n = next(_counter)
        user = django_user_model.objects.create_user(
            username=kwargs.pop("username", f"user{n}"), password="pw-123456", **kwargs
        )
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
        return user

    return _make
