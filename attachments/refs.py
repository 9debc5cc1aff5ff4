"""How a search hit names the file it came from: "aus Anhang: bericht.pdf, S. 4"."""

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
    def label(self) -> str:
        return ", ".join(p for p in (self.filename, self.location) if p)

    def as_dict(self) -> dict:
        return {"title": self.title, "filename": self.filename, "url": self.url,
                "page": self.page, "label": f"aus Anhang: {self.label}"}

    @classmethod
    def from_row(cls, document_id, title, file_name, page) -> AttachmentRef | None:
        if document_id is None:
            return None
        return cls(document_id, title or "", PurePosixPath(file_name or "").name, page)
