"""Attachments: text from real files of every type, bad files, indexing and search hits."""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.base import ContentFile

from attachments.extraction import extract_document
from attachments.formats import sniff
from attachments.models import DocumentText, PageDocument
from attachments.readers import (
    join_line_hyphens,
    read_docx,
    read_odt,
    read_pdf,
    read_pptx,
    read_text,
)
from attachments.worker import extract
from search.models import Passage
from tests.attachment_files import (
    CHECKLIST_MD,
    GUIDE_ODT,
    PROTOCOL_DOCX,
    REPORT_PDF,
    SURVEY_PPTX,
    docx_with_content_control,
    encrypted_pdf,
    make_document,
    odf_mimetype_bomb,
    pdf_with_lines,
    pptx_with_group,
    scanned_pdf,
    zip_bomb_docx,
)
from tests.search_fixtures import *  # noqa: F403

# --- Readers on the real demo files -----------------------------------------------------------


def test_pdf_keeps_pages_bookmarked_headings_table_rows_and_umlauts():
    sections = read_pdf(str(REPORT_PDF))
    by_heading = {s.heading: s for s in sections}
    assert "4 Digitalisierungszeitstrahl" in by_heading
    roadmap = by_heading["4 Digitalisierungszeitstrahl"]
    assert roadmap.page == 3
    # A table row stays on one line: half-year, change module and bundle together.
    assert any("1. Hj. 2022" in line and "Schulung Ablagestruktur" in line
               for line in roadmap.text.splitlines())
    costs = by_heading["3 Kosten und Finanzierung"]
    assert costs.page == 2 and "140.000 Euro" in costs.text
    assert "Führungskräfte-Werkstatt" in roadmap.text
    assert by_heading["6 Risiken und Gegenmaßnahmen"].page == 4
    assert "Seite" not in "".join(s.text for s in sections)  # page footers dropped
    # The outline splits page 2 into two sections: the first keeps only its own text.
    assert "Kosten" not in by_heading["2 Mengengerüst des Posteingangs"].text


def test_pdf_line_end_hyphens_are_joined_but_real_hyphens_kept(tmp_path):
    path = tmp_path / "silben.pdf"
    path.write_bytes(pdf_with_lines([
        "Die Verwaltungsdigitali-", "sierung braucht Ein- und Ausgangsbücher, die E-",
        "Akte und Straßenverkehrs-", "behörden."]))
    text = read_pdf(str(path))[0].text
    assert "Verwaltungsdigitalisierung" in text
    assert "Straßenverkehrsbehörden" in text
    assert "E-Akte" in text and "Ein- und Ausgangsbücher" in text


def test_join_line_hyphens_rules():
    assert join_line_hyphens("Digitali\ufffesierung") == "Digitalisierung"
    assert join_line_hyphens("E\ufffeAkte") == "E-Akte"
    assert join_line_hyphens("Ein\ufffe und Aus") == "Ein- und Aus"


def test_docx_headings_lists_and_table():
    sections = read_docx(str(PROTOCOL_DOCX))
    headings = [s.heading for s in sections]
    title = "Protokoll der 3. Projektgruppensitzung Digitalisierung Spenge"
    assert headings[0] == title
    assert f"{title} › Tagesordnung › TOP 2: Hundesteuer und Sperrmüll online" in headings
    actions = next(s for s in sections if s.heading.endswith("Aufgaben"))
    assert "Formulartexte Hundesteuer abstimmen | Leitung Bürgerbüro | 15.06.2021 | " \
           "in Arbeit" in actions.text
    participants = next(s for s in sections if s.heading.endswith("Teilnehmende"))
    assert participants.text.splitlines()[0] == "- Bürgermeister (Stadt Spenge)"
    assert all(s.page is None for s in sections)  # Word files have no fixed pages


def test_odt_outline_headings():
    sections = read_odt(str(GUIDE_ODT))
    title = "Leitfaden für Digitalisierungslotsinnen und -lotsen in Blomberg"
    office_hours = next(s for s in sections if s.heading.endswith("Sprechstunde und "
                                                                   "Erreichbarkeit"))
    assert office_hours.heading.startswith(title + " › ")
    assert "Donnerstag von 13 bis 14 Uhr" in office_hours.text


