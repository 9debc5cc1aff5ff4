"""JSON Lines import and export of knowledge pages: the one place that defines the format.

One JSON object per line; the common keys are ``external_id``, ``type``, ``title``,
``municipality``, ``topics``, ``date``, ``summary``, ``body`` (Markdown) and ``project``.
Each type adds its structured fields (see ``TYPE_SCHEMAS`` and the README).

The import validates the whole file before it writes anything: a bad line (invalid JSON,
unknown type, missing title or external_id, bad date, unknown project reference, duplicate
external_id, ...) is reported with its line number and reason, and nothing is imported unless
the caller explicitly skips invalid lines. Pages are matched by ``external_id``, so running an
import twice changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import markdown
import nh3
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, transaction
from markdownify import markdownify
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from wagtail.rich_text import expand_db_html

from knowledge.text import free_slug, german_slugify, strip_control_characters

KNOWLEDGE_TYPES = ("project", "session_protocol", "lesson_learned", "best_practice", "roadmap")

# --- Markdown <-> sanitised rich text ---------------------------------------------------------

ALLOWED_TAGS = {"p", "h2", "h3", "h4", "ul", "ol", "li", "b", "i", "a", "br", "blockquote"}
_TAG_RENAMES = {"strong": "b", "em": "i"}
_HEADING_DOWN = {"h1": "h2", "h2": "h3", "h3": "h4", "h4": "h4", "h5": "h4", "h6": "h4"}
_HEADING_UP = {"h2": "h1", "h3": "h2", "h4": "h3"}


def _rename_tags(html: str, renames: dict[str, str]) -> str:
    pattern = re.compile(r"<(/?)(" + "|".join(renames) + r")\b", re.IGNORECASE)
    return pattern.sub(lambda m: f"<{m.group(1)}{renames[m.group(2).lower()]}", html)


def markdown_to_rich_text(text: str) -> str:
    """Markdown -> HTML in Wagtail's rich text format, with everything unsafe removed.

    Markdown allows raw HTML, so the output is sanitised with nh3 (ammonia): only the tags the
    editor supports survive, ``<script>``/``<style>`` disappear with their content, event
    handler attributes and ``javascript:`` URLs are dropped. Headings move one level down
    (``#`` -> ``<h2>``) because the page title is the only ``<h1>``.
    """
    if not text or not text.strip():
        return ""
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    html = _rename_tags(html, {**_TAG_RENAMES, **_HEADING_DOWN})
    html = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https", "mailto"},
        link_rel=None,
    )
    return html.strip()


def rich_text_to_markdown(html: str) -> str:
    """The inverse of :func:`markdown_to_rich_text`, used by the export."""
    if not html or not html.strip():
        return ""
    html = _rename_tags(expand_db_html(html), _HEADING_UP)
    text = markdownify(html, heading_style="ATX", bullets="-", escape_misc=False)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- The line schema ----------------------------------------------------------------------


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a valid calendar date") from None


def _check_email(value: str) -> str:
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValueError(f"{value!r} is not a valid e-mail address") from None
    return value


Date = Annotated[dt.date, BeforeValidator(_parse_date)]
Text = Annotated[str, StringConstraints(strip_whitespace=True)]
RequiredText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254),
                  AfterValidator(_check_email)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Participant(_Strict):
    role: RequiredText = Field(max_length=200)
    organisation: Text = Field(default="", max_length=200)


class AgendaItem(_Strict):
    title: RequiredText = Field(max_length=300)
    discussion: Text = ""


class ActionItem(_Strict):
    task: RequiredText
    owner_role: RequiredText = Field(max_length=200)
    due_date: Date | None = None
    status: Literal["offen", "in_arbeit", "erledigt"] = "offen"


class AttachmentRef(_Strict):
    """A file attached to the page; ``file`` is relative to the JSON Lines file."""

    title: RequiredText = Field(max_length=255)
    file: RequiredText = Field(max_length=500)
    description: Text = Field(default="", max_length=300)


class CommonFields(_Strict):
    external_id: RequiredText = Field(max_length=200)
    type: str
    title: RequiredText = Field(max_length=255)
    municipality: RequiredText = Field(max_length=120)
    topics: list[Annotated[RequiredText, Field(max_length=120)]] = Field(default_factory=list)
    date: Date
    summary: RequiredText
    body: Text = ""
    project: Text | None = None
    attachments: list[AttachmentRef] = Field(default_factory=list)


class ProjectRecord(CommonFields):
    start_date: Date | None = None
    end_date: Date | None = None
    phase: Literal["geplant", "laufend", "abgeschlossen"] = "laufend"
    goals: Text = ""


class SessionProtocolRecord(CommonFields):
    session_number: int = Field(default=1, ge=1, le=999)
    format: Literal["virtuell", "vor_ort"] = "virtuell"
    participants: list[Participant] = Field(default_factory=list)
    agenda_items: list[AgendaItem] = Field(default_factory=list)
    decisions: list[RequiredText] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)


class LessonLearnedRecord(CommonFields):
    situation: RequiredText
    went_well: Text = ""
    went_badly: Text = ""
    recommendation: RequiredText


class BestPracticeRecord(CommonFields):
    problem: RequiredText
    solution: RequiredText
    result: Text = ""
    transferability: Text = ""
    effort: Text = Field(default="", max_length=300)
    contact_role: Text = Field(default="", max_length=200)
    contact_email: Email = ""


# Roadmap (Digitalisierungszeitstrahl): half-year steps with change module and measures.


class Measure(_Strict):
    title: RequiredText = Field(max_length=300)
    topic: Text | None = Field(default=None, max_length=120)
    status: Literal["geplant", "laufend", "erledigt"] = "geplant"
    responsible_role: Text = Field(default="", max_length=200)
    description: Text = ""


class ChangeModule(_Strict):
    title: Text = Field(default="", max_length=300)
    description: Text = ""


class RoadmapStep(_Strict):
    year: int = Field(ge=2000, le=2100)
    half: Literal[1, 2]
    title: RequiredText = Field(max_length=300)
    change_module: ChangeModule = Field(default_factory=ChangeModule)
    measures: list[Measure] = Field(default_factory=list)


class RoadmapRecord(CommonFields):
    steps: list[RoadmapStep] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_step_per_half_year(self):
        seen = set()
        for step in self.steps:
            if (step.year, step.half) in seen:
                raise ValueError(f"steps: half-year {step.half}/{step.year} occurs twice")
            seen.add((step.year, step.half))
        return self


# Municipality master data (profile pages): one line per municipality, matched by name.


class MunicipalityRecord(_Strict):
    type: Literal["municipality"]
    name: RequiredText = Field(max_length=120)
    kind: Literal["stadt", "gemeinde", "kreis"] = "stadt"
    district: Text = Field(default="", max_length=120)
    population: int | None = Field(default=None, ge=0, le=100_000_000)
    contact_role: Text = Field(default="", max_length=200)
    contact_email: Email = ""

    @property
    def external_id(self) -> str:
        """Key for the duplicate check across lines (names are unique, case-insensitively)."""
        return f"kommune:{self.name.casefold()}"

    @property
    def project(self) -> None:
        return None


TYPE_SCHEMAS: dict[str, type[CommonFields] | type[MunicipalityRecord]] = {
    "project": ProjectRecord,
    "session_protocol": SessionProtocolRecord,
    "lesson_learned": LessonLearnedRecord,
    "best_practice": BestPracticeRecord,
    "roadmap": RoadmapRecord,
    "municipality": MunicipalityRecord,
}


# --- Parsing and validation ---------------------------------------------------------------


@dataclass(frozen=True)
class LineError:
    line: int
    reason: str

    def __str__(self):
        return f"line {self.line}: {self.reason}"


@dataclass
class ParsedLine:
    line: int
    record: CommonFields
    base_dir: Path | None = None  # where the record's attachment paths start


def _describe_validation_error(error: PydanticValidationError) -> str:
    parts = []
    for item in error.errors():
        location = ".".join(str(p) for p in item["loc"]) or "line"
        if item["type"] == "missing":
            parts.append(f"missing required field '{location}'")
        elif item["type"] == "extra_forbidden":
            parts.append(f"unknown field '{location}'")
        else:
            message = item["msg"].removeprefix("Value error, ")
            parts.append(f"field '{location}': {message}")
    return "; ".join(parts)


def _without_control_characters(value):
    """Drop control characters (except tab and newline) from every string in the data:
    they are invisible junk in a title, and PostgreSQL cannot store NUL at all."""
    if isinstance(value, str):
        return strip_control_characters(value)
    if isinstance(value, list):
        return [_without_control_characters(v) for v in value]
    if isinstance(value, dict):
        return {k: _without_control_characters(v) for k, v in value.items()}
    return value


def parse_line(number: int, raw: str) -> ParsedLine | LineError:
    """Parse and validate one line on its own (references are checked afterwards)."""
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        return LineError(number, f"invalid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(data, dict):
        return LineError(number, "expected a JSON object")
    data = _without_control_characters(data)
    kind = data.get("type")
    if kind is None:
        return LineError(number, "missing required field 'type'")
    if not isinstance(kind, str) or kind not in TYPE_SCHEMAS:
        return LineError(
            number, f"unknown type {kind!r} (expected one of "
            f"{', '.join((*KNOWLEDGE_TYPES, 'municipality'))})"
        )
    try:
        record = TYPE_SCHEMAS[kind].model_validate(data)
    except PydanticValidationError as exc:
        return LineError(number, _describe_validation_error(exc))
    if kind == "project" and record.project:
        return LineError(number, "a project cannot belong to another project ('project')")
    if kind == "session_protocol" and not record.project:
        return LineError(number, "a session protocol needs the external_id of its 'project'")
    if kind == "roadmap" and not record.project:
        return LineError(number, "a roadmap needs the external_id of its 'project'")
    return ParsedLine(number, record)


def _readable_external_id(raw: str) -> str:
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return ""
    value = data.get("external_id") if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) else ""


def validate_lines(lines: Iterable[str], base_dir: Path | None = None
                   ) -> tuple[list[ParsedLine], list[LineError]]:
    """Validate all lines, including duplicates, project references and attached files.

    ``base_dir`` is the directory of the JSON Lines file: attachment paths are relative to
    it (lines with attachments are invalid without it).

    A reference may point to a project in the same file or to one already in the database.
    A line whose project is itself invalid is reported too, so that skipping invalid lines
    never leaves a protocol without its project.
    """
    from knowledge.models import KnowledgePage, ProjectPage

    parsed: list[ParsedLine] = []
    errors: list[LineError] = []
    first_seen: dict[str, int] = {}
    failed_ids: set[str] = set()  # external_ids of lines that failed, as far as readable
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        result = parse_line(number, raw)
        if isinstance(result, ParsedLine):
            result = _with_attachment_files(result, base_dir)
        if isinstance(result, LineError):
            errors.append(result)
            failed_ids.add(_readable_external_id(raw))
            continue
        external_id = result.record.external_id
        if external_id in first_seen:
            errors.append(LineError(
                number, f"duplicate external_id {external_id!r} (first used on line "
                f"{first_seen[external_id]})"))
            continue
        first_seen[external_id] = number
        parsed.append(result)

    existing_types = {
        page.external_id: page.specific_class
        for page in KnowledgePage.objects.filter(external_id__in=first_seen)
    }
    file_projects = {p.record.external_id for p in parsed if p.record.type == "project"}
    db_projects = set(
        ProjectPage.objects.filter(external_id__in={p.record.project for p in parsed
                                                    if p.record.project})
        .values_list("external_id", flat=True)
    )
    not_projects = {e for e in first_seen if e not in file_projects}
    valid: list[ParsedLine] = []
    for item in parsed:
        record = item.record
        existing = existing_types.get(record.external_id)
        if existing is not None and existing.knowledge_type != record.type:
            errors.append(LineError(item.line, f"external_id {record.external_id!r} already "
                                    f"belongs to a page of type {existing.knowledge_type!r}"))
            continue
        if record.project and record.project not in file_projects | db_projects:
            if record.project in failed_ids:
                reason = f"its project {record.project!r} is invalid"
            elif record.project in not_projects:
                reason = f"{record.project!r} is not a project"
            else:
                reason = f"unknown project reference {record.project!r}"
            errors.append(LineError(item.line, reason))
            continue
        valid.append(item)

    # A valid line that depends on an invalid project line is invalid as well.
    bad_lines = {e.line for e in errors}
    bad_project_ids = {p.record.external_id for p in parsed if p.line in bad_lines
                       and p.record.type == "project"}
    result = []
    for item in valid:
        if item.record.project in bad_project_ids:
            errors.append(LineError(item.line, f"its project {item.record.project!r} is invalid"))
        else:
            result.append(item)
    errors.sort(key=lambda e: e.line)
    return result, errors


def _with_attachment_files(item: ParsedLine, base_dir: Path | None) -> ParsedLine | LineError:
    from attachments.files import check_file

    for number, attachment in enumerate(getattr(item.record, "attachments", [])):
        problem = check_file(base_dir, attachment.file)
        if problem:
            return LineError(item.line, f"attachments.{number}: {problem}")
    item.base_dir = base_dir
    return item


# --- Writing pages ------------------------------------------------------------------------


class ImportFailed(Exception):
    """A validated line could still not be saved; the whole import was rolled back."""

    def __init__(self, error: LineError):
        super().__init__(str(error))
        self.error = error


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _rich(text: str) -> str:
    return markdown_to_rich_text(text)


def _body_stream(markdown_text: str) -> list:
    html = _rich(markdown_text)
    return [("text", _rich_text_value(html))] if html else []


def _rich_text_value(html: str):
    from wagtail.rich_text import RichText

    return RichText(html)


def _attachment_blocks(record: CommonFields, base_dir: Path | None) -> list:
    from attachments.files import stored_document

    return [
        {"document": stored_document(base_dir, a.file, a.title), "description": a.description}
        for a in record.attachments
    ]


def _page_fields(record: CommonFields, project_page, base_dir: Path | None = None
                 ) -> dict[str, Any]:
    """The model field values a record stands for (excluding tree position and topics).

    Attachments are a protocol's "Anlagen"; other pages get them as document blocks at the
    end of their body.
    """
    attachments = _attachment_blocks(record, base_dir)
    body = _body_stream(record.body)
    if not isinstance(record, SessionProtocolRecord):
        body += [("document", value) for value in attachments]
    fields: dict[str, Any] = {
        "title": record.title,
        "date": record.date,
        "summary": record.summary,
        "external_id": record.external_id,
        "body": body,
    }
    if isinstance(record, ProjectRecord):
        fields.update(
            start_date=record.start_date or record.date,
            end_date=record.end_date,
            phase=record.phase,
            goals=_rich(record.goals),
        )
    elif isinstance(record, SessionProtocolRecord):
        fields.update(
            session_number=record.session_number,
            format=record.format,
            participants=[("participant", p.model_dump()) for p in record.participants],
            agenda_items=[
                ("agenda_item", {"title": a.title, "discussion": _rich_text_value(
                    _rich(a.discussion))})
                for a in record.agenda_items
            ],
            decisions=[("decision", {"text": d}) for d in record.decisions],
            action_items=[("action_item", a.model_dump()) for a in record.action_items],
            attachments=[("attachment", value) for value in attachments],
        )
    elif isinstance(record, LessonLearnedRecord):
        fields.update(
            situation=_rich(record.situation),
            went_well=_rich(record.went_well),
            went_badly=_rich(record.went_badly),
            recommendation=_rich(record.recommendation),
        )
    elif isinstance(record, BestPracticeRecord):
        fields.update(
            problem=_rich(record.problem),
            solution=_rich(record.solution),
            result=_rich(record.result),
            transferability=_rich(record.transferability),
            effort=record.effort,
            contact_role=record.contact_role,
            contact_email=record.contact_email,
            related_project=project_page,
        )
    elif isinstance(record, RoadmapRecord):
        fields["steps"] = _roadmap_steps(record.steps)
    return fields


def _roadmap_steps(steps: list[RoadmapStep]) -> list:
    """Roadmap steps as StreamField data; measure topics are resolved (created) by name."""
    ordered = sorted(steps, key=lambda step: (step.year, step.half))
    return [("step", {
        "year": step.year,
        "half": str(step.half),
        "title": step.title,
        "change_module": step.change_module.model_dump(),
        "measures": [{**measure.model_dump(exclude={"topic"}),
                      "topic": _resolve_topics([measure.topic])[0] if measure.topic else None}
                     for measure in step.measures],
    }) for step in ordered]


def unique_slug(parent, title: str, exclude_pk=None) -> str:
    """The title's slug, numbered if a sibling has it."""
    return free_slug(german_slugify(title), parent.get_children().exclude(pk=exclude_pk))


def _parent_for(record: CommonFields, project_page):
    from knowledge import models

    if record.type == "project":
        return models.ProjectIndexPage.objects.get()
    if record.type in ("session_protocol", "roadmap"):
        return project_page
    if record.type == "lesson_learned":
        return project_page or models.LessonLearnedIndexPage.objects.get()
    return models.BestPracticeIndexPage.objects.get()


def _resolve_municipality(name: str):
    from knowledge.models import Municipality

    municipality = Municipality.objects.filter(name__iexact=name).first()
    return municipality or Municipality.objects.create(name=name)


def _resolve_topics(names: list[str]):
    from knowledge.models import Topic

    topics = []
    for name in dict.fromkeys(names):
        topic = Topic.objects.filter(name__iexact=name).first()
        topics.append(topic or Topic.objects.create(name=name))
    return topics


def _import_record(record: CommonFields, result: ImportResult,
                   base_dir: Path | None = None) -> None:
    from knowledge.models import KNOWLEDGE_PAGE_MODELS, KnowledgePage, ProjectPage

    model = KNOWLEDGE_PAGE_MODELS[record.type]
    project_page = (
        ProjectPage.objects.get(external_id=record.project) if record.project else None
    )
    parent = _parent_for(record, project_page)
    existing = KnowledgePage.objects.filter(external_id=record.external_id).first()
    page = existing.specific if existing else None
    fields = _page_fields(record, project_page, base_dir)
    fields["municipality"] = _resolve_municipality(record.municipality)
    topics = _resolve_topics(record.topics)
    if page is not None and page.live and not page.has_unpublished_changes:
        # Compare in the export format, where both sides went through the same conversions.
        incoming = model(**fields)
        incoming.topics = topics
        if _record_dict(incoming, record.project) == record_from_page(page):
            result.unchanged += 1
            return
    created = page is None
    if created:
        page = model(slug=unique_slug(parent, record.title), **fields)
        page.topics = topics
        parent.add_child(instance=page)
        result.created += 1
    else:
        if page.get_parent().pk != parent.pk:
            page.move(parent, pos="last-child")
            page.refresh_from_db()
            page = page.specific
        for name, value in fields.items():
            setattr(page, name, value)
        page.topics = topics
        result.updated += 1
    page.save_revision().publish()
    if created:
        _date_publication(page, record.date)


def _date_publication(page, date: dt.date) -> None:
    """An imported page counts as published on its own date (at the latest today), not on
    the day of the import: moved from another system, a 2022 protocol is 2022 material for
    the gap report, the review reminders and the feeds."""
    from django.utils import timezone
    from wagtail.models import Page

    moment = min(timezone.make_aware(dt.datetime.combine(date, dt.time())), timezone.now())
    Page.objects.filter(pk=page.pk).update(first_published_at=moment,
                                           last_published_at=moment)


def _import_municipality(record: MunicipalityRecord, result: ImportResult) -> None:
    """Create or update a municipality's master data (matched by name, case-insensitively)."""
    from knowledge.models import Municipality

    values = record.model_dump(exclude={"type", "name"})
    municipality = Municipality.objects.filter(name__iexact=record.name).first()
    if municipality is None:
        Municipality.objects.create(name=record.name, **values)
        result.created += 1
    elif all(getattr(municipality, k) == v for k, v in values.items()):
        result.unchanged += 1
    else:
        for name, value in values.items():
            setattr(municipality, name, value)
        municipality.save()
        result.updated += 1


def import_records(items: list[ParsedLine], progress: Iterator | None = None) -> ImportResult:
    """Create or update the pages of validated lines in one transaction (municipalities first,
    then projects)."""
    ordered = sorted(items, key=lambda item: (item.record.type != "municipality",
                                              item.record.type != "project", item.line))
    from attachments.files import files_removed_on_failure

    result = ImportResult()
    with files_removed_on_failure(), transaction.atomic():
        for item in ordered:
            try:
                if isinstance(item.record, MunicipalityRecord):
                    _import_municipality(item.record, result)
                else:
                    _import_record(item.record, result, item.base_dir)
            except DjangoValidationError as exc:
                messages = "; ".join(
                    f"{field}: {' '.join(errs)}" for field, errs in exc.message_dict.items()
                ) if hasattr(exc, "error_dict") else " ".join(exc.messages)
                raise ImportFailed(LineError(item.line, f"cannot be saved: {messages}")) from exc
            except DatabaseError as exc:  # a constraint the validation does not know of
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)
                raise ImportFailed(LineError(item.line, f"cannot be saved: {reason}")) from exc
            if progress is not None:
                progress.update(1)
    return result


