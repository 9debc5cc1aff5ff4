"""Read a Wagtail document's text once per file content, in a limited worker process.

:func:`extract_document` is called by indexing (outside its transaction: reading a large
file must not hold row locks) and by the import. It never raises for a bad file: the result
is a :class:`~attachments.models.DocumentText` with status ``failed`` and a German message
for the admin, and the page that uses the file is indexed without it.

Limits (settings, see README "Anhänge"): ``KNOWLEDGE_ATTACHMENT_MAX_BYTES`` (file size),
``KNOWLEDGE_ATTACHMENT_TIMEOUT`` (wall clock per file), ``KNOWLEDGE_ATTACHMENT_MAX_CHARS``
(text kept for the index), ``KNOWLEDGE_ATTACHMENT_MAX_UNPACKED_BYTES`` and
``KNOWLEDGE_ATTACHMENT_MAX_ZIP_RATIO`` (zip bombs), ``KNOWLEDGE_ATTACHMENT_MEMORY_BYTES``
(address space of the worker).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.utils.formats import number_format

from attachments.formats import SUPPORTED, extension_of
from attachments.models import DocumentText

logger = logging.getLogger(__name__)

# 2: Word content controls, grouped PowerPoint shapes, slide titles not repeated (2026-12-07).
EXTRACTOR_VERSION = 2

_FORMATS = ", ".join(sorted({label.split(" (")[0] for label in SUPPORTED.values()}))


def _megabytes(value: int) -> str:
    return number_format(value / 1_000_000, decimal_pos=0)


def message_for(code: str, detail: str, filename: str) -> str:
    """The German message the admin shows for a file that could not be read."""
    extension = extension_of(filename)
    messages = {
        "too_large": ("Die Datei ist größer als "
                      f"{_megabytes(settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES)} MB und wird "
                      "nicht ausgelesen."),
        "encrypted": ("Die PDF-Datei ist mit einem Passwort geschützt, ihr Text kann nicht "
                      "gelesen werden. Bitte eine Fassung ohne Kennwort hochladen."),
        "no_text": ("Die Datei enthält keinen lesbaren Text – vermutlich ein gescanntes "
                    "Dokument ohne Texterkennung (OCR). Bitte eine Fassung mit Textebene "
                    "hochladen."),
        "corrupt": (f"Die Datei ist beschädigt oder keine gültige "
                    f"{SUPPORTED.get(extension, extension.upper())}-Datei."),
        "wrong_type": (f"Die Dateiendung „.{extension}“ passt nicht zum Inhalt der Datei "
                       f"(erkannt: {_CONTENT_LABELS.get(detail, 'unbekanntes Format')}). "
                       "Bitte mit der richtigen Endung hochladen."),
        "unsupported": (f"Dateien vom Typ „.{extension}“ werden nicht durchsucht "
                        f"(durchsuchbar: {_FORMATS})."),
        "zip_bomb": (f"Die Datei würde sich auf mehr als "
                     f"{_megabytes(settings.KNOWLEDGE_ATTACHMENT_MAX_UNPACKED_BYTES)} MB "
                     "entpacken oder ist ungewöhnlich stark gepackt (möglicherweise eine "
                     "„Zip-Bombe“) und wurde nicht gelesen."),
        "timeout": (f"Das Auslesen hat länger als {settings.KNOWLEDGE_ATTACHMENT_TIMEOUT} "
                    "Sekunden gedauert und wurde abgebrochen."),
        "too_much_memory": ("Das Auslesen brauchte mehr Arbeitsspeicher als erlaubt und "
                            "wurde abgebrochen."),
        "missing": "Die Datei fehlt im Dateispeicher.",
    }
    if code == "no_text" and detail != "pdf":  # only a PDF can be a scan without text
        return "Die Datei enthält keinen Text."
    return messages.get(code, "Die Datei konnte nicht gelesen werden.")


_CONTENT_LABELS = {
    "pdf": "PDF", "docx": "DOCX", "odt": "ODT", "pptx": "PPTX", "zip": "ZIP-Archiv",
    "text": "Text",
}


def hexdigest_of(handle, algorithm: str) -> str:
    """The hash of an open binary file, read in blocks (files may be tens of megabytes)."""
    return hashlib.file_digest(handle, algorithm).hexdigest()


def file_sha256(document) -> str | None:
    """The SHA-256 of the stored file, or None if the file is missing."""
    try:
        with document.file.open("rb") as handle:
            return hexdigest_of(handle, "sha256")
    except (OSError, ValueError):
        return None


def is_current(text: DocumentText | None, sha256: str | None, filename: str) -> bool:
    """Whether ``text`` was read from this content under this extension by today's readers."""
    return (text is not None and sha256 is not None and text.sha256 == sha256
            and text.extension == extension_of(filename)
            and text.extractor_version == EXTRACTOR_VERSION)


