""""Protokoll aus Datei": a session-protocol draft from a DOCX or ODT file.

Consultants write minutes in Word or LibreOffice. The file is read by the same worker as
attachments (:func:`attachments.extraction.run_worker`), then its sections are sorted by
their headings, the way minutes are usually laid out:

- "Teilnehmende"/"Anwesend": one participant per list line, "Rolle (Organisation)";
- "Tagesordnung" with sub-headings, or headings starting with "TOP": agenda items, the text
  below as the discussion;
- "Beschlüsse"/"Ergebnisse": one decision per list line or paragraph;
- "Aufgaben"/"Maßnahmen"/"To-dos": one action item per table row ("Aufgabe | Verantwortlich |
  Fällig | Status") or list line;
- everything else: the protocol's notes, under its heading.

Title, date (first ``TT.MM.JJJJ``), session number ("3. Sitzung") and format
("Videokonferenz", "vor Ort") come from the title and first lines where present. The result
is an unpublished draft with the file as its first attachment, to be checked and completed
in the editor before publishing.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from attachments.readers import Section

_DATE = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b")
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
    for day, month, year in _DATE.findall(text):
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            continue
    return None


def _action_item(line: str) -> dict | None:
    cells = [c.strip() for c in line.split("|")]
    if len(cells) > 1 and cells[0].lower() in ("aufgabe", "maßnahme", "was"):
        return None  # the table's header row
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
        elif kind == "agenda" and _kind_of(leaf) == "agenda" and leaf.lower() != "tagesordnung":
            draft.agenda_items.append({"title": _TOP_PREFIX.sub("", leaf)[:300] or leaf[:300],
                                       "discussion": section.text})
        elif kind == "agenda":
            # Text directly under "Tagesordnung": one item per line, no discussion yet.
            draft.agenda_items += [{"title": line[:300], "discussion": ""}
                                   for line in _lines(section.text)]
        elif kind == "decisions":
            draft.decisions += _lines(section.text)
        elif kind == "actions":
            draft.action_items += [item for line in _lines(section.text)
                                   if (item := _action_item(line))]
        else:
            draft.notes.append((leaf if len(path) > 1 else "", section.text))
    head = " ".join([draft.title] + [text for _h, text in draft.notes[:1]])
    draft.date = _parse_date(head)
    number = _SESSION_NUMBER.search(draft.title)
    draft.session_number = int(number.group(1)) if number else None
    lowered = head.lower()
    if "vor ort" in lowered or "präsenz" in lowered:
        draft.format = "vor_ort"
    elif any(word in lowered for word in ("videokonferenz", "virtuell", "online")):
        draft.format = "virtuell"
    draft.title = (draft.title or filename.rsplit(".", 1)[0])[:255]
    return draft
