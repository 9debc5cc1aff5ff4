"""The extraction worker: ``python -m attachments.worker`` reads one file, prints JSON.

Why a separate process: parsers of untrusted files can hang (a crafted PDF), eat memory
(a zip bomb that lies about its sizes) or crash in C code (PDFium). The worker runs under a
CPU-time and address-space limit and the caller kills it after the wall-clock limit, so a
bad file costs one worker, never the web or task process. The request comes as JSON on
stdin (``path``, ``filename``, ``max_unpacked_bytes``, ``max_zip_ratio``, ``memory_bytes``,
``cpu_seconds``); the answer is ``{"ok": true, "sections": [...], "pages": N}`` or
``{"ok": false, "code": ..., "detail": ...}`` on stdout.
"""

from __future__ import annotations

import json
import resource
import sys

from attachments.formats import ReadError, check_format, check_zip_size
from attachments.readers import READERS


def _limit(memory_bytes: int, cpu_seconds: int) -> None:
    if memory_bytes:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))


def extract(request: dict) -> dict:
    path, filename = request["path"], request["filename"]
    # The limits come first: even sniffing the format opens the (untrusted) ZIP container.
    _limit(request.get("memory_bytes", 0), request.get("cpu_seconds", 0))
    try:
        kind = check_format(path, filename)
        if kind in ("docx", "odt", "pptx"):
            check_zip_size(path, request["max_unpacked_bytes"], request["max_zip_ratio"])
        sections = READERS[kind](path)
    except ReadError as exc:
        return {"ok": False, "code": exc.code, "detail": exc.detail}
    except MemoryError:
        return {"ok": False, "code": "too_much_memory", "detail": ""}
    if not any(section.text.strip() for section in sections):
        return {"ok": False, "code": "no_text", "detail": kind}
    pages = max((s.page or 0 for s in sections), default=0) or None
    return {"ok": True, "sections": [s.as_dict() for s in sections], "pages": pages}


def main() -> None:
    request = json.loads(sys.stdin.read())
    try:
        answer = extract(request)
    except Exception as exc:  # any parser failure is an unreadable file, reported as such
        answer = {"ok": False, "code": "corrupt", "detail": repr(exc)[:500]}
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
