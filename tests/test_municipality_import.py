"""Municipality master data in the JSON Lines format: ``type: "municipality"`` lines."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from knowledge.importing import import_records, validate_lines
from knowledge.models import Municipality
from tests.conftest import record

pytestmark = pytest.mark.django_db

LEMGO = {"type": "municipality", "name": "Lemgo", "kind": "stadt", "district": "Kreis Lippe",
         "population": 41000, "contact_role": "Stabsstelle Digitales",
         "contact_email": "digital@lemgo.example"}


def run(*lines: dict):
    valid, errors = validate_lines([json.dumps(line, ensure_ascii=False) for line in lines])
    return valid, errors


def test_municipality_lines_create_update_and_stay_unchanged():
    valid, errors = run(LEMGO, record("project", municipality="Lemgo"))
    assert not errors
    result = import_records(valid)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    lemgo = Municipality.objects.get(name="Lemgo")
    assert (lemgo.district, lemgo.population, lemgo.contact_role, lemgo.contact_email) == (
        "Kreis Lippe", 41000, "Stabsstelle Digitales", "digital@lemgo.example")
    assert lemgo.pages.count() == 1
    assert import_records(run(LEMGO)[0]).unchanged == 1
    moved = import_records(run({**LEMGO, "name": "lemgo", "contact_role": "Hauptamt"})[0])
    assert moved.updated == 1
    assert Municipality.objects.get(name="Lemgo").contact_role == "Hauptamt"


@pytest.mark.parametrize(("change", "reason"), [
    ({"contact_email": "keine-adresse"}, "not a valid e-mail address"),
    ({"kind": "dorf"}, "kind"),
    ({"population": -5}, "population"),
    ({"name": " "}, "name"),
    ({"homepage": "https://lemgo.de"}, "homepage"),
])
def test_bad_municipality_lines_are_reported(change, reason):
    valid, errors = run({**LEMGO, **change})
    assert not valid and len(errors) == 1 and reason in str(errors[0])


def test_duplicate_municipality_lines_are_reported():
    _valid, errors = run(LEMGO, {**LEMGO, "name": "LEMGO"})
    assert len(errors) == 1 and "duplicate" in str(errors[0]) and "line 1" in str(errors[0])


def test_export_with_municipalities_round_trip(tmp_path, make_page):
    valid, _errors = run(LEMGO)
    import_records(valid)
    make_page("project", municipality="Lemgo")
    target = tmp_path / "all.jsonl"
    call_command("export_knowledge", str(target), "--with-municipalities", verbosity=0,
                 stderr=StringIO())
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert lines[0] == LEMGO
    assert lines[1]["type"] == "project"
    Municipality.objects.filter(name="Lemgo").update(contact_role="", population=None)
    out = StringIO()
    call_command("import_knowledge", str(target), stdout=out, stderr=StringIO())
    lemgo = Municipality.objects.get(name="Lemgo")
    assert (lemgo.contact_role, lemgo.population) == ("Stabsstelle Digitales", 41000)
    plain = tmp_path / "pages.jsonl"
    call_command("export_knowledge", str(plain), verbosity=0, stderr=StringIO())
    assert all(json.loads(line)["type"] == "project" for line in plain.read_text().splitlines())
