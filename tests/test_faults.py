"""Faults: the model failing mid-way and a process dying before its indexing task ran.

In both cases publishing succeeds, no page is lost, and ``rebuild_search_index --stale``
brings the passage index back to exactly the state of a full rebuild.
"""

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from knowledge.models import KnowledgePage
from search import embedding
from search.indexing.writer import index_pages
from search.models import PageIndexState, Passage
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def snapshot():
    return list(Passage.objects.order_by("page_id", "position").values_list(
        "page_id", "position", "text", "content_hash", "model_id", "embedding"))


def assert_matches_full_rebuild():
    """The index equals what a full rebuild from scratch produces.

    Everything is compared exactly except the vectors: the same text embedded in a different
    batch (other padding) may differ in the last float digits, so they are compared with a
    tolerance far below anything that changes a ranking.
    """
    current = snapshot()
    Passage.objects.all().delete()
    PageIndexState.objects.all().delete()
    index_pages(list(KnowledgePage.objects.live().values_list("pk", flat=True)))
    rebuilt = snapshot()
    assert [row[:-1] for row in current] == [row[:-1] for row in rebuilt]
    for now, fresh in zip(current, rebuilt, strict=True):
        assert (now[-1] is None) == (fresh[-1] is None), now[:2]
        if now[-1] is not None:
            np.testing.assert_allclose(now[-1], fresh[-1], atol=1e-4, err_msg=str(now[:2]))


class FailingOnce:
    """Wraps the real model; the ``fail_on``-th call of embed_passages raises."""

    def __init__(self, real, fail_on: int):
        self.real, self.fail_on, self.calls = real, fail_on, 0
        self.model_id, self.max_tokens = real.model_id, real.max_tokens
        self.dimensions = real.dimensions

    def count_tokens(self, text):
        return self.real.count_tokens(text)

    def embed_query(self, text):
        return self.real.embed_query(text)

    def embed_passages(self, texts):
        self.calls += 1
        if self.calls == self.fail_on:
            raise embedding.EmbeddingUnavailable("simulated: model crashed mid-batch")
        return self.real.embed_passages(texts)


def test_model_failing_mid_batch_loses_nothing(make_page, synced, embedder, monkeypatch,
                                                settings):
    settings.KNOWLEDGE_SEARCH_REBUILD_BATCH_SIZE = 1  # one model call per page
    flaky = FailingOnce(embedder, fail_on=2)
    monkeypatch.setattr(embedding, "get_embedder", lambda: flaky)
    with synced():
        pages = [make_page("best_practice", title=f"Praxis {n}",
                           summary=f"Zentrale Scanstelle, Erfahrung Nummer {n}.")
                 for n in range(3)]
    assert all(KnowledgePage.objects.get(pk=p.pk).live for p in pages)  # publishing succeeded
    states = dict(PageIndexState.objects.values_list("page_id", "status"))
    assert sorted(states.values()) == ["indexed", "indexed", "pending"]
    assert Passage.objects.filter(embedding=None).exists()  # full text only for that page

    monkeypatch.setattr(embedding, "get_embedder", lambda: embedder)
    call_command("rebuild_search_index", "--stale", "--no-progress", stdout=StringIO())
    assert_matches_full_rebuild()


def test_process_killed_before_the_indexing_task_ran(indexed_page, embedder):
    page = indexed_page("lesson_learned", title="Scanstelle", summary="Alte Zusammenfassung.")
    # The edit commits, but the process dies before its on_commit task runs: simulated by
    # publishing without running the captured callbacks.
    page.summary = "Neue Zusammenfassung nach der Überarbeitung."
    page.save_revision().publish()
    assert PageIndexState.objects.get(page_id=page.pk).status == "pending"
    assert "Alte Zusammenfassung." in " ".join(
        Passage.objects.filter(page_id=page.pk).values_list("text", flat=True))

    call_command("rebuild_search_index", "--stale", "--no-progress", stdout=StringIO())
    texts = " ".join(Passage.objects.filter(page_id=page.pk).values_list("text", flat=True))
    assert "Neue Zusammenfassung" in texts and "Alte Zusammenfassung" not in texts
    assert_matches_full_rebuild()