# --- Export -------------------------------------------------------------------------------


def _stream_markdown(stream) -> str:
    parts = []
    for block in stream:
        if block.block_type == "text":
            parts.append(rich_text_to_markdown(block.value.source))
        elif block.block_type == "quote":
            parts.append("\n".join(f"> {line}" for line in str(block.value).splitlines()))
    return "\n\n".join(p for p in parts if p)


def record_from_page(page) -> dict[str, Any]:
    """The export line of a (specific) knowledge page, in the import format."""
    project = page.get_project()
    project_id = project.external_id if project and project.pk != page.pk else None
    return _record_dict(page, project_id)


def _record_dict(page, project_id: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": page.external_id,
        "type": page.knowledge_type,
        "title": page.title,
        "municipality": page.municipality.name,
        "topics": sorted(t.name for t in page.topics.all()),
        "date": page.date.isoformat(),
        "summary": page.summary,
        "body": _stream_markdown(page.body),
        "project": project_id,
    }
    attachments = attachment_documents(page)
    if attachments:
        from attachments.files import export_path

        data["attachments"] = [
            {"title": document.title, "file": export_path(page.external_id, document),
             "description": description}
            for document, description in attachments
        ]
    kind = page.knowledge_type
    if kind == "project":
        data.update(
            start_date=page.start_date.isoformat() if page.start_date else None,
            end_date=page.end_date.isoformat() if page.end_date else None,
            phase=page.phase,
            goals=rich_text_to_markdown(page.goals),
        )
    elif kind == "session_protocol":
        data.update(
            session_number=page.session_number,
            format=page.format,
            participants=[
                {"role": b.value["role"], "organisation": b.value["organisation"]}
                for b in page.participants
            ],
            agenda_items=[
                {"title": b.value["title"],
                 "discussion": rich_text_to_markdown(b.value["discussion"].source)}
                for b in page.agenda_items
            ],
            decisions=[b.value["text"] for b in page.decisions],
            action_items=[
                {
                    "task": b.value["task"],
                    "owner_role": b.value["owner_role"],
                    "due_date": b.value["due_date"].isoformat() if b.value["due_date"] else None,
                    "status": b.value["status"],
                }
                for b in page.action_items
            ],
        )
    elif kind == "lesson_learned":
        data.update(
            situation=rich_text_to_markdown(page.situation),
            went_well=rich_text_to_markdown(page.went_well),
            went_badly=rich_text_to_markdown(page.went_badly),
            recommendation=rich_text_to_markdown(page.recommendation),
        )
    elif kind == "best_practice":
        data.update(
            problem=rich_text_to_markdown(page.problem),
            solution=rich_text_to_markdown(page.solution),
            result=rich_text_to_markdown(page.result),
            transferability=rich_text_to_markdown(page.transferability),
            effort=page.effort,
            contact_role=page.contact_role,
            contact_email=page.contact_email,
        )
    elif kind == "roadmap":
        data["steps"] = [{
            "year": step.year,
            "half": step.half,
            "title": step.title,
            "change_module": {"title": step.change_title,
                              "description": step.change_description},
            "measures": [{"title": m.title, "topic": m.topic.name if m.topic else None,
                          "status": m.status, "responsible_role": m.responsible_role,
                          "description": m.description} for m in step.measures],
        } for step in page.timeline()]
    return data


