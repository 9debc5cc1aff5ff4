"""import_knowledge / export_knowledge: validation, idempotency, sanitising, round trip."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from knowledge.importing import markdown_to_rich_text
from knowledge.models import KnowledgePage, LessonLearnedPage, Municipality, ProjectPage, Topic
from tests.conftest import record

pytestmark = pytest.mark.django_db


def write_jsonl(tmp_path, rows, name="data.jsonl"):
    path = tmp_path / name
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                for r in rows),
        encoding="utf-8",
    )
    return path


def run_import(path, *args):
    out, err = StringIO(), StringIO()
    call_command("import_knowledge", str(path), *args, stdout=out, stderr=err, verbosity=0)
    return out.getvalue(), err.getvalue()


def project_family():
    project = record("project", external_id="p-1", title="Digitalisierungsstrategie Spenge",
                     municipality="Spenge", topics=["Digitalisierungsstrategie"],
                     phase="abgeschlossen", start_date="2021-01-20", end_date="2021-07-08",
                     goals="- Zeitstrahl\n- Digitalbündel")
    protocol = record(
        "session_protocol", external_id="s-1", project="p-1", municipality="Spenge",
        title="1. Sitzung: Kick-off", session_number=1, format="virtuell",
        participants=[{"role": "Bürgermeister", "organisation": "Stadt Spenge"}],
        agenda_items=[{"title": "Ist-Aufnahme", "discussion": "Die **Ausgangslage** wurde "
                       "besprochen.\n\n- Papierakten\n- Fachverfahren"}],
        decisions=["Die Projektgruppe tagt monatlich."],
        action_items=[{"task": "Prozessliste erstellen", "owner_role": "Hauptamt",
                       "due_date": "2021-02-15", "status": "erledigt"}],
    )
    lesson = record("lesson_learned", external_id="l-1", project="p-1", municipality="Spenge",
                    title="Personalrat früh einbinden", went_well="Offene Gespräche.",
                    went_badly="Späte Einladung.")
    practice = record("best_practice", external_id="b-1", project="p-1", municipality="Enger",
                      topics=["E-Akte und Dokumentenmanagement", "Prozessmanagement"],
                      title="Zentrales Scannen", effort="gering", contact_role="Hauptamt",
                      contact_email="hauptamt@enger.example.org")
    standalone = record("lesson_learned", external_id="l-2", municipality="Kreis Lippe",
                        title="Ohne Projekt gelernt")
    return [project, protocol, lesson, practice, standalone]


def test_import_creates_pages_in_the_tree(tmp_path):
    out, _ = run_import(write_jsonl(tmp_path, project_family()))
    assert "5 created" in out
    project = ProjectPage.objects.get(external_id="p-1")
    protocol = KnowledgePage.objects.get(external_id="s-1").specific
    assert protocol.get_parent().pk == project.pk
    assert LessonLearnedPage.objects.get(external_id="l-1").get_parent().pk == project.pk
    assert LessonLearnedPage.objects.get(external_id="l-2").get_parent().specific_class.__name__ \
        == "LessonLearnedIndexPage"
    practice = KnowledgePage.objects.get(external_id="b-1").specific
    assert practice.related_project == project
    assert all(p.live for p in KnowledgePage.objects.all())
    assert Municipality.objects.filter(name="Enger").exists()
    assert Topic.objects.filter(name="Prozessmanagement").exists()
    assert protocol.action_items[0].value["status"] == "erledigt"
    assert "<b>Ausgangslage</b>" in protocol.agenda_items[0].value["discussion"].source


def test_import_is_idempotent_and_updates(tmp_path):
    rows = project_family()
    path = write_jsonl(tmp_path, rows)
    run_import(path)
    revisions = {p.pk: p.revisions.count() for p in KnowledgePage.objects.all()}
    out, _ = run_import(path)
    assert "0 created, 0 updated, 5 unchanged" in out
    assert revisions == {p.pk: p.revisions.count() for p in KnowledgePage.objects.all()}

    rows[2]["title"] = "Personalrat in die erste Sitzung"
    out, _ = run_import(write_jsonl(tmp_path, rows))
    assert "1 updated" in out
    assert LessonLearnedPage.objects.get(external_id="l-1").title == \
        "Personalrat in die erste Sitzung"
    assert KnowledgePage.objects.count() == 5


def test_import_moves_a_lesson_to_another_project(tmp_path):
    rows = project_family()
    other = record("project", external_id="p-2", municipality="Spenge", title="E-Akte Spenge")
    run_import(write_jsonl(tmp_path, [*rows, other]))
    rows[2]["project"] = "p-2"
    run_import(write_jsonl(tmp_path, [*rows, other]))
    lesson = LessonLearnedPage.objects.get(external_id="l-1")
    assert lesson.get_parent().specific.external_id == "p-2"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps(record("meeting")), "unknown type 'meeting'"),
        (json.dumps({k: v for k, v in record("project").items() if k != "title"}),
         "missing required field 'title'"),
        (json.dumps(record("project", title="   ")), "field 'title'"),
        (json.dumps({k: v for k, v in record("project").items() if k != "external_id"}),
         "missing required field 'external_id'"),
        (json.dumps(record("project", date="2024-02-30")), "not a valid calendar date"),
        (json.dumps(record("project", date="01.03.2024")), "expected a date as YYYY-MM-DD"),
        (json.dumps(record("lesson_learned", project="does-not-exist")),
         "unknown project reference 'does-not-exist'"),
        (json.dumps(record("session_protocol")), "needs the external_id of its 'project'"),
        (json.dumps(record("best_practice", contact_email="kein-mail")),
         "not a valid e-mail address"),
        (json.dumps(record("project", colour="blau")), "unknown field 'colour'"),
        (json.dumps(record("project", topics=["T" * 121])), "field 'topics"),
    ],
)
def test_bad_lines_are_reported_and_nothing_is_imported(tmp_path, line, reason):
    good = record("project", external_id="good-1")
    path = write_jsonl(tmp_path, [good, line])
    with pytest.raises(CommandError, match="nothing was imported"):
        out, err = StringIO(), StringIO()
        try:
            call_command("import_knowledge", str(path), stdout=out, stderr=err, verbosity=0)
        finally:
            assert f"line 2: {reason}" in err.getvalue() or reason in err.getvalue(), \
                err.getvalue()
            assert "line 2" in err.getvalue()
    assert not KnowledgePage.objects.exists()


def test_names_that_differ_only_in_spelling_get_their_own_slug(tmp_path):
    """Both slugify to the same text; the unique slug made the import crash."""
    rows = [record("best_practice", municipality="Preußisch Oldendorf"),
            record("best_practice", municipality="Preussisch Oldendorf",
                   topics=["Bürger Portal", "Bürger-Portal"])]
    run_import(write_jsonl(tmp_path, rows))
    assert set(Municipality.objects.filter(name__startswith="Preu").values_list(
        "slug", flat=True)) == {"preussisch-oldendorf", "preussisch-oldendorf-2"}
    assert set(Topic.objects.filter(name__startswith="Bürger").values_list(
        "slug", flat=True)) == {"buerger-portal", "buerger-portal-2"}


def test_imported_pages_count_as_published_on_their_own_date(tmp_path):
    """Not on the import day: a 2022 protocol moved from another system is 2022 material
    (gap report, review reminders, feeds); a future date counts as today."""
    import datetime as dt

    from django.utils import timezone

    run_import(write_jsonl(tmp_path, [record("project", external_id="alt", date="2022-09-13"),
                                      record("project", external_id="plan",
                                             date="2099-01-01")]))
    old = KnowledgePage.objects.get(external_id="alt")
    assert timezone.localtime(old.first_published_at).date() == dt.date(2022, 9, 13)
    assert old.last_published_at == old.first_published_at
    planned = KnowledgePage.objects.get(external_id="plan")
    assert timezone.now() - planned.first_published_at < dt.timedelta(minutes=5)


def test_line_separators_inside_texts_survive_export_and_import(tmp_path):
    """Text pasted from Word or PDF carries U+2028; the export writes it raw inside a JSON
    string, and the import split lines at it."""
    path = write_jsonl(tmp_path, [record("project", external_id="p-ls",
                                         summary="Erste Zeile\u2028zweite Zeile")])
    run_import(path)
    exported = tmp_path / "export.jsonl"
    call_command("export_knowledge", str(exported), verbosity=0, stderr=StringIO())
    assert "\u2028" in exported.read_text(encoding="utf-8")
    out, _err = run_import(exported)
    assert "1 unchanged" in out


def test_attachment_behind_a_symbolic_link_out_of_the_directory_is_refused(tmp_path):
    outside = tmp_path / "geheim.txt"
    outside.write_text("Vertraulich", encoding="utf-8")
    inside = tmp_path / "daten"
    inside.mkdir()
    (inside / "link.txt").symlink_to(outside)
    row = record("project", attachments=[{"title": "Link", "file": "link.txt"}])
    with pytest.raises(CommandError, match="nothing was imported"):
        err = StringIO()
        try:
            call_command("import_knowledge", str(write_jsonl(inside, [row])), stderr=err,
                         verbosity=0)
        finally:
            assert "stay inside the directory" in err.getvalue()


def test_duplicate_external_id_in_file(tmp_path):
    a = record("project", external_id="dup")
    b = record("project", external_id="dup", title="Zweite")
    path = write_jsonl(tmp_path, [a, b])
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_knowledge", str(path), stderr=err, verbosity=0)
    assert "line 2: duplicate external_id 'dup' (first used on line 1)" in err.getvalue()
    assert not KnowledgePage.objects.exists()


def test_skip_invalid_imports_the_rest_but_fails(tmp_path):
    rows = [*project_family(), "{broken", json.dumps(record("project", date="gestern"))]
    path = write_jsonl(tmp_path, rows)
    err = StringIO()
    with pytest.raises(CommandError, match="2 invalid line"):
        call_command("import_knowledge", str(path), "--skip-invalid", stderr=err, verbosity=0)
    assert "line 6: invalid JSON" in err.getvalue()
    assert "line 7:" in err.getvalue()
    assert KnowledgePage.objects.count() == 5


def test_children_of_an_invalid_project_are_invalid_too(tmp_path):
    rows = project_family()
    rows[0]["date"] = "kein Datum"
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_knowledge", str(write_jsonl(tmp_path, rows)), "--skip-invalid",
                     stderr=err, verbosity=0)
    assert "its project 'p-1' is invalid" in err.getvalue()
    assert set(KnowledgePage.objects.values_list("external_id", flat=True)) == {"l-2"}


def test_type_change_of_existing_page_is_rejected(tmp_path, make_page):
    make_page("best_practice", external_id="x-1")
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_knowledge",
                     str(write_jsonl(tmp_path, [record("project", external_id="x-1")])),
                     stderr=err, verbosity=0)
    assert "already belongs to a page of type 'best_practice'" in err.getvalue()


def test_missing_file_gives_clear_error(tmp_path):
    with pytest.raises(CommandError, match="File not found"):
        call_command("import_knowledge", str(tmp_path / "nope.jsonl"))


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert('x')</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">klick</a>',
        '<p onclick="steal()">Text</p>',
        "[klick](javascript:alert(1))",
        '<iframe src="https://evil.example"></iframe>',
        '<svg onload="alert(1)"></svg>',
    ],
)
def test_markdown_is_sanitised(hostile):
    html = markdown_to_rich_text(f"Vorher\n\n{hostile}\n\nNachher")
    lowered = html.lower()
    for needle in ("<script", "alert(", "onerror", "onclick", "onload", "javascript:",
                   "<iframe", "<svg", "<img"):
        assert needle not in lowered, html
    assert "Vorher" in html and "Nachher" in html


def test_markdown_structure_is_kept():
    html = markdown_to_rich_text("# Titel\n\nEin **fetter** und *kursiver* Text mit "
                                 "[Link](https://example.org).\n\n1. eins\n2. zwei")
    assert "<h2>Titel</h2>" in html
    assert "<b>fetter</b>" in html and "<i>kursiver</i>" in html
    assert '<a href="https://example.org">Link</a>' in html
    assert "<ol>" in html


def test_export_then_import_into_empty_database_gives_same_pages(tmp_path, django_db_blocker):
    run_import(write_jsonl(tmp_path, project_family()))
    first = tmp_path / "first.jsonl"
    call_command("export_knowledge", str(first), verbosity=0, stderr=StringIO())
    exported = [json.loads(line) for line in first.read_text().splitlines()]
    assert {r["external_id"] for r in exported} == {"p-1", "s-1", "l-1", "b-1", "l-2"}

    # Empty the database of knowledge pages and import the export again.
    for page in KnowledgePage.objects.order_by("-depth"):
        page.delete()
    assert not KnowledgePage.objects.exists()
    out, _ = run_import(first)
    assert "5 created" in out
    second = tmp_path / "second.jsonl"
    call_command("export_knowledge", str(second), verbosity=0, stderr=StringIO())
    assert second.read_text() == first.read_text()
    # Same tree and URLs.
    assert KnowledgePage.objects.get(external_id="s-1").url == \
        "/projekte/digitalisierungsstrategie-spenge/1-sitzung-kick-off/"


def test_export_gives_hand_made_pages_a_stable_id(tmp_path, make_page):
    page = make_page("lesson_learned")
    KnowledgePage.objects.filter(pk=page.pk).update(external_id=None)
    target = tmp_path / "out.jsonl"
    call_command("export_knowledge", str(target), verbosity=0, stderr=StringIO())
    assert json.loads(target.read_text())["external_id"] == f"wagtail-{page.pk}"
    out, _ = run_import(target)
    assert "1 unchanged" in out
