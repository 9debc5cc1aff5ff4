"""File -> sections of text: PDF, DOCX, ODT, PPTX and plain text/Markdown.

Each reader returns :class:`Section` objects in reading order. A section's ``heading`` is the
file's own heading where the format has one (Word and LibreOffice heading styles, slide
titles, PDF bookmarks, Markdown ``#`` lines); ``page`` is the PDF page or the slide number,
so a hit can say "S. 4". Tables become one line per row with ``|`` between the cells, so a
row of a roadmap table ("2. Hj. 2022 | E-Akte Rollout | ...") stays together in one passage.

Why these libraries (measured on the demo files and on German text with line-end hyphens,
see docs/attachments.md): pypdfium2 (PDFium; Apache-2.0/BSD-3) keeps table rows on one line
and marks line-end hyphens, which pypdf does not; python-docx and python-pptx (MIT) and
odfpy (Apache-2.0) read the structure (heading styles, lists, tables) that a plain-text
conversion would flatten. This module imports no Django: it runs in the extraction worker
process (:mod:`attachments.worker`).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

from attachments.formats import UTF16_BOMS, ReadError

# PDFium's marker for a hyphen at the end of a line (the word continues on the next line).
_PDFIUM_LINE_HYPHEN = "\ufffe"
# "Ein- und Ausgang": a hyphen before a conjunction is German ellipsis, not a split word.
_ELLIPSIS_FOLLOWERS = ("und ", "oder ", "bzw.", "sowie ", "bis ")


@dataclass(frozen=True)
class Section:
    heading: str
    text: str
    page: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def _clean_line(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text).strip()


def _paragraphs_text(lines: list[str]) -> str:
    return "\n".join(line for line in (_clean_line(x) for x in lines) if line)


def join_line_hyphens(text: str, marker: str = _PDFIUM_LINE_HYPHEN) -> str:
    """Undo hyphenation at line ends: "Digitali|sierung" -> "Digitalisierung".

    A lower-case continuation joins the halves; an upper-case one keeps the hyphen
    ("E-|Akte" -> "E-Akte"), as does a following conjunction ("Ein-| und Ausgang").
    """

    def replace(match: re.Match) -> str:
        following = match.group(1)
        if text.startswith(_ELLIPSIS_FOLLOWERS, match.start(1)):
            return "- " + following
        if following.isupper() or following.isdigit():
            return "-" + following
        return following

    return re.sub(re.escape(marker) + r"\s*(\S)", replace, text)


# --- PDF -------------------------------------------------------------------------------------


def read_pdf(path: str) -> list[Section]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise ReadError("encrypted") from exc
        raise ReadError("corrupt", str(exc)) from exc
    try:
        bookmarks = _pdf_bookmarks(pdf)
        pages = []
        for index in range(len(pdf)):
            raw = pdf[index].get_textpage().get_text_range()
            text = join_line_hyphens(raw.replace("\r\n", "\n").replace("\r", "\n"))
            pages.append(text.split("\n"))
    finally:
        pdf.close()
    sections: list[Section] = []
    for index, lines in enumerate(_without_page_furniture(pages)):
        sections.extend(_split_at_headings("\n".join(lines), bookmarks.get(index, []),
                                           index + 1, sections[-1].heading if sections else ""))
    return sections


def _furniture_key(line: str) -> str:
    return re.sub(r"\d+", "#", _clean_line(line))


def _without_page_furniture(pages: list[list[str]]) -> list[list[str]]:
    """Drop running headers and footers ("Seite 3", a report title on every page).

    A first or last line that recurs, numbers aside, on most pages of a document of three
    or more pages is page furniture: it would otherwise glue a "Seite 4" onto the previous
    page's last section and repeat in every passage.
    """
    if len(pages) < 3:
        return pages
    counts: dict[str, int] = {}
    for lines in pages:
        edges = {_furniture_key(line) for line in (*lines[:2], *lines[-2:]) if line.strip()}
        for key in edges:
            counts[key] = counts.get(key, 0) + 1
    furniture = {key for key, n in counts.items() if n >= max(3, 0.6 * len(pages))}
    result = []
    for lines in pages:
        kept = list(lines)
        for _edge_line in range(2):  # at most two lines at the top and two at the bottom
            if kept and _furniture_key(kept[0]) in furniture:
                kept.pop(0)
            if kept and _furniture_key(kept[-1]) in furniture:
                kept.pop()
        result.append(kept)
    return result


def _pdf_bookmarks(pdf) -> dict[int, list[str]]:
    """Outline titles by page index, in document order (empty if the PDF has no outline)."""
    by_page: dict[int, list[str]] = {}
    for bookmark in pdf.get_toc():
        dest = bookmark.get_dest()
        title = _clean_line(bookmark.get_title() or "")
        if dest is not None and title and dest.get_index() is not None:
            by_page.setdefault(dest.get_index(), []).append(title)
    return by_page


def _split_at_headings(text: str, headings: list[str], page: int,
                       current: str) -> list[Section]:
    """One page's text, cut where its bookmarked headings start; text before the first
    heading continues the previous page's section (its heading carries over)."""
    sections = []
    rest = text
    for heading in headings:
        at = rest.find(heading)
        if at < 0:
            continue
        before = _paragraphs_text(rest[:at].split("\n"))
        if before:
            sections.append(Section(current, before, page))
        current = heading
        rest = rest[at + len(heading):]
    remainder = _paragraphs_text(rest.split("\n"))
    if remainder:
        sections.append(Section(current, remainder, page))
    return sections


