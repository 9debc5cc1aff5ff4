"""The Redaktion's dashboard panel "Suchindex" (network/index_health.py) on real pages and
index states: which pages it lists, why, and who sees it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from network.index_health import LISTED, PENDING_GRACE
from search.models import PageIndexState
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
HEADING = "Suchindex:"


@pytest.fixture
def pages(indexed_page):
    return [indexed_page("lesson_learned", title=f"Funkzähler Erfahrung {n}")
            for n in range(3)]


def _dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def _state(page, **fields):
    PageIndexState.objects.filter(page=page).update(**fields)


def test_no_panel_while_every_page_is_indexed(client, user_in, pages):
    assert set(PageIndexState.objects.values_list("status", flat=True)) == {"indexed"}
    assert HEADING not in _dashboard(client, user_in("Redaktion"))


def test_lists_each_page_the_search_misses_with_its_reason(client, user_in, pages):
    failed, waiting, other_model = pages
    _state(failed, status=PageIndexState.Status.FAILED, error="RuntimeError('boom')")
    _state(waiting, status=PageIndexState.Status.PENDING,
           updated_at=timezone.now() - PENDING_GRACE - dt.timedelta(minutes=1))
    _state(other_model, model_id="all-MiniLM-L6-v2:384:e3b0c442")
    html = _dashboard(client, user_in("Redaktion"))
    assert "Suchindex: 3 Seiten werden nicht gefunden" in html
    for page in pages:
        assert f'href="/admin/pages/{page.pk}/edit/">{page.title}</a>' in html
    assert "Aufnahme in den Suchindex fehlgeschlagen" in html
    assert "wartet seit " in html
    assert "mit einem anderen Sprachmodell indexiert" in html
    assert "boom" not in html  # the technical error is for the log and the operators


def test_a_page_never_indexed_is_listed(client, user_in, pages):
    PageIndexState.objects.filter(page=pages[0]).delete()
    html = _dashboard(client, user_in("Redaktion"))
    assert "Suchindex: 1 Seite wird nicht gefunden" in html
    assert "noch nie in den Suchindex aufgenommen" in html


def test_a_page_pending_for_a_moment_is_the_queues_work_not_a_problem(client, user_in, pages):
    _state(pages[0], status=PageIndexState.Status.PENDING, updated_at=timezone.now())
    assert HEADING not in _dashboard(client, user_in("Redaktion"))


def test_a_page_published_again_waits_from_now_on(client, user_in, pages):
    """Long indexed, then published again while the worker has not run yet: pending since
    the publication, not since the state's last change a day ago."""
    _state(pages[0], updated_at=timezone.now() - dt.timedelta(days=1))
    page = pages[0]
    page.title = "Funkzähler: neue Erfahrungen"
    page.save_revision().publish()  # its indexing task waits for a commit that never comes
    assert PageIndexState.objects.get(page=page).status == PageIndexState.Status.PENDING
    assert HEADING not in _dashboard(client, user_in("Redaktion"))


def test_a_rebuild_marks_pages_pending_from_now_on(client, user_in, pages):
    from search.indexing.state import mark_pending

    _state(pages[0], updated_at=timezone.now() - dt.timedelta(days=1))
    mark_pending([pages[0].pk], reason="full rebuild")
    assert HEADING not in _dashboard(client, user_in("Redaktion"))


def test_long_lists_name_the_rest(client, user_in, indexed_page):
    many = [indexed_page("best_practice", title=f"Lösung {n}") for n in range(LISTED + 2)]
    PageIndexState.objects.filter(page__in=many).update(status=PageIndexState.Status.FAILED)
    html = _dashboard(client, user_in("Redaktion"))
    assert f"Suchindex: {LISTED + 2} Seiten werden nicht gefunden" in html
    assert "… und 2 weitere." in html


@pytest.mark.parametrize("group", ["Beratung", "Kommune"])
def test_only_the_redaktion_sees_the_panel(client, user_in, pages, group):
    PageIndexState.objects.update(status=PageIndexState.Status.FAILED)
    assert HEADING not in _dashboard(client, user_in(group))
