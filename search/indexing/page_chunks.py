"""Knowledge pages -> passages, one builder per page type (split with :mod:`.chunking`).

What each type is made of: a project's goals, a protocol's agenda items, decisions and action
items, the German field labels of a lesson or best practice, a roadmap's measures, and the
attached files' text. The budget-aware splitting itself is in :mod:`search.indexing.chunking`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.formats import date_format

from search.indexing.chunking import (
    HEADING_SEPARATOR,
    CharBudget,
    Chunk,
    Section,
    TokenBudget,
    attachment_line,
    rich_text_sections,
    split_to_budget,
    stream_sections,
)


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
    """The title of the project above the page, as context of its overview passage.

    Only of a live project that is an ancestor: its view restrictions then cover the page as
    well, so everyone who finds the passage may see the project. A title of any other page
    would stay in passages that retrieval shows by this page's permissions (passages carry no
    access scope of their own), which is why best practices do not name their linked project.
    An unpublished project's pages are re-indexed without it (``indexing.handlers``).
    """
    project = page.get_project()
    if (project is not None and project.pk != page.pk and project.live
            and page.path.startswith(project.path)):
        return [f"Projekt: {project.title}"]
    return []


def _chunks_project(page, budget) -> list[Chunk]:
    goals = _rich_paragraphs(page.goals)
    extra = [f"{_field_label(page, 'goals')}:", *goals] if goals else []
    return _overview(page, extra, budget) + _section_chunks(
        page, stream_sections(page.body, ""), budget
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

    attachments = [line for block in page.attachments if (line := attachment_line(block.value))]
    if attachments:
        chunks += _section_chunks(
            page, [Section(_field_label(page, "attachments"), ["\n".join(attachments)])], budget
        )
    return chunks + _section_chunks(
        page, stream_sections(page.body, _field_label(page, "body")), budget
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
    sections += stream_sections(page.body, _field_label(page, "body"))
    return _overview(page, _project_context(page), budget) + _section_chunks(
        page, sections, budget
    )


def _chunks_best_practice(page, budget) -> list[Chunk]:
    sections = _field_sections(page, ["problem", "solution", "result", "transferability"])
    details = [f"{_field_label(page, name)}: {value}"
               for name in ("effort", "contact_role") if (value := getattr(page, name))]
    if details:
        sections.append(Section("Aufwand und Ansprechpartner", details))
    sections += stream_sections(page.body, _field_label(page, "body"))
    return _overview(page, [], budget) + _section_chunks(page, sections, budget)


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
        page, stream_sections(page.body, _field_label(page, "body")), budget
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