# --- DOCX ------------------------------------------------------------------------------------


def _heading_level(style_name: str) -> int | None:
    """Word's built-in heading styles ("Heading 1", "Überschrift 2", "Title")."""
    name = (style_name or "").lower()
    if name in ("title", "titel"):
        return 0
    match = re.match(r"(heading|überschrift)\s*(\d)", name)
    return int(match.group(2)) if match else None


class _SectionBuilder:
    """Collects paragraphs under the current heading path (``A › B``)."""

    def __init__(self):
        self.path: dict[int, str] = {}
        self.sections: list[Section] = []
        self.lines: list[str] = []
        self.page: int | None = None

    @property
    def heading(self) -> str:
        return " › ".join(self.path[level] for level in sorted(self.path))

    def flush(self) -> None:
        text = _paragraphs_text(self.lines)
        if text:
            self.sections.append(Section(self.heading, text, self.page))
        self.lines = []

    def start(self, level: int, title: str) -> None:
        title = _clean_line(title)
        if not title:
            return
        self.flush()
        self.path = {lvl: t for lvl, t in self.path.items() if lvl < level}
        self.path[level] = title

    def add(self, line: str) -> None:
        self.lines.append(line)

    def result(self) -> list[Section]:
        self.flush()
        return self.sections


def read_docx(path: str) -> list[Section]:
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(path)
    except Exception as exc:  # python-docx raises KeyError, BadZipFile, lxml errors ...
        raise ReadError("corrupt", repr(exc)) from exc
    builder = _SectionBuilder()
    for item in _docx_blocks(document.element.body, document._body, Paragraph, Table):
        if isinstance(item, Paragraph):
            level = _heading_level(item.style.name if item.style is not None else "")
            if level is not None:
                builder.start(level, item.text)
            else:
                builder.add(_list_prefix(item) + item.text)
        elif isinstance(item, Table):
            for row in item.rows:
                builder.add(_row_line(cell.text for cell in row.cells))
    return builder.result()


def _docx_blocks(element, parent, paragraph_class, table_class):
    """Paragraphs and tables in document order, including those inside content controls.

    Municipal Word templates put whole sections into content controls (``w:sdt``), which
    python-docx's ``iter_inner_content`` does not enter.
    """
    from docx.oxml.ns import qn

    for child in element.iterchildren():
        if child.tag == qn("w:p"):
            yield paragraph_class(child, parent)
        elif child.tag == qn("w:tbl"):
            yield table_class(child, parent)
        elif child.tag == qn("w:sdt"):
            content = child.find(qn("w:sdtContent"))
            if content is not None:
                yield from _docx_blocks(content, parent, paragraph_class, table_class)


