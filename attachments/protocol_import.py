""""Protokoll aus Datei": a session-protocol draft from a DOCX or ODT file.

Consultants write minutes in Word or LibreOffice. The file is read by the same worker as
attachments (:func:`attachments.extraction.run_worker`), then its sections are sorted by
their headings, the way minutes are usually laid out:

- "Teilnehmende"/"Anwesend": one participant per list line, "Rolle (Organisation)";
- "Tagesordnung" with sub-headings (with or without "TOP"), or headings starting with "TOP":
  agenda items, the text below as the discussion; lines directly under "Tagesordnung" are
  items, a line too long for a title the previous item's discussion;
- "Beschlüsse"/"Ergebnisse": one decision per list line or paragraph;
- "Aufgaben"/"Maßnahmen"/"To-dos": one action item per table row ("Aufgabe | Verantwortlich |
  Fällig | Status") or list line;
- everything else: the protocol's notes, under its heading.

Title, date (``TT.MM.JJJJ``, ``TT.MM.JJ`` or "12. März 2024": from the title and first lines,
else from any note, never from the action items' due dates), session number ("3. Sitzung")
and format ("Videokonferenz", "vor Ort") come from the title and first lines where present; a
title such as "Ergebnisprotokoll …" is the title, not the decisions. An action table's header
row says which column is which ("Nr." columns are skipped). The result
is an unpublished draft with the file as its first attachment, to be checked and completed
in the editor before publishing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from attachments.readers import Section

_DATE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4}|\d{2})(?!\d)")
_MONTHS = ("januar", "februar", "märz", "april", "mai", "juni", "juli", "august",
           "september", "oktober", "november", "dezember")
_WRITTEN_DATE = re.compile(r"\b(\d{1,2})\.\s*(" + "|".join(_MONTHS) + r")\s+(\d{4})\b",
                           re.IGNORECASE)
# Header cells of an action-item table, by column meaning.
_ACTION_COLUMNS = {
    "task": ("aufgabe", "maßnahme", "massnahme", "was", "to-do", "todo", "beschreibung"),
    "owner_role": ("verantwortlich", "zuständig", "wer", "rolle", "federführung"),
    "due_date": ("fällig", "faellig", "bis", "termin", "frist", "datum"),
    "status": ("status", "stand"),
}
_SESSION_NUMBER = re.compile(r"\b(\d{1,2})\.\s*(?:\w+)?[Ss]itzung")
_TOP_PREFIX = re.compile(r"^(?:TOP|Top)\s*\d*\s*[:.)-]?\s*")
_STATUS_WORDS = {"offen": "offen", "in arbeit": "in_arbeit", "erledigt": "erledigt",
                 "laufend": "in_arbeit", "abgeschlossen": "erledigt"}


@dataclass
class ProtocolDraft:
    title: str = ""
    date: dt.date | None = None
    session_number: int | None = None
    format: str = ""
    participants: list[dict] = field(default_factory=list)
    agenda_items: list[dict] = field(default_factory=list)
    decisions: list[str] = field(default_factory=list)
    action_items: list[dict] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (heading, text)


def _kind_of(heading: str) -> str:
    leaf = heading.lower()
    if "protokoll" in leaf:  # the document's title: "Ergebnisprotokoll der 4. Sitzung"
        return "notes"
    if "teilnehm" in leaf or "anwesend" in leaf:
        return "participants"
    if leaf.startswith("top") or "tagesordnung" in leaf:
        return "agenda"
    if "beschl" in leaf or leaf.startswith("ergebnis"):
        return "decisions"
    if "aufgabe" in leaf or "maßnahme" in leaf or "to-do" in leaf or "todo" in leaf:
        return "actions"
    return "notes"


def _lines(text: str) -> list[str]:
    return [line.strip().removeprefix("- ").strip() for line in text.splitlines()
            if line.strip()]


def _participant(line: str) -> dict:
    match = re.match(r"^(.*?)\s*\((.*)\)\s*$", line)
    if match:
        return {"role": match.group(1)[:200], "organisation": match.group(2)[:200]}
    role, _sep, organisation = line.partition(",")
    return {"role": role.strip()[:200], "organisation": organisation.strip()[:200]}


def _parse_date(text: str) -> dt.date | None:
    """The first date in ``text``: 12.03.2024, 12.3.24 or 12. März 2024."""
    found = []
    for match in _DATE.finditer(text):
        day, month, year = (int(g) for g in match.groups())
        found.append((match.start(), day, month, year + 2000 if year < 100 else year))
    for match in _WRITTEN_DATE.finditer(text):
        month = _MONTHS.index(match.group(2).lower()) + 1
        found.append((match.start(), int(match.group(1)), month, int(match.group(3))))
    for _position, day, month, year in sorted(found):
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None


def _header_columns(cells: list[str]) -> dict[int, str] | None:
    """Column index -> meaning, if these cells are an action table's header row."""
    columns = {}
    for index, cell in enumerate(cells):
        lowered = cell.lower().rstrip(":")
        for meaning, words in _ACTION_COLUMNS.items():
            if meaning not in columns.values() and lowered.startswith(words):
                columns[index] = meaning
                break
    return columns if "task" in columns.values() else None


