"""Real processes killed with SIGKILL while indexing: the task worker, a rebuild, an import.

Each scenario runs ``manage.py`` children against the throwaway test database (committed
rows, see :mod:`tests.committed_db`), kills one mid-way, and checks that no page is lost,
that the unfinished pages are left pending, and that ``rebuild_search_index --stale`` brings
the passage index to exactly the state of a full rebuild.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from knowledge.importing import import_records, validate_lines
from knowledge.models import KnowledgePage
from search.indexing.state import stale_page_ids
from search.models import PageIndexState
from tests.committed_db import NO_TASKS, committed_database, ensure_test_database
from tests.conftest import record
from tests.search_fixtures import *  # noqa: F403
from tests.test_faults import assert_matches_full_rebuild

MANAGE = Path(__file__).resolve().parent.parent / "manage.py"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
PAGES = 14


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), ensure_test_database(), committed_database(django_db_blocker):
        yield


def child_env(task_backend: str) -> dict:
    """Environment for a ``manage.py`` child that uses this test database."""
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"] else "localhost"
    port = f":{db['PORT']}" if db["PORT"] else ""
    credentials = db["USER"] + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return {**os.environ,
            "DJANGO_SETTINGS_MODULE": "knowledge.settings.test",
            "DATABASE_URL": f"postgresql://{credentials}@{host}{port}/{db['NAME']}",
            "KNOWLEDGE_TASK_BACKEND": task_backend}


def start(*args: str, task_backend: str = "django_tasks.backends.immediate.ImmediateBackend"):
    return subprocess.Popen([sys.executable, str(MANAGE), *args], env=child_env(task_backend),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(process, condition, what: str, timeout: float = 600) -> None:
    """SIGKILL ``process`` as soon as ``condition()`` holds (it must still be running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            process.send_signal(signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            pytest.fail(f"the process ended before {what}: "
                        f"{process.stderr.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.02)
    process.kill()
    pytest.fail(f"timed out waiting for {what}")


def indexed_count() -> int:
    return PageIndexState.objects.filter(status=PageIndexState.Status.INDEXED).count()


def lessons(count: int) -> list[dict]:
    return [record("lesson_learned", title=f"Erfahrung {n} mit der digitalen Akte",
                   summary=f"Was Kommune {n} beim Scannen der Eingangspost gelernt hat.",
                   situation="Die Post wurde zentral gescannt und elektronisch verteilt.",
                   recommendation=f"Empfehlung {n}: die Vorbereitung der Post mitplanen.")
            for n in range(count)]


def publish(records: list[dict]) -> None:
    valid, errors = validate_lines([json.dumps(r, ensure_ascii=False) for r in records])
    assert not errors
    import_records(valid)


def assert_recovers_to_full_rebuild(expected_pages: int, model_id: str) -> None:
    assert KnowledgePage.objects.live().count() == expected_pages  # no page lost
    assert stale_page_ids(model_id), "the kill should have left pages to catch up"
    call_command("rebuild_search_index", "--stale", "--no-progress", stdout=StringIO())
    assert not stale_page_ids(model_id)
    assert_matches_full_rebuild()


def test_task_worker_killed_while_working_through_the_queue(committed, embedder):
    # Production set-up: publishing only enqueues; a db_worker process does the indexing.
    with override_settings(TASKS=DB_TASKS):
        for item in lessons(PAGES):
            publish([item])  # one transaction, and so one queued task, per page
    assert indexed_count() == 0
    worker = start("db_worker", "--batch", "--no-startup-delay", "--no-reload",
                   "--interval", "0.1", task_backend="django_tasks_db.DatabaseBackend")
    kill_when(worker, lambda: indexed_count() >= 2, "the worker indexed two pages")
    assert indexed_count() < PAGES
    assert_recovers_to_full_rebuild(PAGES, embedder.model_id)


def test_rebuild_killed_between_batches_is_continued_by_stale(committed, embedder):
    with override_settings(TASKS=NO_TASKS):
        publish(lessons(PAGES))
    rebuild = start("rebuild_search_index", "--batch-size", "1", "--no-progress")
    kill_when(rebuild, lambda: indexed_count() >= 2, "the rebuild committed two batches")
    assert indexed_count() < PAGES
    assert_recovers_to_full_rebuild(PAGES, embedder.model_id)


def test_web_process_killed_while_indexing_what_it_just_published(committed, embedder,
                                                                    tmp_path):
    # Embedded set-up: the process that publishes indexes right after its commit.
    source = tmp_path / "import.jsonl"
    source.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in lessons(PAGES)),
                      encoding="utf-8")
    importer = start("import_knowledge", str(source))
    kill_when(importer,
              lambda: KnowledgePage.objects.filter(title__startswith="Erfahrung").count()
              == PAGES,
              "the import committed its pages")
    assert indexed_count() == 0
    assert len(stale_page_ids(embedder.model_id)) == PAGES
    assert_recovers_to_full_rebuild(PAGES, embedder.model_id)