def attachment_documents(page) -> list[tuple[Any, str]]:
    """(document, description) of the page's attachments, as the import format carries them:
    a protocol's "Anlagen" and the document blocks of any body."""
    blocks = list(getattr(page, "attachments", None) or [])
    blocks += [b for b in page.body if b.block_type == "document"]
    return [(b.value["document"], b.value.get("description") or "") for b in blocks
            if b.value.get("document") is not None]


def municipality_records() -> list[dict[str, Any]]:
    """Export lines of all municipalities' master data (``type: "municipality"``)."""
    from knowledge.models import Municipality

    return [{"type": "municipality", "name": m.name, "kind": m.kind, "district": m.district,
             "population": m.population, "contact_role": m.contact_role,
             "contact_email": m.contact_email} for m in Municipality.objects.order_by("name")]


def export_pages():
    """Live knowledge pages in import order (projects first), as specific pages.

    Pages created by hand in the admin get a stable ``external_id`` (``wagtail-<id>``) on
    their first export, so that re-importing the file updates them instead of duplicating.
    """
    from knowledge.models import KnowledgePage
    from knowledge.page_cache import renew_after_commit

    named = 0
    for page in KnowledgePage.objects.filter(external_id__isnull=True):
        named += KnowledgePage.objects.filter(pk=page.pk).update(
            external_id=f"wagtail-{page.pk}")
    if named:  # update() sends no signal: pages and search hits show the id from now on
        renew_after_commit()
    pages = KnowledgePage.objects.live().specific().order_by("path")
    return sorted(pages, key=lambda p: (p.knowledge_type != "project", p.path))