def _action_items(lines: list[str]) -> list[dict]:
    """Action items from table rows ("a | b | c") or list lines; a header row, where there
    is one, says which column is which (a "Nr." column is skipped)."""
    items, columns = [], None
    for line in lines:
        cells = [c.strip() for c in line.split("|")]
        if len(cells) > 1 and (header := _header_columns(cells)) is not None:
            columns = header
            continue
        item = _mapped_action_item(cells, columns) if columns else _action_item(cells)
        if item is not None:
            items.append(item)
    return items


def _mapped_action_item(cells: list[str], columns: dict[int, str]) -> dict | None:
    item = {"task": "", "owner_role": "", "due_date": None, "status": "offen"}
    for index, meaning in columns.items():
        value = cells[index] if index < len(cells) else ""
        if meaning == "due_date":
            item["due_date"] = _parse_date(value)
        elif meaning == "status":
            item["status"] = _STATUS_WORDS.get(value.lower(), "offen")
        else:
            item[meaning] = value[:200] if meaning == "owner_role" else value
    return item if item["task"] else None


def _action_item(cells: list[str]) -> dict | None:
    item = {"task": cells[0], "owner_role": "", "due_date": None, "status": "offen"}
    for cell in cells[1:]:
        lowered = cell.lower()
        if lowered in _STATUS_WORDS:
            item["status"] = _STATUS_WORDS[lowered]
        elif (date := _parse_date(cell)) is not None:
            item["due_date"] = date
        elif not item["owner_role"]:
            item["owner_role"] = cell[:200]
    return item if item["task"] else None


# A line under "Tagesordnung" longer than this is text, not an item's title.
_MAX_AGENDA_TITLE = 300


def _agenda_lines(lines: list[str]) -> list[dict]:
    """Text directly under "Tagesordnung": one item per line; a line too long for a title
    is the previous item's discussion (or an item of its own with the text kept whole)."""
    items: list[dict] = []
    for line in lines:
        if len(line) <= _MAX_AGENDA_TITLE:
            items.append({"title": line, "discussion": ""})
        elif items:
            items[-1]["discussion"] = "\n\n".join(filter(None, [items[-1]["discussion"], line]))
        else:
            items.append({"title": line[:120].rsplit(" ", 1)[0] + " …", "discussion": line})
    return items


def parse_protocol(sections: list[Section], filename: str) -> ProtocolDraft:
    """Sort the sections of a minutes file into the parts of a session protocol."""
    draft = ProtocolDraft()
    for section in sections:
        path = section.heading.split(" › ") if section.heading else []
        kinds = [_kind_of(part) for part in path]
        leaf = path[-1] if path else ""
        if not draft.title and path:
            draft.title = path[0]
        kind = next((k for k in reversed(kinds) if k != "notes"), "notes")
        if kind == "participants":
            draft.participants += [_participant(line) for line in _lines(section.text)]
        elif kind == "agenda" and leaf.lower() != "tagesordnung":
            # A heading below "Tagesordnung" ("TOP 2: …" or just "Datenschutz"): one item,
            # the text below it its discussion.
            draft.agenda_items.append({"title": _TOP_PREFIX.sub("", leaf)[:300] or leaf[:300],
                                       "discussion": section.text})
        elif kind == "agenda":
            draft.agenda_items += _agenda_lines(_lines(section.text))
        elif kind == "decisions":
            draft.decisions += _lines(section.text)
        elif kind == "actions":
            draft.action_items += _action_items(_lines(section.text))
        else:
            draft.notes.append((leaf if len(path) > 1 else "", section.text))
    head = " ".join([draft.title] + [text for _h, text in draft.notes[:1]])
    # The title and the first lines, else any note ("Datum: …" under "Allgemeines"); never
    # the action items, whose due dates are not the session's.
    draft.date = _parse_date(head) or _parse_date(" ".join(text for _h, text in draft.notes))
    number = _SESSION_NUMBER.search(draft.title)
    draft.session_number = int(number.group(1)) if number else None
    lowered = head.lower()
    if "vor ort" in lowered or "präsenz" in lowered:
        draft.format = "vor_ort"
    elif any(word in lowered for word in ("videokonferenz", "virtuell", "online")):
        draft.format = "virtuell"
    draft.title = (draft.title or filename.rsplit(".", 1)[0])[:255]
    return draft
