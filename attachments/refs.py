"""How a search hit names the file it came from: "aus Anhang: Abschlussbericht (PDF), S. 4"."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from django.urls import reverse


@dataclass(frozen=True)
class AttachmentRef:
    document_id: int
    title: str
    filename: str
    page: int | None  # PDF page or slide number

    @property
    def url(self) -> str:
        """The download URL; the serve view checks the page's privacy again."""
        return reverse("wagtaildocs_serve", args=[self.document_id, self.filename])

    @property
    def location(self) -> str:
        if self.page is None:
            return ""
        slide = PurePosixPath(self.filename).suffix.lower() == ".pptx"
        return f"Folie {self.page}" if slide else f"S. {self.page}"

    @property
    def name(self) -> str:
        """The document's title and its file type ("Abschlussbericht (PDF)"): the stored file
        name carries Wagtail's random suffix ("bericht_5UxNr3Y.pdf"), which means nothing."""
        suffix = PurePosixPath(self.filename).suffix
        if not self.title or self.title.lower().endswith(suffix.lower()):
            return self.title or self.filename
        return f"{self.title} ({suffix.lstrip('.').upper()})" if suffix else self.title

    @property
    def label(self) -> str:
        return ", ".join(p for p in (self.name, self.location) if p)

    def as_dict(self) -> dict:
        return {"title": self.title, "filename": self.filename, "url": self.url,
                "page": self.page, "label": f"aus Anhang: {self.label}"}

    @classmethod
    def from_row(cls, document_id, title, file_name, page) -> AttachmentRef | None:
        if document_id is None:
            return None
        return cls(document_id, title or "", PurePosixPath(file_name or "").name, page)
