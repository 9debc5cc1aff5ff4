"""Attachments in import/export (round trip, bad references) and "Protokoll aus Datei"."""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from wagtail.documents import get_document_model

from knowledge.importing import attachment_documents
from knowledge.models import KnowledgePage, SessionProtocolPage
from search.models import Passage
from tests.attachment_files import PROTOCOL_DOCX, REPORT_PDF, SURVEY_PPTX
from tests.conftest import record
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _write_jsonl(path, *records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")


def _records_with_files(tmp_path):
    (tmp_path / "dateien").mkdir()
    shutil.copy(REPORT_PDF, tmp_path / "dateien" / "bericht.pdf")
    shutil.copy(SURVEY_PPTX, tmp_path / "dateien" / "folien.pptx")
    project = record("project", external_id="p-anhang", title="Projekt mit Bericht",
                     attachments=[{"title": "Abschlussbericht", "file": "dateien/bericht.pdf"}])
    protocol = record("session_protocol", external_id="s-anhang", project="p-anhang",
                      title="Sitzung mit Folien",
                      attachments=[{"title": "Folien", "file": "dateien/folien.pptx",
                                    "description": "Vortrag"}])
    return project, protocol


def test_import_export_round_trip_with_attachments(tmp_path, synced):
    source = tmp_path / "quelle"
    source.mkdir()
    _write_jsonl(source / "daten.jsonl", *_records_with_files(source))
    with synced():
        call_command("import_knowledge", str(source / "daten.jsonl"), stdout=StringIO(),
                     verbosity=0)
    protocol = SessionProtocolPage.objects.get(external_id="s-anhang")
    [(slides, description)] = attachment_documents(protocol)
    assert slides.title == "Folien" and description == "Vortrag"
    assert Passage.objects.filter(page=protocol, kind="attachment", source_page=3).exists()
    project = KnowledgePage.objects.get(external_id="p-anhang").specific
    assert [d.title for d, _ in attachment_documents(project)] == ["Abschlussbericht"]

    # Importing the same file again changes nothing and creates no second document.
    out = StringIO()
    call_command("import_knowledge", str(source / "daten.jsonl"), stdout=out, verbosity=0)
    assert "0 created, 0 updated, 2 unchanged" in out.getvalue()
    assert get_document_model().objects.count() == 2

    target = tmp_path / "export"
    target.mkdir()
    call_command("export_knowledge", str(target / "export.jsonl"), verbosity=0,
                 stderr=StringIO())
    lines = [json.loads(line) for line in (target / "export.jsonl").read_text().splitlines()]
    exported = {line["external_id"]: line for line in lines}
    [entry] = exported["s-anhang"]["attachments"]
    assert entry["title"] == "Folien" and entry["description"] == "Vortrag"
    assert (target / entry["file"]).read_bytes() == SURVEY_PPTX.read_bytes()
    [report] = exported["p-anhang"]["attachments"]
    assert (target / report["file"]).read_bytes() == REPORT_PDF.read_bytes()

    # The export imports into an empty site with the same pages and files.
    for page in KnowledgePage.objects.order_by("-depth"):
        page.delete()
    get_document_model().objects.all().delete()
    with synced():
        call_command("import_knowledge", str(target / "export.jsonl"), stdout=StringIO(),
                     verbosity=0)
    again = SessionProtocolPage.objects.get(external_id="s-anhang")
    [(document, _)] = attachment_documents(again)
    with document.file.open("rb") as handle:
        assert handle.read() == SURVEY_PPTX.read_bytes()
    assert Passage.objects.filter(page=again, kind="attachment").exists()


@pytest.mark.parametrize(("file", "reason"), [
    ("dateien/fehlt.pdf", "not found"),
    ("dateien/programm.exe", "unknown file type"),
    ("../ausserhalb.pdf", "must be relative"),
    ("/etc/passwd", "must be relative"),
    ("dateien/bericht.pdf", "too large"),
])
def test_bad_attachment_reference_reports_the_line_and_imports_nothing(tmp_path, settings,
                                                                        file, reason):
    (tmp_path / "dateien").mkdir()
    shutil.copy(REPORT_PDF, tmp_path / "dateien" / "bericht.pdf")
    (tmp_path / "dateien" / "programm.exe").write_bytes(b"MZ")
    if reason == "too large":
        settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES = 100
    good = record("best_practice", external_id="bp-gut")
    bad = record("best_practice", external_id="bp-schlecht",
                 attachments=[{"title": "Anlage", "file": file}])
    _write_jsonl(tmp_path / "daten.jsonl", good, bad)
    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_knowledge", str(tmp_path / "daten.jsonl"), stdout=StringIO(),
                     stderr=err, verbosity=0)
    assert "line 2: attachments.0:" in err.getvalue() and reason in err.getvalue()
    assert not KnowledgePage.objects.filter(external_id__in=["bp-gut", "bp-schlecht"]).exists()
    assert not get_document_model().objects.exists()


