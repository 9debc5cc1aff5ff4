"""Page -> passages: the units the search embeds, ranks and shows as snippets.

A knowledge page becomes an *overview* passage (title, summary, for projects the goals, the
topics and the project a protocol or lesson belongs to) followed by one passage per section.
Sections keep their heading as context: rich text is split at its ``h2``/``h3``/``h4``
headings (nested headings become a path such as ``Ausgangslage › Personal``), the fields of a
lesson or best practice are sections under their German field label, and a protocol's agenda
items, decisions and action items are passages of their own, because that is what people
search for ("what did Lemgo decide about the e-file?").

Every passage must fit the embedding model's maximum sequence length: a model silently cuts
off what does not fit, so the end of a long section would be invisible to vector search. Long
sections are therefore split at paragraph, then sentence, then word boundaries, measured with
the model's real tokenizer (:meth:`search.embedding.Embedder.count_tokens`) against the text
that is actually embedded (page title + heading + text, prompt and special tokens included).
Nothing is dropped: the concatenation of a section's passages contains all of its words.

When the model cannot be loaded the same splitting runs with a conservative character budget
(:class:`CharBudget`), so degraded mode still stores complete full-text passages; they are
re-chunked with the real tokenizer when ``rebuild_search_index --stale`` catches up.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from django.conf import settings
from django.utils.formats import date_format

HEADING_SEPARATOR = " › "
_HEADING_LEVELS = {"h2": 2, "h3": 3, "h4": 4}
# Sentence ends: ., !, ?, … (optionally followed by a closing quote or bracket) and whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'“”«»)\]]?\s+")


@dataclass(frozen=True)
class Chunk:
    """One passage of a page, before it is stored.

    ``context`` is the page title (empty for the overview, whose heading already is the
    title); it is embedded but not stored, so the stored ``heading``/``text`` stay what the
    snippet shows. ``content_hash`` covers exactly the embedded text: same hash and same model
    means the stored vector can be reused.
    """

    kind: str
    heading: str
    text: str
    context: str = ""
    document_id: int | None = None  # passages of an attached file: the file ...
    source_page: int | None = None  # ... and its page or slide number

    @property
    def embedding_text(self) -> str:
        return compose(self.context, self.heading, self.text)

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.embedding_text.encode("utf-8")).hexdigest()


def compose(context: str, heading: str, text: str) -> str:
    """The text the model embeds: ``Title – Heading`` on the first line, then the text."""
    first = " – ".join(part for part in (context, heading) if part)
    return f"{first}\n{text}" if first and text else first or text


# --- Token budgets ------------------------------------------------------------------------


class TokenBudget:
    """Measures texts with the model's tokenizer; ``limit`` is what one passage may use."""

    def __init__(self, embedder, limit: int | None = None):
        self.embedder = embedder
        configured = limit or settings.KNOWLEDGE_SEARCH_PASSAGE_TOKENS
        self.limit = min(configured, embedder.max_tokens) if configured else embedder.max_tokens

    def count(self, text: str) -> int:
        return self.embedder.count_tokens(text)


class CharBudget:
    """Fallback without a model: at most ``limit`` characters per passage.

    Only used in degraded mode (no tokenizer available). The default of
    ``KNOWLEDGE_SEARCH_FALLBACK_PASSAGE_CHARS`` keeps passages short enough that even a
    tokenizer producing one token per two characters would fit 512 tokens; the passages are
    re-chunked with the real tokenizer once the model is back.
    """

    def __init__(self, limit: int | None = None):
        self.limit = limit or settings.KNOWLEDGE_SEARCH_FALLBACK_PASSAGE_CHARS

    def count(self, text: str) -> int:
        return len(text)


def budget_for(embedder) -> TokenBudget | CharBudget:
    return TokenBudget(embedder) if embedder is not None else CharBudget()


# --- Rich text -> (heading path, paragraphs) ------------------------------------------------


@dataclass
class Section:
    heading: str
    paragraphs: list[str] = field(default_factory=list)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _block_texts(element: Tag) -> Iterator[str]:
    """Paragraph-sized texts of one top-level rich-text element (list items one per line)."""
    if element.name in ("ul", "ol"):
        items = [_clean(li.get_text(" ")) for li in element.find_all("li", recursive=False)]
        items = [i for i in items if i]
        if items:
            yield "\n".join(f"- {item}" for item in items)
        return
    text = _clean(element.get_text(" "))
    if text:
        yield text