def test_pptx_slides_are_numbered_and_titled():
    sections = read_pptx(str(SURVEY_PPTX))
    assert [s.page for s in sections] == [1, 2, 3, 4, 5]
    wishes = sections[2]
    assert wishes.heading == "Welche Dienste am meisten gewünscht werden"
    assert "Anwohnerparkausweis beantragen" in wishes.text


def test_docx_text_inside_content_controls_is_read(tmp_path):
    path = tmp_path / "vorlage.docx"
    path.write_bytes(docx_with_content_control("Text im Steuerelement", "Normaler Absatz"))
    [section] = read_docx(str(path))
    assert section.text.splitlines() == ["Normaler Absatz", "Text im Steuerelement"]


def test_pptx_grouped_shapes_are_read_and_the_title_not_repeated(tmp_path):
    path = tmp_path / "folien.pptx"
    path.write_bytes(pptx_with_group("Ergebnisse", "Text in der Gruppe"))
    [section] = read_pptx(str(path))
    assert section.heading == "Ergebnisse"
    assert section.text == "Text in der Gruppe"


def test_markdown_headings():
    sections = read_text(str(CHECKLIST_MD))
    title = "Checkliste Dienstvereinbarung mobiles Arbeiten"
    assert [s.heading for s in sections] == [
        f"{title} › Arbeitsschutz zu Hause", f"{title} › Vertraulichkeit",
        f"{title} › Unfallversicherung und Fahrtkosten"]
    assert "Sichtschutzfolie" in sections[1].text


@pytest.mark.parametrize("path", [REPORT_PDF, PROTOCOL_DOCX, GUIDE_ODT, SURVEY_PPTX,
                                  CHECKLIST_MD], ids=lambda p: p.suffix)
def test_worker_reads_every_demo_file(path, settings):
    answer = extract({"path": str(path), "filename": path.name,
                      "max_unpacked_bytes": settings.KNOWLEDGE_ATTACHMENT_MAX_UNPACKED_BYTES,
                      "max_zip_ratio": settings.KNOWLEDGE_ATTACHMENT_MAX_ZIP_RATIO})
    assert answer["ok"], answer
    assert sum(len(s["text"]) for s in answer["sections"]) > 300
    json.dumps(answer)  # what goes through the pipe


# --- Bad files: a German message, nothing else lost -------------------------------------------

