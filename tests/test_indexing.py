"""Keeping the passage index in sync: page events, reuse of vectors, degraded mode, rebuilds."""

from __future__ import annotations

from io import StringIO

import numpy as np
import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.postgres.search import SearchQuery
from django.core.management import CommandError, call_command
from django.db import connection
from wagtail.models import PageViewRestriction

from knowledge.access import viewable_pages
from knowledge.models import KnowledgePage
from search.indexing import state as index_state
from search.indexing import writer
from search.indexing.events import passages_changed
from search.models import IndexGeneration, PageIndexState, Passage
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

LESSON = dict(
    title="Lehren aus der Einführung der E-Akte",
    summary="Die Stadt führte die elektronische Akte in allen Ämtern ein.",
    situation="Die Akten lagen in Kellern und Fluren verteilt.",
    went_well="Die Beschäftigten nahmen das Scannen gut an.",
    went_badly="Die Schnittstelle zum Fachverfahren fehlte lange.",
    recommendation="Früh mit dem Personalrat und der IT sprechen.",
)


def snapshot(page_ids=None) -> dict:
    """(page, position) -> (id, hash, model, vector) of stored passages."""
    rows = Passage.objects.all() if page_ids is None else Passage.objects.filter(
        page_id__in=page_ids)
    return {
        (p.page_id, p.position): (p.id, p.content_hash, p.model_id,
                                  None if p.embedding is None else np.asarray(p.embedding))
        for p in rows
    }


def same_content(a: dict, b: dict) -> bool:
    """Equal hashes, models and vectors (row ids may differ)."""
    if a.keys() != b.keys():
        return False
    for key in a:
        _, hash_a, model_a, vec_a = a[key]
        _, hash_b, model_b, vec_b = b[key]
        if (hash_a, model_a) != (hash_b, model_b) or (vec_a is None) != (vec_b is None):
            return False
        if vec_a is not None and not np.allclose(vec_a, vec_b, atol=1e-6):
            return False
    return True


@pytest.fixture
def spy_embed(monkeypatch, embedder):
    """Record every text the model is asked to embed."""
    calls: list[list[str]] = []
    original = embedder.embed_passages

    def _spy(texts):
        calls.append(list(texts))
        return original(texts)

    monkeypatch.setattr(embedder, "embed_passages", _spy)
    return calls


def test_publish_creates_labelled_passages(indexed_page, embedder):
    page = indexed_page("lesson_learned", **LESSON)
    passages = list(Passage.objects.filter(page=page))
    assert passages[0].kind == "overview"
    assert len(passages) == 5  # overview + four lesson fields
    assert all(p.model_id == embedder.model_id and p.embedding is not None for p in passages)
    assert all(len(p.embedding) == embedder.dimensions for p in passages)
    assert {(p.knowledge_type, p.municipality_id, p.date) for p in passages} == {
        ("lesson_learned", page.municipality_id, page.date)}
    state = PageIndexState.objects.get(page=page)
    assert (state.status, state.model_id) == ("indexed", embedder.model_id)
    found = Passage.objects.filter(search_vector=SearchQuery("Schnittstellen", config="german"))
    assert [p.heading for p in found] == ["Was nicht gut lief"]


def test_edit_and_publish_embeds_only_changed_passages(indexed_page, synced, spy_embed):
    page = indexed_page("lesson_learned", **LESSON)
    before = snapshot([page.pk])
    changed_position = next(k[1] for k, v in before.items() if k[0] == page.pk
                            and Passage.objects.get(id=v[0]).heading == "Was gut lief")
    spy_embed.clear()

    page.went_well = "<p>Die Beschäftigten lobten die neue Suche in der E-Akte.</p>"
    with synced():
        page.save_revision().publish()

    after = snapshot([page.pk])
    assert after.keys() == before.keys()
    for key, (row_id, content_hash, model_id, vector) in before.items():
        if key[1] == changed_position:
            assert after[key][1] != content_hash
            continue
        # Unchanged passages keep their row and their vector.
        assert after[key][0] == row_id
        assert after[key][1] == content_hash and after[key][2] == model_id
        assert np.array_equal(after[key][3], vector)
    assert len(spy_embed) == 1 and len(spy_embed[0]) == 1
    assert "neue Suche" in spy_embed[0][0]


def test_republish_without_changes_embeds_nothing(indexed_page, synced, spy_embed):
    page = indexed_page("lesson_learned", **LESSON)
    before = snapshot([page.pk])
    spy_embed.clear()
    with synced():
        page.save_revision().publish()
    assert spy_embed == []
    assert same_content(before, snapshot([page.pk]))


def test_metadata_change_updates_rows_without_reembedding(indexed_page, synced, spy_embed):
    page = indexed_page("lesson_learned", **LESSON)
    spy_embed.clear()
    page.date = page.date.replace(year=2020)
    with synced():
        page.save_revision().publish()
    assert set(Passage.objects.filter(page=page).values_list("date", flat=True)) == {page.date}
    assert spy_embed == []


