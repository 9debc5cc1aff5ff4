"""Which files can be read, what a file really is, and the checks before anyone parses it.

The extension a user gave a file is not trusted: the content is sniffed (``%PDF-``, the ZIP
container's main part for DOCX/PPTX, the ``mimetype`` entry of ODF), and a mismatch is
reported instead of guessed around. ZIP-based formats are inspected before they are opened:
a file whose entries unpack to far more than the limit (a "zip bomb") is refused without
being unpacked. This module imports no Django (it runs in the extraction worker, too).
"""

from __future__ import annotations

import zipfile
from pathlib import Path

# What we read, by extension; "md" and "txt" are both plain text.
SUPPORTED = {
    "pdf": "PDF",
    "docx": "Word (DOCX)",
    "odt": "LibreOffice/OpenDocument-Text (ODT)",
    "pptx": "PowerPoint (PPTX)",
    "txt": "Text",
    "md": "Markdown",
}

# Byte order marks of UTF-16 text (what Windows editors save as "Unicode").
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# More than any MIME type is long (an ODF one is some 50 bytes).
_MIMETYPE_READ_BYTES = 256
_ODF_TEXT_MIMETYPE = b"application/vnd.oasis.opendocument.text"


class ReadError(Exception):
    """A file that cannot be read; ``code`` selects the user-facing message."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def extension_of(filename: str) -> str:
    return Path(filename).suffix.lower().lstrip(".")


def sniff(path: str) -> str:
    """The format the content says (``pdf``, ``docx``, ``odt``, ``pptx``, ``zip``,
    ``broken_zip``, ``text`` or ``unknown``), from the first bytes and, for ZIP containers,
    their entry names."""
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = set(archive.namelist())
                if "word/document.xml" in names:
                    return "docx"
                if "ppt/presentation.xml" in names:
                    return "pptx"
                if "mimetype" in names and _odf_mimetype(archive) == _ODF_TEXT_MIMETYPE:
                    return "odt"
        except zipfile.BadZipFile:
            return "broken_zip"
        return "zip"
    with open(path, "rb") as handle:
        sample = handle.read(4096)
    if b"\x00" not in sample or sample.startswith(UTF16_BOMS):  # Windows "Unicode" text
        return "text"
    return "unknown"


def _odf_mimetype(archive: zipfile.ZipFile) -> bytes:
    """The ``mimetype`` entry of an ODF container, read no further than a MIME type can be.

    A crafted entry of that name can unpack to gigabytes; only its first bytes matter.
    """
    with archive.open("mimetype") as entry:
        return entry.read(_MIMETYPE_READ_BYTES).strip()


def check_format(path: str, filename: str) -> str:
    """The reader to use for this file, or :class:`ReadError` if it must not be read."""
    extension = extension_of(filename)
    if extension not in SUPPORTED:
        raise ReadError("unsupported", extension)
    actual = sniff(path)
    expected = "text" if extension in ("txt", "md") else extension
    if actual == "broken_zip" and expected in ("docx", "odt", "pptx"):
        raise ReadError("corrupt", "broken ZIP container")
    if actual != expected:
        raise ReadError("wrong_type", actual)
    return extension


def check_zip_size(path: str, max_unpacked_bytes: int, max_ratio: int) -> None:
    """Refuse ZIP containers that unpack beyond the limit or with an absurd ratio.

    The sizes come from the central directory; a forged directory cannot make the reader
    unpack more, because the worker process also runs under a memory limit.
    """
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
        unpacked = sum(entry.file_size for entry in entries)
        packed = sum(entry.compress_size for entry in entries) or 1
    if unpacked > max_unpacked_bytes or (unpacked > 1_000_000 and unpacked / packed > max_ratio):
        raise ReadError("zip_bomb", f"{unpacked} bytes unpacked from {packed}")
