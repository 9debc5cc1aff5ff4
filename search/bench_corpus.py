"""A synthetic corpus of any size for ``bench_search``, built from real German texts.

The demo content and the Musterdatenkatalog hold a few thousand real pages; latency at 100,000
passages needs more. Synthetic pages are assembled from the sentences and headings of those
texts: every page is a deterministic function of its number (a seeded random generator), so a
benchmark that was interrupted continues with exactly the pages it would have created, and two
runs measure the same corpus.

Embedding 100,000 passages with multilingual-e5-small takes over an hour on two cores, so by
default the passages of the scale corpus get a *sentence-mean* vector
(:class:`SentenceMeanEmbedder`): the normalised mean of the model's real embeddings of the
passage's sentences, each sentence embedded once. The vectors therefore come from the real
model and are spread over the space like real passages (what the HNSW graph's speed depends
on), at a fraction of the cost. Indexing throughput is always measured with the real model on
real passage texts; ``--embed-all`` embeds the whole scale corpus with the model as well.

The run's query texts and the demo files of the throughput sample are prepared here as well.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

EXTERNAL_ID_PREFIX = "bench-"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÄÖÜ0-9„\"])")
_MARKUP = re.compile(r"[*_`>#]+|\[(.*?)\]\([^)]*\)")
_TEXT_FIELDS = ("summary", "body", "goals", "situation", "went_well", "went_badly",
                "recommendation", "problem", "solution", "result", "transferability")
_SECTIONS_PER_PAGE = 9
_PAGE_KINDS = ("project", "lesson_learned", "best_practice")


def sentences_of(text: str) -> list[str]:
    """Sentences of a plain or Markdown text, without table rows, headings and markup."""
    lines = [line for line in text.splitlines()
             if line.strip() and not line.lstrip().startswith(("|", "#"))]
    plain = _MARKUP.sub(lambda m: m.group(1) or "", " ".join(lines))
    plain = re.sub(r"\s+", " ", plain).strip()
    return [s for s in _SENTENCE_END.split(plain) if 25 <= len(s) <= 400]


def headings_of(text: str) -> list[str]:
    return [line.lstrip("#").strip() for line in text.splitlines()
            if line.startswith("## ") and 3 <= len(line) <= 90]


class TextPool:
    """Sentences, headings and titles of the demo content and of an optional dataset."""

    def __init__(self, sentences: list[str], headings: list[str], titles: list[str]):
        # Sorted and de-duplicated: the generated corpus must not depend on file order. Every
        # sentence ends with a full stop, so that joined sentences can be split apart again.
        self.sentences = sorted({s if s[-1] in ".!?" else f"{s}." for s in sentences})
        self.headings = sorted(set(headings))
        self.titles = sorted(set(titles))
        if len(self.sentences) < 100 or not self.headings or not self.titles:
            raise ValueError("not enough source text for a synthetic corpus")

    @classmethod
    def from_sources(cls, demo_dir: Path, dataset_dir: Path | None = None) -> TextPool:
        sentences, headings, titles = [], [], []
        for path in sorted(Path(demo_dir).glob("*.jsonl")):
            for record in _read_jsonl(path):
                titles.append(record["title"])
                for name in _TEXT_FIELDS:
                    value = record.get(name) or ""
                    sentences.extend(sentences_of(value))
                    headings.extend(headings_of(value))
        if dataset_dir is not None and (Path(dataset_dir) / "records.jsonl").exists():
            for row in _read_jsonl(Path(dataset_dir) / "records.jsonl"):
                if row.get("title"):
                    titles.append(row["title"].strip()[:200])
                sentences.extend(sentences_of(row.get("description") or ""))
        return cls(sentences, headings, titles)


def _read_jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def synthetic_record(number: int, pool: TextPool, municipalities: list[str],
                     topics: list[str], seed: int = 0) -> dict:
    """Page ``number`` of the synthetic corpus, as an import record (same input, same page)."""
    rng = random.Random(f"{seed}:{number}")  # noqa: S311 - reproducible text, not secrets

    def paragraph(count: int) -> str:
        return " ".join(rng.choice(pool.sentences) for _ in range(count))

    kind = _PAGE_KINDS[number % len(_PAGE_KINDS)]
    sections = rng.sample(pool.headings, k=min(_SECTIONS_PER_PAGE - 4, len(pool.headings)))
    record = {
        "external_id": f"{EXTERNAL_ID_PREFIX}{number:07d}",
        "type": kind,
        "title": rng.choice(pool.titles)[:230],
        "municipality": rng.choice(municipalities),
        "topics": rng.sample(topics, k=rng.randint(1, min(3, len(topics)))),
        "date": f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "summary": paragraph(2),
        "body": "\n\n".join(f"## {heading}\n\n{paragraph(rng.randint(2, 4))}"
                            for heading in sections),
        "project": None,
    }
    # Four type-specific sections, so every kind yields about ten passages per page.
    fields = {"project": ("goals",),
              "lesson_learned": ("situation", "went_well", "went_badly", "recommendation"),
              "best_practice": ("problem", "solution", "result", "transferability")}[kind]
    for name in fields:
        record[name] = paragraph(rng.randint(2, 4))
    if kind == "project":
        extra = rng.sample(pool.headings, k=min(3, len(pool.headings)))
        record["body"] += "".join(f"\n\n## {h}\n\n{paragraph(3)}" for h in extra)
    return record


class SentenceMeanEmbedder:
    """The configured embedder, but passages get the mean of their sentences' real vectors.

    Used only for the scale corpus of the benchmark (see the module docstring). Token counting,
    the model id and query embedding are the real model's, so chunking, storage and search
    behave exactly as in production.
    """

    def __init__(self, embedder):
        self.inner = embedder
        self.model_id = embedder.model_id
        self.max_tokens = embedder.max_tokens
        self.sentence_vectors: dict[str, np.ndarray] = {}

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)

    def prime(self, units: list[str], progress=None, batch: int = 512) -> None:
        """Embed the pool's texts up front: large batches are faster than many small ones."""
        missing = sorted(set(units) - self.sentence_vectors.keys(), key=len)
        if progress is not None:
            progress.update(len(set(units)) - len(missing))
        for start in range(0, len(missing), batch):
            part = missing[start:start + batch]
            self.sentence_vectors.update(zip(part, self.inner.embed_passages(part),
                                             strict=True))
            if progress is not None:
                progress.update(len(part))

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        units = [self._units(text) for text in texts]
        missing = sorted({u for parts in units for u in parts} - self.sentence_vectors.keys())
        if missing:
            self.sentence_vectors.update(zip(missing, self.inner.embed_passages(missing),
                                             strict=True))
        matrix = np.stack([np.mean([self.sentence_vectors[u] for u in parts], axis=0)
                           for parts in units])
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return (matrix / np.maximum(norms, 1e-12)).astype(np.float32)

    def load(self, path: Path) -> None:
        """Sentence vectors saved by an earlier run (same model: the path says which)."""
        if path.exists():
            with np.load(path) as saved:
                self.sentence_vectors.update(zip(saved["texts"].tolist(), saved["vectors"],
                                                 strict=True))

    def save(self, path: Path) -> None:
        texts = sorted(self.sentence_vectors)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.npz")
        np.savez(partial, texts=np.array(texts),
                 vectors=np.stack([self.sentence_vectors[t] for t in texts]))
        partial.replace(path)

    @staticmethod
    def _units(text: str) -> list[str]:
        """Title, heading, each further line and sentence: text that recurs across pages."""
        first, _, rest = text.partition("\n")
        units = first.split(" – ")
        for line in rest.splitlines():
            if line.strip():
                units.extend(_SENTENCE_END.split(line.strip()))
        return units


def batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


ATTACHMENT_EVERY = 4  # every fourth page of the throughput sample gets a demo file
DEMO_PDF = "abschlussbericht-oerlinghausen.pdf"


def attach_demo_files(pages, attachments_dir: Path) -> list:
    """Give each page its own copy of a demo attachment (cycling through the formats), once.

    One document per page, so that every file is read in the timed run, as uploads are.
    Saved without publishing: the timed ``index_pages`` call is what indexes them.
    """
    from django.core.files import File
    from wagtail.documents import get_document_model

    from attachments.links import documents_of

    files = sorted(attachments_dir.iterdir())
    documents = []
    for number, page in enumerate(pages):
        existing = documents_of(page)
        if existing:
            documents += existing
            continue
        path = files[number % len(files)]
        document = get_document_model()(title=f"Anhang {page.title}")
        with path.open("rb") as handle:
            document.file.save(path.name, File(handle), save=False)
        document.save()
        page.body = [*[(b.block_type, b.value) for b in page.body],
                     ("document", {"document": document, "description": ""})]
        page.save(update_fields=["body"])
        documents.append(document)
    return documents


def query_texts(demo_queries: Path, dataset: Path | None, count: int
                ) -> tuple[list[str], list[str]]:
    """Short queries (judged demo queries, dataset titles) and long descriptions."""
    queries = [json.loads(line)["query"] for line in
               demo_queries.read_text(encoding="utf-8").splitlines() if line.strip()]
    descriptions = []
    if dataset is not None and (dataset / "queries.jsonl").exists():
        for line in (dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["query"]
                descriptions.append(text)
                queries.append(text.split(". ", 1)[0])
    if not descriptions:
        descriptions = list(queries)
    return queries[:count], descriptions[:count]