def test_unpublish_removes_passages(indexed_page, synced):
    page = indexed_page("lesson_learned", **LESSON)
    assert Passage.objects.filter(page=page).exists()
    with synced():
        page.unpublish()
    assert not Passage.objects.filter(page=page).exists()
    assert not PageIndexState.objects.filter(page=page).exists()
    with synced():  # publishing again brings them back
        page.save_revision().publish()
    assert Passage.objects.filter(page=page).exists()


def test_delete_removes_passages(indexed_page, synced):
    project = indexed_page("project", title="Projekt mit Protokoll")
    protocol = indexed_page("session_protocol", project=project.external_id,
                            decisions=["Wir machen weiter."])
    ids = [project.pk, protocol.pk]
    assert Passage.objects.filter(page_id__in=ids).count() > 2
    with synced():
        KnowledgePage.objects.get(pk=project.pk).delete()  # takes its protocol along
    assert not Passage.objects.filter(page_id__in=ids).exists()
    assert not PageIndexState.objects.filter(page_id__in=ids).exists()


def _overview(page) -> str:
    return Passage.objects.get(page=page, kind="overview").text


def test_move_reindexes_page_and_descendants(indexed_page, synced):
    project_a = indexed_page("project", title="Projekt Alpha")
    project_b = indexed_page("project", title="Projekt Beta")
    protocol = indexed_page("session_protocol", project=project_a.external_id)
    assert "Projekt: Projekt Alpha" in _overview(protocol)

    with synced():
        KnowledgePage.objects.get(pk=protocol.pk).move(project_b, pos="last-child")
    assert "Projekt: Projekt Beta" in _overview(protocol)

    # Moving a project re-indexes the pages below it: change its title behind the index's
    # back (no signal), then move it; the protocol's context follows.
    KnowledgePage.objects.filter(pk=project_b.pk).update(title="Projekt Gamma")
    with synced():
        KnowledgePage.objects.get(pk=project_b.pk).move(project_a, pos="left")
    assert "Projekt: Projekt Gamma" in _overview(protocol)


def test_publishing_a_project_updates_its_protocols_context(indexed_page, synced):
    project = indexed_page("project", title="Altes Projekt")
    protocol = indexed_page("session_protocol", project=project.external_id)
    project.title = "Neues Projekt"
    with synced():
        project.save_revision().publish()
    assert "Projekt: Neues Projekt" in _overview(protocol)


def test_unpublishing_a_project_drops_its_title_from_pages_left_live(indexed_page, synced,
                                                                     client):
    project = indexed_page("project", title="Kooperation Wiedehopf")
    protocol = indexed_page("session_protocol", project=project.external_id,
                            title="Erste Sitzung", summary="Termine.")
    assert "Projekt: Kooperation Wiedehopf" in _overview(protocol)
    with synced():
        KnowledgePage.objects.get(pk=project.pk).unpublish()  # the protocol stays live
    assert KnowledgePage.objects.get(pk=protocol.pk).live
    assert "Wiedehopf" not in _overview(protocol)
    found = client.get("/api/v1/search", {"q": "Wiedehopf", "mode": "fulltext"}).json()
    assert found["total"] == 0 and "Wiedehopf" not in str(found["results"])


def test_best_practice_passages_do_not_name_the_linked_project(indexed_page):
    project = indexed_page("project", title="Geheimprojekt Zaunkoenig")
    practice = indexed_page("best_practice", title="Abfallkalender digital",
                            project=project.external_id, summary="Termine als App.")
    texts = Passage.objects.filter(page=practice).values_list("text", flat=True)
    assert texts and not any("Zaunkoenig" in text for text in texts)


def test_migration_takes_linked_project_titles_out_of_stored_passages(indexed_page, client):
    """Passages written before the privacy fix named a best practice's linked project; the
    migration removes that paragraph at once and leaves the page pending for re-embedding."""
    from django.apps import apps
    from django.db.models import F, Value
    from django.db.models.functions import Concat

    forget_titles = __import__("search.migrations.0009_forget_linked_project_titles",
                               fromlist=["forget_titles"]).forget_titles
    project = indexed_page("project", title="Geheimprojekt Zaunkoenig")
    practice = indexed_page("best_practice", title="Abfallkalender digital",
                            project=project.external_id, summary="Termine als App.")
    before = _overview(practice)
    Passage.objects.filter(page=practice, kind="overview").update(
        text=Concat(F("text"), Value("\n\nProjekt: Geheimprojekt Zaunkoenig")))
    url = "/api/v1/search?mode=fulltext&q=Zaunkoenig"
    assert client.get(url).json()["total"] == 2  # the project and, by its title, the practice
    forget_titles(apps, None)
    assert _overview(practice) == before
    assert client.get(url).json()["total"] == 1
    assert PageIndexState.objects.get(page=practice).status == PageIndexState.Status.PENDING
    call_command("rebuild_search_index", "--stale")
    assert PageIndexState.objects.get(page=practice).status == PageIndexState.Status.INDEXED


