"""Real files for the attachment tests: the demo files, and bad files made on the spot.

The bad files are what municipalities actually upload by mistake: a PDF with a password, a
scan without a text layer, a truncated download, a PDF renamed to .docx, and a DOCX whose
single entry unpacks to hundreds of megabytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from django.core.files.base import ContentFile
from wagtail.documents import get_document_model

DEMO_ATTACHMENTS = (Path(__file__).resolve().parent.parent / "knowledge" / "demo_content"
                    / "attachments")
REPORT_PDF = DEMO_ATTACHMENTS / "abschlussbericht-oerlinghausen.pdf"
PROTOCOL_DOCX = DEMO_ATTACHMENTS / "protokoll-spenge-sitzung-3.docx"
GUIDE_ODT = DEMO_ATTACHMENTS / "leitfaden-digitallotsen-blomberg.odt"
SURVEY_PPTX = DEMO_ATTACHMENTS / "buergerbefragung-spenge.pptx"
CHECKLIST_MD = DEMO_ATTACHMENTS / "checkliste-mobiles-arbeiten.md"


def pdf_with_lines(*pages: list[str]) -> bytes:
    """A PDF whose pages hold these lines of text (reportlab, standard font with umlauts)."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(50, y, line)
            y -= 14
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_with_lines(["Vertraulich"]))))
    writer.encrypt(user_password="geheim", owner_password="nochgeheimer")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def scanned_pdf() -> bytes:
    """A page with only a picture on it, as a scanner without text recognition writes it."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    image = Image.new("RGB", (400, 200), "white")
    for x in range(50, 350):
        image.putpixel((x, 100), (0, 0, 0))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawImage(ImageReader(image), 50, 500, width=400, height=200)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def zip_bomb_docx(unpacked_bytes: int = 300_000_000) -> bytes:
    """A DOCX-shaped archive whose document part unpacks to ``unpacked_bytes`` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as entry:
            block = b"\0" * 1_000_000
            for _ in range(unpacked_bytes // len(block)):
                entry.write(block)
    return buffer.getvalue()


def odf_mimetype_bomb(unpacked_bytes: int) -> bytes:
    """An ODT-shaped archive whose ``mimetype`` entry unpacks to ``unpacked_bytes`` of zeros."""
    buffer = io.BytesIO()
    with (zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive,
          archive.open("mimetype", "w", force_zip64=True) as entry):
        block = b"\0" * 1_000_000
        for _ in range(unpacked_bytes // len(block)):
            entry.write(block)
    return buffer.getvalue()


def docx_with_content_control(inside: str, outside: str) -> bytes:
    """A Word file with one ordinary paragraph and one inside a content control (w:sdt)."""
    import docx
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    document = docx.Document()
    document.add_paragraph(outside)
    control = parse_xml(f"<w:sdt {nsdecls('w')}><w:sdtContent><w:p><w:r><w:t>{inside}"
                        "</w:t></w:r></w:p></w:sdtContent></w:sdt>")
    document.element.body.insert(len(document.element.body) - 1, control)  # before sectPr
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_with_group(title: str, grouped: str) -> bytes:
    """One slide with a title and a text box inside a group shape."""
    from pptx import Presentation
    from pptx.util import Inches

    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[5])  # title only
    slide.shapes.title.text = title
    group = slide.shapes.add_group_shape()
    group.shapes.add_textbox(Inches(1), Inches(2), Inches(4), Inches(1)).text_frame.text = grouped
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def make_document(filename: str, content: bytes, title: str | None = None):
    """A Wagtail document with this file, as the admin's upload would store it."""
    document = get_document_model()(title=title or filename)
    document.file.save(filename, ContentFile(content), save=False)
    document.file_size = len(content)
    document.save()
    return document
