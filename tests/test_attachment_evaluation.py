"""The judged set of queries answered only by attachments, and the target hybrid must meet."""

from __future__ import annotations

import re

import pytest

from attachments.readers import READERS
from search import evaluation
from search.management.commands.evaluate_search import attachment_queries_file, demo_content_dir

_WORD = re.compile(r"[A-Za-zÄÖÜäöüß]{5,}")


def _dataset():
    return evaluation.load_demo_dataset(demo_content_dir(), attachment_queries_file(),
                                        name="demo-attachments")


def _page_text(record: dict) -> str:
    return " ".join(str(v) for k, v in record.items() if k != "attachments").lower()


def _attachment_text(record: dict) -> str:
    texts = []
    for attachment in record.get("attachments", []):
        path = demo_content_dir() / attachment["file"]
        reader = READERS[path.suffix.lower().lstrip(".")]
        texts += [f"{s.heading} {s.text}" for s in reader(str(path))]
    return " ".join(texts).lower()


def test_attachment_judgements_are_valid():
    """>= 20 distinct queries; each judged page has attachments, and every query has a word
    of at least five letters that its page's files contain and its page text does not."""
    dataset = _dataset()
    records = {r["external_id"]: r for r in dataset.records}
    assert len(dataset.queries) >= 20
    assert len({q.id for q in dataset.queries}) == len(dataset.queries)
    assert len({q.text for q in dataset.queries}) == len(dataset.queries)
    files = set()
    for query in dataset.queries:
        for external_id in query.relevant:
            record = records[external_id]
            assert record.get("attachments"), (query.id, external_id)
            files.update(a["file"] for a in record["attachments"])
        words = {w.lower() for w in _WORD.findall(query.text)}
        only_in_files = [w for w in words
                         if any(w in _attachment_text(records[e]) and w not in _page_text(
                             records[e]) for e in query.relevant)]
        assert only_in_files, query.id
    # Every format of the demo attachments is asked about.
    assert {f.rsplit(".", 1)[1] for f in files} == {"pdf", "docx", "odt", "pptx", "md"}


@pytest.mark.django_db
@pytest.mark.slow
def test_hybrid_finds_the_attachment_answers_in_the_top_ten():
    """The target of the attachment set: hybrid finds >= 80 % of the answers in its top 10
    (each query has one judged page, so recall@10 is the share found)."""
    dataset = _dataset()
    ids = evaluation.import_dataset(dataset)
    scores = evaluation.evaluate(dataset, ids, ["hybrid"])
    assert scores["hybrid"].recall >= 0.8, scores["hybrid"]
