"""Index consistency: after any sequence of page events the passage index equals a rebuild.

The embedding model is replaced by a deterministic stand-in (a vector derived from the text's
hash): the property is about bookkeeping — which rows exist, with which text, hash, model and
vector — and a real model would only make 200 sequences slow without testing anything more.
The real model is exercised by tests/test_indexing.py.
"""

import hashlib

import numpy as np
import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from wagtail.models import PageViewRestriction

from knowledge.models import KnowledgePage, LessonLearnedIndexPage
from search import embedding
from search.indexing.writer import index_pages
from search.models import PageIndexState, Passage
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


class HashEmbedder:
    model_id = "hash-embedder:384:test"
    dimensions = 384
    max_tokens = 128

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def embed_passages(self, texts):
        return np.stack([self._vector(t) for t in texts]).astype(np.float32)

    def embed_query(self, text):
        return self._vector(text)

    @staticmethod
    def _vector(text: str):
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        vector = np.random.default_rng(seed).standard_normal(384)
        return vector / np.linalg.norm(vector)


def snapshot():
    rows = Passage.objects.order_by("page_id", "position").values_list(
        "page_id", "position", "kind", "heading", "text", "content_hash", "model_id",
        "knowledge_type", "municipality_id", "date", "embedding")
    return [(*row[:-1], None if row[-1] is None else tuple(np.round(row[-1], 5)))
            for row in rows]


def full_rebuild():
    Passage.objects.all().delete()
    PageIndexState.objects.all().delete()
    index_pages(list(KnowledgePage.objects.live().values_list("pk", flat=True)))


operations = st.lists(
    st.tuples(
        st.sampled_from(["edit", "unpublish", "publish", "move", "restrict", "unrestrict",
                         "delete", "retitle_project"]),
        st.integers(0, 4),
        st.sampled_from(["Posteingang zentral scannen.", "Digitallotsen gewinnen.",
                         "Personalrat früh beteiligen. " * 30, "Kurz."]),
    ),
    min_size=1, max_size=6,
)


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=operations)
# A lesson moved into project B, out and into B again (a stale target once broke the move).
@example(ops=[("move", 2, "Kurz.")] * 4)
def test_any_event_sequence_leaves_the_index_equal_to_a_rebuild(ops, make_page, synced,
                                                               monkeypatch):
    monkeypatch.setattr(embedding, "get_embedder", HashEmbedder)
    with transaction.atomic():
        with synced():
            project = make_page("project", title="Projekt A")
            other = make_page("project", title="Projekt B", municipality="Spenge")
            pages = [
                project,
                make_page("session_protocol", project=project.external_id, title="Sitzung 1",
                          agenda_items=[{"title": "TOP", "discussion": "Diskussion."}],
                          decisions=["Beschluss."]),
                make_page("lesson_learned", project=project.external_id, title="Lesson"),
                make_page("best_practice", title="Praxis", municipality="Detmold"),
                other,
            ]
        for op, index, text in ops:
            page = pages[index]
            if page is None:
                continue
            page = KnowledgePage.objects.get(pk=page.pk).specific
            with synced():
                apply(op, page, text, other, pages, index)

        indexed = snapshot()
        full_rebuild()
        assert indexed == snapshot()
        transaction.set_rollback(True)


def apply(op, page, text, other, pages, index):
    if op == "edit":
        page.summary = text
        page.save_revision().publish()
    elif op == "unpublish" and page.live:
        page.unpublish()
    elif op == "publish":
        page.save_revision().publish()
    elif op == "move" and page.knowledge_type == "lesson_learned":
        # The target is read fresh: treebeard trusts its in-memory ``numchild``, which an
        # earlier move in the same sequence made stale.
        target = (LessonLearnedIndexPage.objects.get() if page.get_parent().pk !=
                  LessonLearnedIndexPage.objects.get().pk
                  else KnowledgePage.objects.get(pk=other.pk))
        page.move(target, pos="last-child")
    elif op == "restrict" and not PageViewRestriction.objects.filter(page=page).exists():
        PageViewRestriction.objects.create(page=page,
                                           restriction_type=PageViewRestriction.LOGIN)
    elif op == "unrestrict":
        PageViewRestriction.objects.filter(page=page).delete()
    elif op == "delete" and page.knowledge_type != "project":
        page.delete()
        pages[index] = None
    elif op == "retitle_project" and page.knowledge_type == "project":
        page.title = f"{page.title} ({text[:10]})"
        page.save_revision().publish()
