"""Property-based tests of the import format: random malformed input never crashes the
command and never imports partially."""

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.importing import KNOWLEDGE_TYPES, import_records, validate_lines
from knowledge.models import KnowledgePage
from knowledge.text import strip_control_characters

pytestmark = pytest.mark.django_db

GOOD = {
    "external_id": "ok-1", "type": "project", "title": "Gutes Projekt", "municipality": "Lemgo",
    "topics": ["Digitalisierungsstrategie"], "date": "2024-01-01", "summary": "Gut.",
    "project": None,
}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=3)
    | st.dictionaries(st.text(max_size=10), children, max_size=3),
    max_leaves=8,
)
fields = st.sampled_from(["external_id", "type", "title", "municipality", "topics", "date",
                          "summary", "body", "project", "phase", "session_number", "format",
                          "decisions", "action_items", "situation", "problem", "contact_email"])


@st.composite
def mutated_record(draw):
    """A plausible record with one to three fields replaced by random JSON or removed."""
    record = dict(GOOD, type=draw(st.sampled_from([*KNOWLEDGE_TYPES, "meeting"])))
    record["external_id"] = "rand-" + draw(st.text(string.ascii_lowercase, min_size=1,
                                                   max_size=8))
    for _ in range(draw(st.integers(1, 3))):
        name = draw(fields)
        if draw(st.booleans()):
            record.pop(name, None)
        else:
            record[name] = draw(json_values)
    return json.dumps(record, ensure_ascii=False)


raw_lines = st.one_of(
    st.text(max_size=80),  # arbitrary text, including control characters
    mutated_record(),
    st.builds(json.dumps, json_values),
)


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(lines=st.lists(raw_lines, min_size=1, max_size=6))
def test_random_lines_never_crash_and_bad_files_import_nothing(lines):
    all_lines = [json.dumps(GOOD), *lines]
    valid, errors = validate_lines(all_lines)  # must not raise
    numbers = {e.line for e in errors} | {v.line for v in valid}
    non_blank = {n for n, line in enumerate(all_lines, start=1) if line.strip()}
    assert numbers == non_blank, "every non-blank line is either valid or reported"
    for error in errors:
        assert error.reason and str(error).startswith(f"line {error.line}: ")
    if errors:
        return  # the command stops here: nothing is written (see test_import_export)
    before = KnowledgePage.objects.count()
    result = import_records(valid)
    assert result.created + result.updated + result.unchanged == len(valid)
    assert KnowledgePage.objects.count() >= before


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(title=st.text(min_size=1, max_size=300), body=st.text(max_size=400))
def test_any_text_imports_or_is_rejected_cleanly(title, body):
    line = json.dumps(dict(GOOD, external_id="t-1", title=title, body=body))
    valid, errors = validate_lines([line])
    if errors:
        assert len(errors) == 1 and errors[0].line == 1
        return
    import_records(valid)
    page = KnowledgePage.objects.get(external_id="t-1")
    assert page.title == strip_control_characters(title).strip()
    assert not any(ch in page.title for ch in "\x00\x1f\x7f")