def test_privacy_change_applies_at_once_without_reindexing(indexed_page, synced):
    page = indexed_page("lesson_learned", **LESSON)
    before = snapshot([page.pk])
    generation = IndexGeneration.current()
    announced = []

    def _listener(sender, page_ids, **kwargs):
        announced.append(kwargs.get("restricted_page"))

    passages_changed.connect(_listener)
    try:
        with synced():
            restriction = PageViewRestriction.objects.create(
                page=page, restriction_type=PageViewRestriction.LOGIN)
    finally:
        passages_changed.disconnect(_listener)

    anonymous = Passage.objects.filter(page__in=viewable_pages(AnonymousUser(), KnowledgePage))
    assert not anonymous.filter(page=page).exists()
    assert same_content(before, snapshot([page.pk]))  # the index itself is untouched
    assert announced == [page.pk]
    assert IndexGeneration.current() > generation  # related-content caches are dropped

    with synced():
        restriction.delete()
    anonymous = Passage.objects.filter(page__in=viewable_pages(AnonymousUser(), KnowledgePage))
    assert anonymous.filter(page=page).exists()


def test_task_is_idempotent(indexed_page):
    from search.indexing.tasks import sync_page_index

    page = indexed_page("lesson_learned", **LESSON)
    before = snapshot([page.pk])
    sync_page_index.call(page.pk)
    sync_page_index.call(page.pk, True)
    assert snapshot([page.pk]).keys() == before.keys()
    assert all(snapshot([page.pk])[k][0] == before[k][0] for k in before)


def test_indexing_error_never_breaks_publishing(make_page, synced, monkeypatch):
    def _boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer, "index_pages", _boom)
    with synced():
        page = make_page("lesson_learned", **LESSON)
    assert KnowledgePage.objects.get(pk=page.pk).live
    state = PageIndexState.objects.get(page=page)
    assert state.status == "failed" and "disk full" in state.error
    monkeypatch.undo()
    assert page.pk in index_state.stale_page_ids(writer.load_embedder()[0].model_id)


# --- degraded mode ----------------------------------------------------------------------------


def test_publishing_without_model_writes_fulltext_passages(indexed_page, model_unavailable):
    page = indexed_page("lesson_learned", **LESSON)
    passages = Passage.objects.filter(page=page)
    assert passages.count() >= 5
    assert all(p.embedding is None and p.model_id == "" for p in passages)
    state = PageIndexState.objects.get(page=page)
    assert state.status == "pending" and "not available" in state.error
    found = Passage.objects.filter(search_vector=SearchQuery("Personalrat", config="german"))
    assert found.filter(page=page).exists()


def test_rebuild_stale_catches_up_after_degraded_mode(indexed_page, monkeypatch, embedder,
                                                      model_unavailable):
    page = indexed_page("lesson_learned", **LESSON)
    with pytest.raises(CommandError, match="not available"):
        call_command("rebuild_search_index", "--stale", "--no-progress")
    monkeypatch.undo()  # the model is back

    call_command("rebuild_search_index", "--stale", "--no-progress")
    passages = Passage.objects.filter(page=page)
    assert passages.exists()
    assert all(p.embedding is not None and p.model_id == embedder.model_id for p in passages)
    assert PageIndexState.objects.get(page=page).status == "indexed"
    assert index_state.stale_page_ids(embedder.model_id) == []


def test_rebuild_fulltext_only_without_model(indexed_page, monkeypatch, model_unavailable):
    page = indexed_page("lesson_learned", **LESSON)
    Passage.objects.filter(page=page).delete()
    call_command("rebuild_search_index", "--fulltext-only", "--no-progress")
    assert Passage.objects.filter(page=page, embedding__isnull=True).count() >= 5


# --- rebuilds ---------------------------------------------------------------------------------


@pytest.fixture
def five_pages(indexed_page):
    project = indexed_page("project", title="Gemeinsames Rechenzentrum", goals="Konsolidierung.")
    pages = [project]
    pages.append(indexed_page("session_protocol", project=project.external_id,
                              decisions=["Ausschreibung startet im Mai."]))
    pages.append(indexed_page("lesson_learned", **LESSON))
    pages.append(indexed_page("best_practice", title="Zentrale Vergabestelle",
                              problem="Jede Kommune schrieb allein aus.",
                              solution="Eine Vergabestelle für den Kreis."))
    pages.append(indexed_page("project", title="Bürgerportal", summary="Ein Portal für alles."))
    return pages