def rich_text_sections(html: str, label: str) -> list[Section]:
    """Split rich text at its headings; ``label`` is the outermost heading (may be empty)."""
    if not html or not html.strip():
        return []
    soup = BeautifulSoup(str(html), "html.parser")
    base = [label] if label else []
    path: dict[int, str] = {}
    sections = [Section(HEADING_SEPARATOR.join(base))]
    for element in soup.children:
        if isinstance(element, NavigableString):
            text = _clean(str(element))
            if text:
                sections[-1].paragraphs.append(text)
            continue
        if not isinstance(element, Tag):
            continue
        level = _HEADING_LEVELS.get(element.name)
        if level is not None:
            title = _clean(element.get_text(" "))
            if not title:
                continue
            path = {lvl: t for lvl, t in path.items() if lvl < level}
            path[level] = title
            heading = HEADING_SEPARATOR.join(base + [path[k] for k in sorted(path)])
            sections.append(Section(heading))
            continue
        sections[-1].paragraphs.extend(_block_texts(element))
    # A heading with no text of its own still carries words: keep it as its own text.
    result = []
    for section in sections:
        if section.paragraphs:
            result.append(section)
        elif section is not sections[0]:
            result.append(Section(section.heading, [section.heading.split(HEADING_SEPARATOR)[-1]]))
    return result


def _stream_sections(stream, label: str) -> list[Section]:
    """Sections of a body StreamField: rich text, quotes and attachments in order."""
    sections: list[Section] = []
    for block in stream or []:
        if block.block_type == "text":
            parts = rich_text_sections(block.value.source, label)
            if parts and sections and parts[0].heading == (sections[-1].heading or label):
                # Text before the block's first heading continues the previous section.
                sections[-1].paragraphs.extend(parts.pop(0).paragraphs)
            sections.extend(parts)
        elif block.block_type == "quote":
            text = _clean(str(block.value))
            if text:
                if not sections:
                    sections.append(Section(label))
                sections[-1].paragraphs.append(f"„{text}“")
        elif block.block_type == "document":
            line = _attachment_line(block.value)
            if line:
                if not sections:
                    sections.append(Section(label))
                sections[-1].paragraphs.append(line)
    return sections


def _attachment_line(value) -> str:
    document = value.get("document")
    title = getattr(document, "title", "") if document else ""
    description = value.get("description") or ""
    parts = [p for p in (title, description) if p]
    return f"Anlage: {' – '.join(parts)}" if parts else ""


# --- Splitting to the budget ----------------------------------------------------------------


def _split_units(text: str, level: int) -> list[str]:
    """Finer pieces of a text: 0 lines, 1 sentences, 2 words (each keeps its own words)."""
    if level == 0:
        return [line for line in text.split("\n") if line.strip()]
    if level == 1:
        return [s for s in _SENTENCE_END.split(text) if s.strip()]
    return text.split()


def _hard_split(word: str, fits) -> list[str]:
    """Split one overlong "word" (a URL, a table dump) by characters; never loses a character."""
    pieces, rest = [], word
    while rest:
        low, high = 1, len(rest)
        while low < high:  # the longest prefix that fits (at least one character)
            mid = (low + high + 1) // 2
            if fits(rest[:mid]):
                low = mid
            else:
                high = mid - 1
        pieces.append(rest[:low])
        rest = rest[low:]
    return pieces


def split_to_budget(context: str, heading: str, paragraphs: list[str], budget) -> list[str]:
    """Pack paragraphs into texts that fit the budget together with context and heading.

    Greedy packing in order, joining with blank lines; a paragraph that does not fit on its
    own is split into lines, sentences, words and finally characters. The heading is repeated
    with every piece (by the caller), so each passage keeps its context.
    """

    def fits(text: str) -> bool:
        return budget.count(compose(context, heading, text)) <= budget.limit

    def pieces_of(text: str, level: int) -> list[str]:
        if fits(text):
            return [text]
        if level > 2:
            return _hard_split(text, fits)
        units = _split_units(text, level)
        if len(units) <= 1:
            return pieces_of(text, level + 1)
        separator = "\n" if level == 0 else " "
        return _pack([p for unit in units for p in pieces_of(unit, level + 1)], separator, fits)

    atoms = [p for paragraph in paragraphs if paragraph.strip()
             for p in pieces_of(paragraph.strip(), 0)]
    return _pack(atoms, "\n\n", fits)


def _pack(pieces: list[str], separator: str, fits) -> list[str]:
    packed: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if current and not fits(candidate):
            packed.append(current)
            current = piece
        else:
            current = candidate
    if current:
        packed.append(current)
    return packed


# --- Pages -> chunks --------------------------------------------------------------------------


def _field_label(page, name: str) -> str:
    return str(page._meta.get_field(name).verbose_name)


MAX_HEADING_CHARS = 200