def _list_prefix(paragraph) -> str:
    name = (paragraph.style.name if paragraph.style is not None else "").lower()
    numbered = paragraph._p.pPr is not None and paragraph._p.pPr.numPr is not None
    return "- " if name.startswith(("list", "liste")) or numbered else ""


def _row_line(cells) -> str:
    values = []
    for cell in cells:
        value = _clean_line(cell)
        if value and (not values or values[-1] != value):  # merged cells repeat their text
            values.append(value)
    return " | ".join(values)


# --- ODT -------------------------------------------------------------------------------------


def read_odt(path: str) -> list[Section]:
    from odf import teletype
    from odf.namespaces import TEXTNS
    from odf.opendocument import load

    try:
        document = load(path)
    except Exception as exc:  # odfpy raises KeyError, BadZipFile, xml errors ...
        raise ReadError("corrupt", repr(exc)) from exc
    builder = _SectionBuilder()

    def walk(element, in_list: bool = False):
        for child in element.childNodes:
            qname = getattr(child, "qname", None)
            if qname is None:
                continue
            if qname == (TEXTNS, "h"):
                level = int(child.getAttribute("outlinelevel") or 1)
                builder.start(level, teletype.extractText(child))
            elif qname == (TEXTNS, "p"):
                text = teletype.extractText(child)
                builder.add(("- " if in_list else "") + text)
            elif qname == (TEXTNS, "list"):
                walk(child, in_list=True)
            elif child.tagName == "table:table-row":
                cells = [teletype.extractText(cell) for cell in child.childNodes
                         if getattr(cell, "tagName", "") == "table:table-cell"]
                builder.add(_row_line(cells))
            else:
                walk(child, in_list)

    walk(document.text)
    return builder.result()


# --- PPTX ------------------------------------------------------------------------------------


def read_pptx(path: str) -> list[Section]:
    from pptx import Presentation

    try:
        presentation = Presentation(path)
    except Exception as exc:
        raise ReadError("corrupt", repr(exc)) from exc
    sections = []
    for number, slide in enumerate(presentation.slides, start=1):
        title_shape = slide.shapes.title
        title = _clean_line(title_shape.text_frame.text) if title_shape is not None else ""
        title_id = title_shape.shape_id if title_shape is not None else None
        lines = []
        for shape in _pptx_shapes(slide.shapes):
            if shape.shape_id == title_id:
                continue
            if shape.has_text_frame:
                lines.extend(p.text if not p.level else f"- {p.text}"
                             for p in shape.text_frame.paragraphs)
            if getattr(shape, "has_table", False) and shape.has_table:
                lines.extend(_row_line(c.text for c in row.cells) for row in shape.table.rows)
        if slide.has_notes_slide:
            notes = slide.notes_slide.notes_text_frame
            if notes is not None and notes.text.strip():
                lines.append(notes.text)
        text = _paragraphs_text(lines)
        if text or title:
            sections.append(Section(title or f"Folie {number}", text or title, number))
    return sections


def _pptx_shapes(shapes):
    """The slide's shapes, with the members of grouped shapes in place of the group.

    (``slide.shapes.title`` is a new proxy object on every access, so the title is recognised
    by its shape id, not by identity.)
    """
    from pptx.shapes.group import GroupShape

    for shape in shapes:
        if isinstance(shape, GroupShape):  # (shape_type raises for some unusual shapes)
            yield from _pptx_shapes(shape.shapes)
        else:
            yield shape


# --- Plain text and Markdown -----------------------------------------------------------------

_MARKDOWN_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def read_text(path: str) -> list[Section]:
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-16" if raw.startswith(UTF16_BOMS) else "utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # older Windows exports
    if "\x00" in text:
        raise ReadError("corrupt", "NUL bytes in a text file")
    builder = _SectionBuilder()
    for line in text.splitlines():
        match = _MARKDOWN_HEADING.match(line)
        if match:
            builder.start(len(match.group(1)), match.group(2))
        else:
            builder.add(line)
    return builder.result()


READERS = {
    "pdf": read_pdf,
    "docx": read_docx,
    "odt": read_odt,
    "pptx": read_pptx,
    "txt": read_text,
    "md": read_text,
}