BAD_FILES = {
    "encrypted": ("geschuetzt.pdf", encrypted_pdf, "mit einem Passwort geschützt"),
    "no_text": ("scan.pdf", scanned_pdf, "gescanntes Dokument ohne Texterkennung"),
    "corrupt": ("kaputt.pdf", lambda: REPORT_PDF.read_bytes()[:900], "beschädigt"),
    "corrupt_docx": ("kaputt.docx", lambda: b"PK\x03\x04" + b"\x00" * 200, "keine gültige"),
    "wrong_type": ("bericht.docx", lambda: REPORT_PDF.read_bytes(), "passt nicht zum Inhalt"),
    "zip_bomb": ("bombe.docx", zip_bomb_docx, "Zip-Bombe"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_is_marked_with_a_german_message(case):
    filename, content, message = BAD_FILES[case]
    document = make_document(filename, content())
    text = extract_document(document)
    assert text.status == DocumentText.Status.FAILED
    assert message in text.message
    assert text.sections == []


def test_sniffing_reads_no_more_of_a_mimetype_entry_than_a_mime_type(tmp_path):
    """A crafted ``mimetype`` entry unpacking to megabytes is not unpacked to sniff it."""
    import tracemalloc

    path = tmp_path / "bombe.odt"
    path.write_bytes(odf_mimetype_bomb(50_000_000))
    tracemalloc.start()
    try:
        assert sniff(str(path)) == "zip"
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000


@pytest.mark.django_db
def test_renamed_file_is_read_again():
    """Advice followed: a PDF uploaded as .docx is refused, and read once renamed to .pdf."""
    document = make_document("bericht.docx", REPORT_PDF.read_bytes())
    assert extract_document(document).error_code == "wrong_type"
    document.file.save("bericht.pdf", ContentFile(REPORT_PDF.read_bytes()))
    text = extract_document(document)
    assert text.status == DocumentText.Status.OK and text.extension == "pdf"


@pytest.mark.django_db
def test_headings_count_against_the_character_limit(settings):
    settings.KNOWLEDGE_ATTACHMENT_MAX_CHARS = 500
    headings = "".join(f"# Überschrift {n} {'x' * 80}\nText\n" for n in range(100))
    text = extract_document(make_document("gliederung.md", headings.encode()))
    assert text.status == DocumentText.Status.PARTIAL
    assert sum(len(s["heading"]) + len(s["text"]) for s in text.sections) == 500


@pytest.mark.django_db
def test_windows_unicode_text_file_is_read():
    """Windows editors save "Unicode" text as UTF-16 with a byte order mark."""
    text = extract_document(make_document("notiz.txt", "Grüße aus Höxter".encode("utf-16")))
    assert text.status == DocumentText.Status.OK
    assert text.sections[0]["text"] == "Grüße aus Höxter"


@pytest.mark.django_db
def test_empty_word_file_is_not_called_a_scan():
    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    text = extract_document(make_document("leer.docx", buffer.getvalue()))
    assert text.error_code == "no_text" and text.message == "Die Datei enthält keinen Text."


@pytest.mark.django_db
def test_too_large_file_is_not_read(settings):
    settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES = 1000
    document = make_document("gross.pdf", REPORT_PDF.read_bytes())
    text = extract_document(document)
    assert text.status == DocumentText.Status.FAILED and text.error_code == "too_large"
    assert "größer als" in text.message


@pytest.mark.django_db
def test_time_limit_stops_the_worker(settings):
    settings.KNOWLEDGE_ATTACHMENT_TIMEOUT = 0.05
    text = extract_document(make_document("langsam.pdf", REPORT_PDF.read_bytes()))
    assert text.error_code == "timeout" and "abgebrochen" in text.message


@pytest.mark.django_db
def test_unsearchable_format_is_skipped_not_failed():
    text = extract_document(make_document("tabelle.csv", b"a;b\n1;2\n"))
    assert text.status == DocumentText.Status.SKIPPED and "nicht durchsucht" in text.message


@pytest.mark.django_db
def test_text_beyond_the_character_limit_is_marked_partial(settings):
    settings.KNOWLEDGE_ATTACHMENT_MAX_CHARS = 500
    text = extract_document(make_document("bericht.pdf", REPORT_PDF.read_bytes()))
    assert text.status == DocumentText.Status.PARTIAL
    assert sum(len(s["heading"]) + len(s["text"]) for s in text.sections) == 500
    assert "nur die ersten 500 Zeichen" in text.message


@pytest.mark.django_db
def test_extraction_is_cached_by_content():
    document = make_document("bericht.pdf", REPORT_PDF.read_bytes())
    first = extract_document(document)
    DocumentText.objects.filter(pk=first.pk).update(seconds=-1)  # marks the stored row
    assert extract_document(document).seconds == -1
    assert extract_document(document, force=True).seconds >= 0


# --- Indexing and search --------------------------------------------------------------------


def _attach(page, document, synced):
    """Add a document block to the page's body and publish, as an editor would."""
    blocks = [(b.block_type, b.value) for b in page.body]
    page.body = [*blocks, ("document", {"document": document, "description": ""})]
    with synced():
        page.save_revision().publish()
    page.refresh_from_db()
    return page


@pytest.mark.django_db
def test_attachment_passages_carry_file_and_page(indexed_page, synced):
    page = indexed_page("project", title="Strategie Musterstadt")
    document = make_document("abschlussbericht.pdf", REPORT_PDF.read_bytes(),
                             title="Abschlussbericht")
    _attach(page, document, synced)
    passages = Passage.objects.filter(page=page, kind="attachment")
    assert passages.exists()
    assert {p.document_id for p in passages} == {document.pk}
    roadmap = passages.filter(heading="Abschlussbericht › 4 Digitalisierungszeitstrahl").first()
    assert roadmap is not None and roadmap.source_page == 3 and roadmap.embedding is not None
    assert PageDocument.objects.filter(page=page, document=document).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["encrypted", "zip_bomb"])
def test_page_with_a_bad_file_still_publishes_and_is_indexed(case, indexed_page, synced):
    filename, content, _message = BAD_FILES[case]
    page = indexed_page("lesson_learned", title="Lehren aus dem Aktenscannen")
    _attach(page, make_document(filename, content()), synced)
    assert page.live
    assert Passage.objects.filter(page=page, kind="overview").exists()
    assert not Passage.objects.filter(page=page, kind="attachment").exists()
    assert page.index_state.status == "indexed"


@pytest.mark.django_db
def test_search_hit_from_an_attachment_names_file_and_page(indexed_page, synced, client):
    page = indexed_page("project", title="Strategie Musterstadt")
    document = make_document("abschlussbericht.pdf", REPORT_PDF.read_bytes(),
                             title="Abschlussbericht Musterstadt")
    _attach(page, document, synced)
    from search.retrieval import search

    results = search("Dokumentenscanner Stapeleinzug Barcodetrennung", mode="hybrid")
    hit = results.results[0]
    assert hit.page_id == page.pk and hit.attachment is not None
    assert hit.attachment.filename == document.filename and hit.attachment.page == 2
    # Named by its title and type: the stored file name has Wagtail's random suffix.
    assert hit.attachment.label == f"{document.title} (PDF), S. 2"

    html = client.get("/suche/", {"q": "Dokumentenscanner Stapeleinzug"}).content.decode()
    assert f'aus Anhang: <a href="{hit.attachment.url}">{document.title} (PDF)</a>, S. 2' in html
    api = client.get("/api/v1/search", {"q": "Dokumentenscanner Stapeleinzug"}).json()
    first = api["results"][0]
    assert first["attachment"]["label"] == f"aus Anhang: {document.title} (PDF), S. 2"
    assert first["attachment"]["filename"] == document.filename
    assert client.get(first["attachment"]["url"]).status_code == 200


@pytest.mark.django_db
def test_replacing_the_file_reindexes_the_page(indexed_page, synced):
    page = indexed_page("best_practice", title="Lotsen mit Leitfaden")
    document = make_document("leitfaden.md", b"# Leitfaden\n\nZuerst kommt der Kirschkuchen.")
    _attach(page, document, synced)
    assert Passage.objects.filter(page=page, text__contains="Kirschkuchen").exists()
    with synced():
        document.file.save("leitfaden.md",
                           ContentFile(b"# Leitfaden\n\nJetzt gibt es Apfelstrudel."))
    assert not Passage.objects.filter(page=page, text__contains="Kirschkuchen").exists()
    assert Passage.objects.filter(page=page, text__contains="Apfelstrudel").exists()


# --- The admin: report and publish warning -----------------------------------------------------


@pytest.mark.django_db
def test_report_lists_unreadable_files_first_and_exports_csv(client, user_in):
    extract_document(make_document("bericht.pdf", REPORT_PDF.read_bytes()))
    extract_document(make_document("geschuetzt.pdf", encrypted_pdf()))
    client.force_login(user_in("Redaktion"))
    html = client.get("/admin/reports/anhaenge/").content.decode()
    assert html.index("geschuetzt") < html.index("bericht")
    assert "mit einem Passwort geschützt" in html
    failed_only = client.get("/admin/reports/anhaenge/", {"status": "failed"}).content.decode()
    assert "geschuetzt" in failed_only and "bericht.pdf" not in failed_only
    export = client.get("/admin/reports/anhaenge/", {"export": "csv"})
    assert export.status_code == 200
    assert "mit einem Passwort geschützt" in b"".join(export.streaming_content).decode()
    client.force_login(user_in(None))
    assert client.get("/admin/reports/anhaenge/").status_code in (302, 403)


@pytest.mark.django_db
def test_report_shows_members_who_may_only_upload_their_own_files(client, user_in):
    member = user_in("Kommune")
    own = make_document("eigener-bericht.pdf", REPORT_PDF.read_bytes())
    own.uploaded_by_user = member
    own.save()
    extract_document(own)
    extract_document(make_document("fremdes-protokoll.pdf", encrypted_pdf()))
    client.force_login(member)
    html = client.get("/admin/reports/anhaenge/").content.decode()
    assert "eigener-bericht" in html and "fremdes-protokoll" not in html
    export = client.get("/admin/reports/anhaenge/", {"export": "csv"})
    assert "fremdes-protokoll" not in b"".join(export.streaming_content).decode()


def test_member_who_only_uploads_chooses_own_files_and_those_of_pages_they_see(
        client, user_in, make_page):
    """The document chooser listed every file's title to Kommune members, including files
    used only on pages restricted to other groups."""
    from django.contrib.auth.models import Group
    from wagtail.models import PageViewRestriction

    member = user_in("Kommune")
    own = make_document("eigene-notiz.pdf", REPORT_PDF.read_bytes())
    own.uploaded_by_user = member
    own.save()
    public_page = make_page("lesson_learned", title="Öffentliche Seite")
    public = make_document("oeffentlicher-bericht.pdf", REPORT_PDF.read_bytes())
    PageDocument.objects.create(page=public_page, document=public)
    secret_page = make_page("lesson_learned", title="Nur Redaktion")
    restriction = PageViewRestriction.objects.create(
        page=secret_page, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    secret = make_document("vertrauliche-anlage.pdf", REPORT_PDF.read_bytes())
    PageDocument.objects.create(page=secret_page, document=secret)
    make_document("unveroeffentlichter-entwurf.pdf", REPORT_PDF.read_bytes())

    client.force_login(member)
    listed = client.get("/admin/documents/chooser/results/").content.decode()
    assert "eigene-notiz" in listed and "oeffentlicher-bericht" in listed
    assert "vertrauliche-anlage" not in listed and "unveroeffentlichter-entwurf" not in listed
    refused = client.get(f"/admin/documents/chooser/chosen/{secret.pk}/")
    assert refused.status_code == 302 and "vertrauliche" not in refused.content.decode()
    chosen = client.get(f"/admin/documents/chooser/chosen/{public.pk}/")
    assert chosen.status_code == 200 and "oeffentlicher-bericht" in chosen.content.decode()

    client.force_login(user_in("Beratung"))  # manages documents: Wagtail's rule, every file
    listed = client.get("/admin/documents/chooser/results/").content.decode()
    assert "vertrauliche-anlage" in listed and "unveroeffentlichter-entwurf" in listed


def _messages_after_publishing(rf, page, document) -> list[str]:
    """The admin messages the publish hook gives for ``page`` with ``document`` attached."""
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage

    from attachments.wagtail_hooks import warn_about_unreadable_attachments

    page.body = [*[(b.block_type, b.value) for b in page.body],
                 ("document", {"document": document, "description": ""})]
    request = rf.post("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    warn_about_unreadable_attachments(request, page)
    return [str(m) for m in get_messages(request)]


@pytest.mark.django_db
def test_publishing_warns_about_an_unreadable_file(rf, make_page):
    page = make_page("lesson_learned", title="Scan ohne Text")
    document = make_document("scan.pdf", scanned_pdf(), title="Eingescanntes Protokoll")
    extract_document(document)
    [warning] = _messages_after_publishing(rf, page, document)
    assert warning.startswith("Anhang „Eingescanntes Protokoll“:")
    assert "gescanntes Dokument" in warning


@pytest.mark.django_db
def test_publishing_tells_where_a_file_not_read_yet_will_be_judged(rf, make_page):
    """With a background queue the file is read after the publishing request."""
    page = make_page("lesson_learned", title="Neue Datei")
    document = make_document("neu.pdf", REPORT_PDF.read_bytes(), title="Neuer Bericht")
    [note] = _messages_after_publishing(rf, page, document)
    assert note.startswith("Anhang „Neuer Bericht“ wird im Hintergrund ausgelesen")


def test_home_and_index_introductions_offer_no_links_to_files():
    """Files are served by the knowledge pages that use them; an intro's link would 404."""
    from knowledge.models import HomePage, ProjectIndexPage

    for model in (HomePage, ProjectIndexPage):
        assert "document-link" not in model._meta.get_field("intro").features


def test_file_of_a_password_page_leads_to_the_password_form(client, make_page):
    """Logging in does not open a password page: the file sends the visitor to the page,
    where Wagtail asks for the password; the session then opens the file as well."""
    from django.urls import reverse
    from wagtail.models import PageViewRestriction

    from tests.attachment_files import make_document

    page = make_page("lesson_learned", title="Nur mit Passwort")
    document = make_document("anlage-passwort.md", b"# Anlage\n\nSteht nur hier.\n")
    page.body = [("document", {"document": document, "description": ""})]
    page.save_revision().publish()
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="kiebitz")
    response = client.get(document.url)
    assert response.status_code == 302 and response["Location"] == page.url
    client.post(reverse("wagtailcore_authenticate_with_password",
                        args=[restriction.pk, page.pk]),
                {"password": "kiebitz", "return_url": page.url})
    response = client.get(document.url)
    assert response.status_code == 200
    assert b"Steht nur hier." in b"".join(response.streaming_content)