def test_rebuild_is_resumable_and_equals_a_full_rebuild(five_pages, monkeypatch, spy_embed):
    Passage.objects.all().delete()
    PageIndexState.objects.all().delete()
    original = writer.index_pages
    calls = []

    def _interrupted(*args, **kwargs):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C after the first batch
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(writer, "index_pages", _interrupted)
    with pytest.raises(KeyboardInterrupt):
        call_command("rebuild_search_index", "--batch-size", "2", "--no-progress")
    done = set(Passage.objects.values_list("page_id", flat=True))
    assert len(done) == 2
    assert PageIndexState.objects.filter(status="pending").count() == 3
    monkeypatch.setattr(writer, "index_pages", original)

    spy_embed.clear()
    call_command("rebuild_search_index", "--stale", "--batch-size", "2", "--no-progress")
    resumed = snapshot()
    embedded_on_resume = sum(len(c) for c in spy_embed)
    first_batch = sum(1 for key in resumed if key[0] in done)
    assert embedded_on_resume == len(resumed) - first_batch  # the first batch was not redone
    assert {p.pk for p in five_pages} == {k[0] for k in resumed}

    spy_embed.clear()
    call_command("rebuild_search_index", "--no-progress")  # full rebuild: same result
    assert same_content(resumed, snapshot())
    assert spy_embed == []  # nothing changed, so nothing is embedded again
    assert not PageIndexState.objects.exclude(status="indexed").exists()

    call_command("rebuild_search_index", "--reembed", "--no-progress")
    assert same_content(resumed, snapshot())


def test_stale_handles_other_models_and_unpublished_pages(five_pages, embedder):
    _project, protocol, lesson, *_ = five_pages
    Passage.objects.filter(page=lesson).update(model_id="some-other-model:384:abc")
    KnowledgePage.objects.filter(pk=protocol.pk).update(live=False)  # no signal
    assert set(index_state.stale_page_ids(embedder.model_id)) == {lesson.pk}
    with pytest.raises(CommandError, match="stale"):
        call_command("rebuild_search_index", "--check")

    call_command("rebuild_search_index", "--stale", "--no-progress")
    assert not Passage.objects.filter(page=protocol).exists()
    assert set(Passage.objects.filter(page=lesson).values_list("model_id", flat=True)) == {
        embedder.model_id}
    call_command("rebuild_search_index", "--check")  # clean now


def test_stale_without_stale_pages_needs_no_model(five_pages, monkeypatch, model_unavailable):
    """`make run` calls it on every start: with nothing to index it does not load the model
    (seconds), but still removes the passages of unpublished pages."""
    _project, protocol, *_ = five_pages
    KnowledgePage.objects.filter(pk=protocol.pk).update(live=False)  # no signal
    out = StringIO()
    call_command("rebuild_search_index", "--stale", "--no-progress", stdout=out)
    assert "up to date" in out.getvalue()
    assert not Passage.objects.filter(page=protocol).exists()


def test_rebuild_refuses_a_column_of_another_dimension(five_pages, monkeypatch):
    monkeypatch.setattr(index_state, "column_dimensions", lambda: 1024)
    with pytest.raises(CommandError, match="set_embedding_dimension"):
        call_command("rebuild_search_index", "--no-progress")


def test_set_embedding_dimension_alters_column_and_hnsw_index(five_pages, embedder):
    original = index_state.column_dimensions()
    call_command("set_embedding_dimension", "8")
    assert index_state.column_dimensions() == 8
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = "
                       "'passage_embedding_hnsw'")
        (definition,) = cursor.fetchone()
    assert "hnsw" in definition and "vector_cosine_ops" in definition
    assert not Passage.objects.filter(embedding__isnull=False).exists()
    assert PageIndexState.objects.filter(status="pending").count() == len(five_pages)
    assert Passage.objects.count() > 0  # full text survives the switch

    call_command("set_embedding_dimension", str(original))
    call_command("rebuild_search_index", "--stale", "--no-progress")
    assert index_state.stale_page_ids(embedder.model_id) == []


def test_database_backend_defers_indexing_to_the_worker(make_page, synced, settings):
    """Production set-up: publishing only enqueues; `manage.py db_worker` does the work."""
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with synced():
        page = make_page("lesson_learned", **LESSON)
    assert not Passage.objects.filter(page=page).exists()
    (queued,) = DBTaskResult.objects.filter(task_path="search.indexing.tasks.sync_pages_index")
    assert page.pk in queued.args_kwargs["args"][0]  # JSON-serialisable arguments

    # What `db_worker` does (the worker itself closes connections, which a test cannot allow).
    queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    assert Passage.objects.filter(page=page, embedding__isnull=False).count() >= 5
    assert PageIndexState.objects.get(page=page).status == "indexed"

