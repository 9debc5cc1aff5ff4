"""Attachments in the JSON Lines format: checking the named files, storing them as documents.

An import line may carry ``"attachments": [{"title": ..., "file": "relative/path",
"description": ...}]`` with paths relative to the JSON Lines file. A path that leaves that
directory, a missing file, an extension Wagtail does not accept or a file over
``KNOWLEDGE_ATTACHMENT_MAX_BYTES`` makes the line invalid (reported, nothing imported).
Files are stored as Wagtail documents, found again by content hash and title, so importing
the same file twice creates one document. The export writes each file to
``anhaenge/<external_id>/<filename>`` next to the JSON Lines file and names that path.
"""

from __future__ import annotations

import re
import shutil
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from django.conf import settings
from django.core.files import File
from wagtail.documents import get_document_model

from attachments.extraction import hexdigest_of

EXPORT_DIR = "anhaenge"


def check_file(base_dir: Path | None, relative: str) -> str | None:
    """Why the named file cannot be imported (English, for the CLI), or None."""
    if base_dir is None:
        return "attachments can only be imported from a file (paths are relative to it)"
    path = Path(relative)
    if path.is_absolute() or ".." in path.parts:
        return f"attachment path {relative!r} must be relative and stay inside the directory"
    full = base_dir / path
    if not full.resolve().is_relative_to(base_dir.resolve()):  # a symbolic link leading out
        return f"attachment path {relative!r} must be relative and stay inside the directory"
    if not full.is_file():
        return f"attachment file {relative!r} not found"
    extension = full.suffix.lower().lstrip(".")
    if extension not in settings.WAGTAILDOCS_EXTENSIONS:
        return (f"attachment {relative!r} has an unknown file type (allowed: "
                f"{', '.join(settings.WAGTAILDOCS_EXTENSIONS)})")
    size = full.stat().st_size
    if size > settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES:
        return (f"attachment {relative!r} is too large ({size} bytes, limit "
                f"{settings.KNOWLEDGE_ATTACHMENT_MAX_BYTES})")
    return None


def _sha1(path: Path) -> str:
    """Wagtail's own ``file_hash`` is SHA-1: found again with the same hash."""
    with path.open("rb") as handle:
        return hexdigest_of(handle, "sha1")


# Files written by the running import: its transaction may still roll back, and the rows then
# vanish but the files would stay in media (see :func:`files_removed_on_failure`).
_written: ContextVar[list | None] = ContextVar("attachment_files_written", default=None)


@contextmanager
def files_removed_on_failure():
    """Delete the files stored inside the block if it raises (the import rolled back)."""
    written: list = []
    token = _written.set(written)
    try:
        yield
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    finally:
        _written.reset(token)


def stored_document(base_dir: Path, relative: str, title: str):
    """The document holding this file under this title, created if there is none."""
    path = base_dir / relative
    file_hash = _sha1(path)
    model = get_document_model()
    existing = model.objects.filter(file_hash=file_hash, title=title).first()
    if existing is not None:
        return existing
    with path.open("rb") as handle:
        document = model(title=title, file_size=path.stat().st_size, file_hash=file_hash)
        document.file.save(path.name, File(handle), save=False)
    if (written := _written.get()) is not None:
        written.append((document.file.storage, document.file.name))
    document.save()
    return document


def export_path(external_id: str, document) -> str:
    """Where the export puts a page's file (an external id may hold any character)."""
    folder = re.sub(r"[^\w.-]", "_", external_id).lstrip(".") or "_"
    return f"{EXPORT_DIR}/{folder}/{document.filename}"


def write_export_file(target_dir: Path, external_id: str, document) -> None:
    target = target_dir / export_path(external_id, document)
    target.parent.mkdir(parents=True, exist_ok=True)
    with document.file.open("rb") as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