def _fit_heading(heading: str, paragraphs: list[str]) -> tuple[str, list[str]]:
    """An absurdly long heading (a pasted paragraph) is shortened for the heading field and
    repeated in full as the first paragraph, so no word is lost and the budget stays usable."""
    if len(heading) <= MAX_HEADING_CHARS:
        return heading, paragraphs
    return heading[: MAX_HEADING_CHARS - 1].rstrip() + "…", [heading, *paragraphs]


def _section_chunks(page, sections: Iterable[Section], budget, kind="section",
                    **source) -> list[Chunk]:
    chunks = []
    for section in sections:
        heading, paragraphs = _fit_heading(section.heading, section.paragraphs)
        for text in split_to_budget(page.title, heading, paragraphs, budget):
            chunks.append(Chunk(kind, heading, text, page.title, **source))
    return chunks


def _attachment_chunks(page, budget) -> list[Chunk]:
    """Passages of the files the page uses, as far as they could be read.

    The heading is the file's title, then the file's own heading (``Bericht › 4 Zeitstrahl``),
    so a hit names where it comes from; each passage keeps its PDF page or slide number.
    Files are read before indexing (:func:`attachments.extraction.extract_document`); a file
    that could not be read adds nothing here, its message waits in the admin.
    """
    from attachments.links import documents_of
    from attachments.models import DocumentText

    documents = documents_of(page)
    texts = {t.document_id: t for t in DocumentText.objects.filter(
        document__in=documents, status__in=[DocumentText.Status.OK, DocumentText.Status.PARTIAL])}
    chunks: list[Chunk] = []
    for document in documents:
        text = texts.get(document.pk)
        if text is None:
            continue
        for section in text.sections:
            heading = HEADING_SEPARATOR.join(p for p in (document.title, section["heading"]) if p)
            paragraphs = [p for p in section["text"].split("\n") if p.strip()]
            chunks += _section_chunks(page, [Section(heading, paragraphs)], budget, "attachment",
                                      document_id=document.pk, source_page=section["page"])
    return chunks


def _overview(page, extra: list[str], budget) -> list[Chunk]:
    paragraphs = [page.summary or "", *extra]
    topics = sorted(t.name for t in page.topics.all())
    if topics:
        paragraphs.append("Themen: " + ", ".join(topics))
    paragraphs = [p for p in paragraphs if p and p.strip()]
    texts = split_to_budget("", page.title, paragraphs, budget) or [""]
    return [Chunk("overview", page.title, text) for text in texts]


def _rich_paragraphs(html: str) -> list[str]:
    return [p for s in rich_text_sections(html, "") for p in
            ([s.heading] if s.heading else []) + s.paragraphs]


def _project_context(page) -> list[str]:
    project = page.get_project()
    if project is not None and project.pk != page.pk:
        return [f"Projekt: {project.title}"]
    return []


def _chunks_project(page, budget) -> list[Chunk]:
    goals = _rich_paragraphs(page.goals)
    extra = [f"{_field_label(page, 'goals')}:", *goals] if goals else []
    return _overview(page, extra, budget) + _section_chunks(
        page, _stream_sections(page.body, ""), budget
    )


def _chunks_protocol(page, budget) -> list[Chunk]:
    format_label = page.get_format_display()
    extra = [f"Sitzung {page.session_number} ({format_label})", *_project_context(page)]
    chunks = _overview(page, extra, budget)

    participants = []
    for block in page.participants:
        role, organisation = block.value.get("role"), block.value.get("organisation")
        participants.append(f"- {role} ({organisation})" if organisation else f"- {role}")
    if participants:
        chunks += _section_chunks(
            page, [Section(_field_label(page, "participants"), ["\n".join(participants)])], budget
        )

    for number, block in enumerate(page.agenda_items, start=1):
        title = block.value.get("title") or ""
        heading = f"TOP {number}: {title}"
        discussion = block.value.get("discussion")
        paragraphs = _rich_paragraphs(discussion.source if discussion else "") or [title]
        chunks += _section_chunks(page, [Section(heading, paragraphs)], budget, "agenda_item")

    for number, block in enumerate(page.decisions, start=1):
        section = Section(f"Beschluss {number}", [block.value.get("text") or ""])
        chunks += _section_chunks(page, [section], budget, "decision")

    for number, block in enumerate(page.action_items, start=1):
        chunks += _section_chunks(
            page, [Section(f"Aufgabe {number}", [_action_item_text(block.value)])], budget,
            "action_item",
        )

    attachments = [line for block in page.attachments if (line := _attachment_line(block.value))]
    if attachments:
        chunks += _section_chunks(
            page, [Section(_field_label(page, "attachments"), ["\n".join(attachments)])], budget
        )
    return chunks + _section_chunks(
        page, _stream_sections(page.body, _field_label(page, "body")), budget
    )


