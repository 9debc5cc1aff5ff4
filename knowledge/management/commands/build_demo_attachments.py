"""Write the demo attachments (PDF, DOCX, ODT, PPTX, Markdown) from their texts.

The files are committed in ``knowledge/demo_content/attachments/``; run this only after
editing :mod:`knowledge.demo_content.attachment_texts`. It needs ``reportlab`` (a development
dependency) for the PDF; the office formats are written with the libraries that also read
them (python-docx, odfpy, python-pptx).
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from knowledge.demo_content import attachment_texts as texts

ATTACHMENT_DIR = Path(__file__).resolve().parent.parent.parent / "demo_content" / "attachments"

FILES = {
    "abschlussbericht-oerlinghausen.pdf": "write_report_pdf",
    "protokoll-spenge-sitzung-3.docx": "write_protocol_docx",
    "leitfaden-digitallotsen-blomberg.odt": "write_guide_odt",
    "buergerbefragung-spenge.pptx": "write_survey_pptx",
    "checkliste-mobiles-arbeiten.md": "write_checklist_markdown",
}


class Command(BaseCommand):
    help = "Write the demo attachment files from knowledge/demo_content/attachment_texts.py."

    def handle(self, *args, **options):
        ATTACHMENT_DIR.mkdir(parents=True, exist_ok=True)
        for name, writer in FILES.items():
            path = ATTACHMENT_DIR / name
            globals()[writer](path)
            self.stdout.write(f"{path} ({path.stat().st_size} bytes)")


def write_report_pdf(path: Path) -> None:
    """A report with one outline entry per chapter, so readers (and the index) see headings."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table

    styles = getSampleStyleSheet()

    class Heading(Paragraph):
        def draw(self):
            super().draw()
            key = f"h{id(self)}"
            self.canv.bookmarkPage(key)
            self.canv.addOutlineEntry(self.getPlainText(), key, level=0)

    story = []
    for number, page in enumerate(texts.REPORT_PAGES):
        if number:
            story.append(PageBreak())
        for kind, content in page:
            if kind == "title":
                story.append(Paragraph(content, styles["Title"]))
            elif kind == "h1":
                story.append(Heading(content, styles["Heading1"]))
            elif kind == "p":
                story.append(Paragraph(content, styles["BodyText"]))
            elif kind == "table":
                cell = styles["BodyText"]
                rows = [[Paragraph(c, cell) for c in row] for row in content]
                table = Table(rows, colWidths=[70, 130, 120, 150], repeatRows=1)
                table.setStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                                ("VALIGN", (0, 0), (-1, -1), "TOP")])
                story.append(table)
            story.append(Spacer(1, 6))

    def footer(canvas, doc):
        canvas.setFont("Helvetica", 8)
        canvas.drawRightString(A4[0] - 50, 30, f"Seite {doc.page}")

    doc = SimpleDocTemplate(str(path), pagesize=A4, title=texts.REPORT_TITLE,
                            author="Stadt Oerlinghausen")
    doc.build(story, onFirstPage=footer, onLaterPages=footer)


def write_protocol_docx(path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = texts.PROTOCOL_TITLE
    document.add_heading(texts.PROTOCOL_TITLE, level=0)
    document.add_paragraph(f"Datum: {texts.PROTOCOL_DATE}")
    document.add_paragraph("Format: Videokonferenz")
    document.add_heading("Teilnehmende", level=1)
    for person in texts.PROTOCOL_PARTICIPANTS:
        document.add_paragraph(person, style="List Bullet")
    document.add_heading("Tagesordnung", level=1)
    for number, (title, discussion) in enumerate(texts.PROTOCOL_AGENDA, start=1):
        document.add_heading(f"TOP {number}: {title}", level=2)
        document.add_paragraph(discussion)
    document.add_heading("Beschlüsse", level=1)
    for decision in texts.PROTOCOL_DECISIONS:
        document.add_paragraph(decision, style="List Number")
    document.add_heading("Aufgaben", level=1)
    table = document.add_table(rows=0, cols=len(texts.PROTOCOL_ACTIONS[0]))
    table.style = "Table Grid"
    for row in texts.PROTOCOL_ACTIONS:
        cells = table.add_row().cells
        for cell, value in zip(cells, row, strict=True):
            cell.text = value
    document.save(path)


def write_guide_odt(path: Path) -> None:
    from odf.opendocument import OpenDocumentText
    from odf.style import Style, TextProperties
    from odf.text import H, P

    document = OpenDocumentText()
    document.meta.addElement(_odf_title(texts.GUIDE_TITLE))
    for level, size in ((1, "18pt"), (2, "14pt")):
        style = Style(name=f"Heading {level}", family="paragraph")
        style.addElement(TextProperties(fontsize=size, fontweight="bold"))
        document.styles.addElement(style)
    document.text.addElement(H(outlinelevel=1, stylename="Heading 1", text=texts.GUIDE_TITLE))
    for heading, paragraphs in texts.GUIDE_SECTIONS:
        document.text.addElement(H(outlinelevel=2, stylename="Heading 2", text=heading))
        for paragraph in paragraphs:
            document.text.addElement(P(text=paragraph))
    document.save(str(path))


def _odf_title(title: str):
    from odf.dc import Title

    return Title(text=title)


def write_survey_pptx(path: Path) -> None:
    from pptx import Presentation

    presentation = Presentation()
    presentation.core_properties.title = texts.SURVEY_TITLE
    for number, (title, lines) in enumerate(texts.SURVEY_SLIDES):
        layout = presentation.slide_layouts[0 if number == 0 else 1]
        slide = presentation.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = lines[0]
        for line in lines[1:]:
            body.add_paragraph().text = line
    presentation.save(path)


def write_checklist_markdown(path: Path) -> None:
    path.write_text(texts.CHECKLIST_MARKDOWN, encoding="utf-8")