def test_rolled_back_import_leaves_no_files_behind(tmp_path, monkeypatch, settings):
    """The rows vanish with the transaction; the files written for them stayed in media."""
    from django.core.exceptions import ValidationError as DjangoValidationError

    from knowledge import importing

    (tmp_path / "zurueckgerollt-7f3a.md").write_text("# Notiz\n\nText.", encoding="utf-8")
    rows = [record("project", external_id="p-datei", attachments=[
                {"title": "Notiz", "file": "zurueckgerollt-7f3a.md"}]),
            record("project", external_id="p-kaputt")]
    real = importing._import_record

    def failing_on_the_second(record_, result, base_dir=None):
        if record_.external_id == "p-kaputt":
            raise DjangoValidationError("kaputt")
        return real(record_, result, base_dir)

    monkeypatch.setattr(importing, "_import_record", failing_on_the_second)
    path = tmp_path / "daten.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                    encoding="utf-8")
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_knowledge", str(path), stderr=StringIO(), verbosity=0)
    assert not list(Path(settings.MEDIA_ROOT).rglob("zurueckgerollt-7f3a*"))
    assert not get_document_model().objects.exists()


# --- Protokoll aus Datei ------------------------------------------------------------------


@pytest.fixture
def project(make_page):
    return make_page("project", external_id="p-spenge", title="Digitalisierung Spenge",
                     municipality="Spenge", topics=["Onlinezugangsgesetz"])


