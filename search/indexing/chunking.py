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
from collections.abc import Iterator
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from django.conf import settings

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
    """The model's token budget, or the character budget when there is no model (degraded)."""
    return TokenBudget(embedder) if embedder is not None else CharBudget()


# --- Rich text -> (heading path, paragraphs) ------------------------------------------------


@dataclass
class Section:
    """A heading path with its paragraphs: what becomes one or more passages."""

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


def stream_sections(stream, label: str) -> list[Section]:
    """Sections of a body StreamField: rich text, quotes and attachments in order.

    Public for the page builders (:mod:`search.indexing.page_chunks`) of every type with a body.
    """
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
            line = attachment_line(block.value)
            if line:
                if not sections:
                    sections.append(Section(label))
                sections[-1].paragraphs.append(line)
    return sections


def attachment_line(value) -> str:
    """``Anlage: <title> – <description>`` of a document block: context for the passage (also
    of a protocol's attachment list, built in :mod:`search.indexing.page_chunks`)."""
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