def extract_document(document, *, force: bool = False) -> DocumentText:
    """The document's text, read now unless a current result for this content exists."""
    existing = DocumentText.objects.filter(document=document).first()
    sha256 = file_sha256(document)
    if not force and is_current(existing, sha256, document.filename):
        return existing
    started = time.perf_counter()
    answer = _read(document) if sha256 else {"ok": False, "code": "missing", "detail": ""}
    values = _result_values(answer, document.filename)
    values.update(sha256=sha256 or "", extension=extension_of(document.filename),
                  extractor_version=EXTRACTOR_VERSION,
                  seconds=time.perf_counter() - started)
    text, _created = DocumentText.objects.update_or_create(document=document, defaults=values)
    if not text.readable and text.status != DocumentText.Status.SKIPPED:
        logger.warning("Attachment %s (%s) not readable: %s %s", document.pk,
                       document.filename, answer.get("code"), answer.get("detail", "")[:200])
    return text


def _read(document) -> dict:
    size = document.file.size
    if size > settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES:
        return {"ok": False, "code": "too_large", "detail": str(size)}
    return run_worker(document.file.path, document.filename)


def run_worker(path: str, filename: str) -> dict:
    """Extract one file in ``python -m attachments.worker`` under the configured limits."""
    timeout = settings.KNOWLEDGE_ATTACHMENT_TIMEOUT
    request = {
        "path": path,
        "filename": filename,
        "max_unpacked_bytes": settings.KNOWLEDGE_ATTACHMENT_MAX_UNPACKED_BYTES,
        "max_zip_ratio": settings.KNOWLEDGE_ATTACHMENT_MAX_ZIP_RATIO,
        "memory_bytes": settings.KNOWLEDGE_ATTACHMENT_MEMORY_BYTES,
        "cpu_seconds": max(1, math.ceil(timeout)),
    }
    environment = {**os.environ, "PYTHONPATH": str(settings.BASE_DIR)}
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "attachments.worker"], input=json.dumps(request),
            capture_output=True, text=True, timeout=timeout, env=environment,
            cwd=str(settings.BASE_DIR), check=False,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "code": "timeout", "detail": f"{timeout} s"}
    if completed.returncode in (-signal.SIGXCPU, -signal.SIGKILL):  # the CPU-time limit
        return {"ok": False, "code": "timeout", "detail": f"{timeout} s CPU"}
    if completed.returncode != 0:  # the parser crashed (C code) or ran out of memory
        return {"ok": False, "code": "corrupt", "detail": completed.stderr[-500:]}
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError:
        return {"ok": False, "code": "corrupt", "detail": completed.stdout[-200:]}


def _result_values(answer: dict, filename: str) -> dict:
    if not answer.get("ok"):
        code = answer.get("code", "corrupt")
        status = (DocumentText.Status.SKIPPED if code == "unsupported"
                  else DocumentText.Status.FAILED)
        return {"status": status, "error_code": code, "sections": [], "characters": 0,
                "page_count": None,
                "message": message_for(code, answer.get("detail", ""), filename)}
    sections, characters, truncated = _within_budget(answer["sections"])
    limit = settings.KNOWLEDGE_ATTACHMENT_MAX_CHARS
    return {
        "status": DocumentText.Status.PARTIAL if truncated else DocumentText.Status.OK,
        "error_code": "",
        "message": (f"Die Datei ist sehr lang: nur die ersten {number_format(limit, 0, True)} "
                    "Zeichen sind durchsuchbar.") if truncated else "",
        "sections": sections,
        "characters": characters,
        "page_count": answer.get("pages"),
    }


def _within_budget(sections: list[dict]) -> tuple[list[dict], int, bool]:
    """Keep sections up to ``KNOWLEDGE_ATTACHMENT_MAX_CHARS`` characters of headings and text.

    Headings count too: they are indexed like text (an over-long one becomes a paragraph of
    its passage), and a file of nothing but headings must not escape the limit.
    """
    limit = settings.KNOWLEDGE_ATTACHMENT_MAX_CHARS
    kept, total = [], 0
    for section in sections:
        room = limit - total
        if room <= 0:
            return kept, total, True
        heading, text = section["heading"], section["text"]
        if len(heading) + len(text) > room:
            heading = heading[:room]
            kept.append({**section, "heading": heading, "text": text[:room - len(heading)]})
            return kept, limit, True
        kept.append(section)
        total += len(heading) + len(text)
    return kept, total, False
