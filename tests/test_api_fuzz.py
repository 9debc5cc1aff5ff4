"""Fuzzing the JSON API with schemathesis against the project's own OpenAPI schema.

Every operation of ``/api/v1/openapi.json`` is called through the WSGI app (no server) with
generated valid and invalid input; each response must not be a server error and must conform
to the schema (status code, content type, body). ``API_FUZZ_EXAMPLES`` sets the total number
of generated cases, shared out over the operations (CI default: 150); ``make fuzz`` runs the
full size (``API_FUZZ_EXAMPLES=1000``).

The database holds indexed pages (one of them restricted), so searches return hits, snippets
and facets rather than only empty lists.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.contrib.auth.models import Group
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from wagtail.models import PageViewRestriction

from knowledge.wsgi import application
from tests.search_fixtures import *  # noqa: F403

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
_calls: dict[str, int] = {}


@pytest.fixture
def keep_test_connection():
    """Requests through the real WSGI handler would close the test's database connection
    (``close_old_connections`` on request start/finish, as in production); Django's test
    client disconnects it the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


# Loaded once at collection: the schema request touches no database.
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
OPERATIONS = sorted(op.ok().label for op in schema.get_all_operations())
# Total number of generated cases, shared out over the operations.
TOTAL_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "150"))
EXAMPLES = max(10, -(-TOTAL_EXAMPLES // max(1, len(OPERATIONS))))


@pytest.fixture
def fuzz_corpus(indexed_page, keep_test_connection):
    """A few indexed pages of different kinds, municipalities and topics."""
    project = indexed_page("project", title="Digitalisierungsstrategie Lemgo",
                           municipality="Lemgo", topics=["Digitalisierungsstrategie"],
                           body="Breitbandausbau und E-Akte für die Verwaltung.")
    indexed_page("session_protocol", project=project.external_id, title="Erste Sitzung",
                 municipality="Lemgo", body="Die Projektgruppe beschließt den Zeitplan.")
    indexed_page("lesson_learned", title="Einführung der E-Akte", municipality="Detmold",
                 topics=["E-Akte"], date="2022-01-15",
                 summary="Die elektronische Aktenführung scheiterte zunächst an Schulungen.")
    indexed_page("best_practice", title="Digitaler Abfallkalender", municipality="Rahden",
                 topics=["Abfallwirtschaft"], date="2023-05-01",
                 summary="Die Müllabfuhrtermine stehen als App und als iCal-Datei bereit.")
    secret = indexed_page("best_practice", title="Vertraulicher Abfallkalender",
                          municipality="Geheimstadt", summary="Interne Müllabfuhrtermine.")
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_never_fails_and_matches_its_schema(case, fuzz_corpus):
    response = case.call_and_validate(checks=CHECKS)
    _calls[case.operation.label] = _calls.get(case.operation.label, 0) + 1
    assert "Traceback" not in response.text


@pytest.mark.django_db
def test_fuzzing_reached_the_configured_size():
    """Runs after the fuzz test (file order): every operation got generated cases."""
    assert {"GET /api/v1/search", "POST /api/v1/match"} <= set(OPERATIONS)
    if not _calls:
        pytest.skip("the fuzz test did not run in this session (selected alone)")
    assert sorted(_calls) == OPERATIONS
    print(f"API fuzzing: {sum(_calls.values())} generated cases {_calls}")
    assert sum(_calls.values()) >= TOTAL_EXAMPLES, _calls