def test_protocol_draft_from_docx(client, user_in, project):
    client.force_login(user_in("Beratung"))
    upload = SimpleUploadedFile("protokoll.docx", PROTOCOL_DOCX.read_bytes())
    response = client.post(f"/admin/protokoll-aus-datei/{project.pk}/", {"file": upload})
    page = SessionProtocolPage.objects.child_of(project).get()
    assert response.status_code == 302 and response["Location"].endswith(f"/{page.pk}/edit/")
    assert not page.live and page.get_latest_revision() is not None
    assert page.title == "Protokoll der 3. Projektgruppensitzung Digitalisierung Spenge"
    assert page.date.isoformat() == "2021-04-14" and page.session_number == 3
    assert page.format == "virtuell"
    assert [b.value["role"] for b in page.participants][:2] == ["Bürgermeister",
                                                                 "Leitung Bürgerbüro"]
    assert page.participants[0].value["organisation"] == "Stadt Spenge"
    assert [b.value["title"] for b in page.agenda_items] == [
        "Auswertung der Telefonstatistik", "Hundesteuer und Sperrmüll online",
        "Zahlungsverkehr im Bürgerbüro"]
    assert "4.300 Anrufe" in page.agenda_items[0].value["discussion"].source
    assert len(page.decisions) == 2
    tasks = [b.value for b in page.action_items]
    assert tasks[1]["task"] == "Formulartexte Hundesteuer abstimmen"
    assert tasks[1]["owner_role"] == "Leitung Bürgerbüro" and tasks[1]["status"] == "in_arbeit"
    assert tasks[1]["due_date"].isoformat() == "2021-06-15"
    assert [t.name for t in page.topics.all()] == ["Onlinezugangsgesetz"]
    [(document, _)] = attachment_documents(page)
    assert document.filename.startswith("protokoll")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("protokoll.pdf", REPORT_PDF.read_bytes(), "Word- (.docx) oder LibreOffice-Datei"),
    ("protokoll.docx", b"kein Word", "passt nicht zum Inhalt"),
])
def test_protocol_from_a_bad_file_is_refused_in_german(client, user_in, project, name,
                                                        content, message):
    client.force_login(user_in("Beratung"))
    response = client.post(f"/admin/protokoll-aus-datei/{project.pk}/",
                           {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 400 and message in response.content.decode()
    assert not SessionProtocolPage.objects.child_of(project).exists()


def test_protocol_from_file_needs_the_right_to_add_protocols(client, user_in, project):
    client.force_login(user_in("Kommune"))
    response = client.get(f"/admin/protokoll-aus-datei/{project.pk}/")
    assert response.status_code in (302, 403)
    client.force_login(user_in("Beratung"))
    assert client.get(f"/admin/protokoll-aus-datei/{project.pk}/").status_code == 200


def _protocol_odt(path):
    """Minutes written in LibreOffice: outline headings, a list, a table of action items."""
    from odf.opendocument import OpenDocumentText
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = OpenDocumentText()
    body = document.text
    body.addElement(H(outlinelevel=1, text="2. Sitzung der Projektgruppe Breitband Lügde"))
    body.addElement(P(text="Datum: 03.02.2025, vor Ort im Rathaus"))
    body.addElement(H(outlinelevel=2, text="Anwesend"))
    people = List()
    for line in ("Bürgermeisterin (Stadt Lügde)", "Kämmerer (Stadt Lügde)"):
        item = ListItem()
        item.addElement(P(text=line))
        people.addElement(item)
    body.addElement(people)
    body.addElement(H(outlinelevel=2, text="TOP 1: Förderaufruf Glasfaser"))
    body.addElement(P(text="Der Antrag muss bis Ende März beim Land eingehen."))
    body.addElement(H(outlinelevel=2, text="Beschlüsse"))
    body.addElement(P(text="Die Stadt stellt den Förderantrag."))
    body.addElement(H(outlinelevel=2, text="Aufgaben"))
    table = Table()
    table.addElement(TableColumn(numbercolumnsrepeated=3))
    for cells in (("Aufgabe", "Verantwortlich", "Fällig"),
                  ("Antrag schreiben", "Kämmerer", "31.03.2025")):
        row = TableRow()
        for value in cells:
            cell = TableCell()
            cell.addElement(P(text=value))
            row.addElement(cell)
        table.addElement(row)
    body.addElement(table)
    document.save(str(path))


def test_protocol_draft_from_odt(client, user_in, project, tmp_path):
    _protocol_odt(tmp_path / "sitzung.odt")
    client.force_login(user_in("Beratung"))
    upload = SimpleUploadedFile("sitzung.odt", (tmp_path / "sitzung.odt").read_bytes())
    response = client.post(f"/admin/protokoll-aus-datei/{project.pk}/", {"file": upload})
    assert response.status_code == 302
    page = SessionProtocolPage.objects.child_of(project).get()
    assert page.title == "2. Sitzung der Projektgruppe Breitband Lügde"
    assert page.date.isoformat() == "2025-02-03" and page.session_number == 2
    assert page.format == "vor_ort"
    assert [b.value["role"] for b in page.participants] == ["Bürgermeisterin", "Kämmerer"]
    assert [b.value["title"] for b in page.agenda_items] == ["Förderaufruf Glasfaser"]
    assert [b.value["text"] for b in page.decisions] == ["Die Stadt stellt den Förderantrag."]
    [task] = [b.value for b in page.action_items]
    assert task["task"] == "Antrag schreiben" and task["owner_role"] == "Kämmerer"
    assert task["due_date"].isoformat() == "2025-03-31"


def _results_protocol_docx(path, *, date_line: str = "Datum: 12.03.24") -> None:
    """Minutes as many municipalities write them: an "Ergebnisprotokoll" title, the date with
    a two-digit year, agenda sub-headings without "TOP", an action table with a "Nr." column."""
    import docx

    document = docx.Document()
    document.add_heading("Ergebnisprotokoll der 4. Sitzung Lenkungsgruppe KI-Assistenz", 0)
    if date_line:
        document.add_paragraph(date_line)
    document.add_paragraph("Ort: vor Ort im Rathaus")
    document.add_heading("Teilnehmende", 1)
    document.add_paragraph("Bürgermeister (Stadt Lage)", style="List Bullet")
    document.add_heading("Tagesordnung", 1)
    document.add_heading("Begrüßung und Rückblick", 2)
    long_text = "Die Pilotphase lief gut. " * 20 + "Ende des Absatzes."
    document.add_paragraph(long_text)
    document.add_heading("Datenschutz", 2)
    document.add_paragraph("Die Datenschutzbeauftragte erläutert die Folgenabschätzung.")
    document.add_heading("Beschlüsse", 1)
    document.add_paragraph("Die Pilotphase wird bis Juni verlängert.", style="List Bullet")
    document.add_heading("Aufgaben", 1)
    table = document.add_table(rows=2, cols=4)
    for row, values in zip(table.rows, (("Nr.", "Aufgabe", "Verantwortlich", "Bis"),
                                        ("1", "Anbieter anfragen", "Leitung IT", "30.04.2024")),
                           strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Sonstiges", 1)
    document.add_paragraph("Die nächste Sitzung ist im Mai.")
    document.save(str(path))


def test_protocol_draft_from_typical_results_minutes(client, user_in, project, tmp_path):
    """The title "Ergebnisprotokoll …" made every section a decision, the date and format
    were missed, agenda sub-headings without "TOP" were lost, the "Nr." column became the
    task."""
    _results_protocol_docx(tmp_path / "ergebnis.docx")
    client.force_login(user_in("Beratung"))
    upload = SimpleUploadedFile("ergebnis.docx", (tmp_path / "ergebnis.docx").read_bytes())
    response = client.post(f"/admin/protokoll-aus-datei/{project.pk}/", {"file": upload},
                           follow=True)
    page = SessionProtocolPage.objects.child_of(project).get()
    assert page.date.isoformat() == "2024-03-12" and page.format == "vor_ort"
    assert page.session_number == 4
    assert [b.value["title"] for b in page.agenda_items] == ["Begrüßung und Rückblick",
                                                             "Datenschutz"]
    assert "Ende des Absatzes." in page.agenda_items[0].value["discussion"].source
    assert [b.value["text"] for b in page.decisions] == [
        "Die Pilotphase wird bis Juni verlängert."]
    [task] = [b.value for b in page.action_items]
    assert (task["task"], task["owner_role"]) == ("Anbieter anfragen", "Leitung IT")
    assert task["due_date"].isoformat() == "2024-04-30"
    notes = " ".join(block.value.source for block in page.body)
    assert "nächste Sitzung" in notes
    assert "kein Sitzungsdatum" not in response.content.decode()
    [(document, _)] = attachment_documents(page)
    assert document.file_size and document.file_hash


def test_protocol_draft_without_a_date_says_so(client, user_in, project, tmp_path):
    _results_protocol_docx(tmp_path / "ohne-datum.docx", date_line="")
    client.force_login(user_in("Beratung"))
    upload = SimpleUploadedFile("ohne.docx", (tmp_path / "ohne-datum.docx").read_bytes())
    response = client.post(f"/admin/protokoll-aus-datei/{project.pk}/", {"file": upload},
                           follow=True)
    assert "kein Sitzungsdatum gefunden" in response.content.decode()