def _action_item_text(value) -> str:
    from knowledge.blocks import ActionItemBlock

    statuses = {key: str(label) for key, label in ActionItemBlock.STATUS_CHOICES}
    details = [f"Verantwortlich: {value.get('owner_role') or 'offen'}"]
    if value.get("due_date"):
        details.append(f"Fällig am: {date_format(value['due_date'], 'd.m.Y')}")
    status = value.get("status") or "offen"
    details.append(f"Status: {statuses.get(status, status)}")
    return f"{value.get('task') or ''}\n" + ". ".join(details)


def _field_sections(page, names: list[str]) -> list[Section]:
    sections = []
    for name in names:
        sections += rich_text_sections(getattr(page, name), _field_label(page, name))
    return sections


def _chunks_lesson(page, budget) -> list[Chunk]:
    sections = _field_sections(page, ["situation", "went_well", "went_badly", "recommendation"])
    sections += _stream_sections(page.body, _field_label(page, "body"))
    return _overview(page, _project_context(page), budget) + _section_chunks(
        page, sections, budget
    )


def _chunks_best_practice(page, budget) -> list[Chunk]:
    sections = _field_sections(page, ["problem", "solution", "result", "transferability"])
    details = [f"{_field_label(page, name)}: {value}"
               for name in ("effort", "contact_role") if (value := getattr(page, name))]
    if details:
        sections.append(Section("Aufwand und Ansprechpartner", details))
    sections += _stream_sections(page.body, _field_label(page, "body"))
    extra = [f"Projekt: {page.related_project.title}"] if page.related_project_id else []
    return _overview(page, extra, budget) + _section_chunks(page, sections, budget)


# --- Roadmap (Digitalisierungszeitstrahl) ---------------------------------------------------

_MEASURE_SENTENCES = {
    "geplant": "{municipality} plant „{title}“ für das {when}.",
    "laufend": "{municipality} setzt „{title}“ im {when} um.",
    "erledigt": "{municipality} hat „{title}“ im {when} umgesetzt.",
}


def _measure_text(measure, municipality: str, when: str) -> str:
    """One measure as a sentence people search for ("Lemgo hat die E-Akte im ... umgesetzt")."""
    template = _MEASURE_SENTENCES.get(measure.status, _MEASURE_SENTENCES["geplant"])
    parts = [template.format(municipality=municipality, title=measure.title, when=when)]
    if measure.topic is not None:
        parts.append(f"Thema: {measure.topic.name}.")
    if measure.responsible_role:
        parts.append(f"Verantwortlich: {measure.responsible_role}.")
    if measure.description:
        parts.append(measure.description)
    return " ".join(parts)


def _chunks_roadmap(page, budget) -> list[Chunk]:
    """Overview with the span of the roadmap, then one passage per half-year step."""
    steps = page.timeline()
    extra = _project_context(page)
    if steps:
        extra.append(f"Zeitraum: {steps[0].label} bis {steps[-1].label}, "
                     f"{len(steps)} Halbjahresschritte")
    chunks = _overview(page, extra, budget)
    municipality = page.municipality.name
    for step in steps:
        paragraphs = []
        if step.change_title or step.change_description:
            paragraphs.append(" ".join(p for p in (
                f"Vorbereitendes Change-Modul: {step.change_title}." if step.change_title
                else "Vorbereitendes Change-Modul:", step.change_description) if p))
        paragraphs += [_measure_text(m, municipality, step.label) for m in step.measures]
        heading = f"{step.label}: {step.title}" if step.title else step.label
        chunks += _section_chunks(page, [Section(heading, paragraphs or [heading])], budget,
                                  "roadmap_step")
    return chunks + _section_chunks(
        page, _stream_sections(page.body, _field_label(page, "body")), budget
    )


_BUILDERS = {
    "project": _chunks_project,
    "session_protocol": _chunks_protocol,
    "lesson_learned": _chunks_lesson,
    "best_practice": _chunks_best_practice,
    "roadmap": _chunks_roadmap,
}


def chunk_page(page, budget=None) -> list[Chunk]:
    """The passages of a (specific) knowledge page, in reading order.

    ``budget`` is a :class:`TokenBudget` (normal case) or :class:`CharBudget` (no model);
    by default the configured model is used if it loads, the character budget otherwise.
    """
    if budget is None:
        from search.embedding import EmbeddingUnavailable, get_embedder

        try:
            budget = TokenBudget(get_embedder())
        except EmbeddingUnavailable:
            budget = CharBudget()
    page = page.specific
    builder = _BUILDERS.get(getattr(page, "knowledge_type", ""))
    if builder is None:
        raise TypeError(f"{type(page).__name__} is not a knowledge page")
    return builder(page, budget) + _attachment_chunks(page, budget)
