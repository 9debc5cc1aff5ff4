"""The anonymous page cache (knowledge/page_cache.py) on real pages in the real database.

What must hold: a cached page is exactly what a fresh render would show an anonymous visitor;
members, sessions and restricted pages never go through it; every change of content or
privacy is visible on the next request; and the CSRF token in a cached page works for the
visitor who receives it.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client, TestCase, override_settings
from wagtail.models import PageViewRestriction

from knowledge import page_cache
from knowledge.models import KnowledgePage, PageCacheGeneration
from tests.conftest import record

pytestmark = pytest.mark.django_db

STATUS = page_cache.STATUS_HEADER
_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _page_cache_on(settings):
    """Off in the other tests (knowledge/settings/test.py); on here, as in production."""
    settings.KNOWLEDGE_PAGE_CACHE_SECONDS = 600


@pytest.fixture
def lesson(import_lines):
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_lines(record("lesson_learned", external_id="cache-lesson",
                            title="Wasserzähler per Funk auslesen",
                            summary="Funkablesung spart Wege."))
    return KnowledgePage.objects.get(external_id="cache-lesson").specific


def _without_tokens(html: bytes) -> str:
    return _TOKEN.sub('value="…"', html.decode())


def test_second_anonymous_view_is_a_hit_with_the_same_page(lesson):
    first = Client().get(lesson.url)
    second = Client().get(lesson.url)
    assert (first.status_code, first[STATUS]) == (200, "miss")
    assert (second.status_code, second[STATUS]) == (200, "hit")
    assert _without_tokens(second.content) == _without_tokens(first.content)
    assert "Wasserzähler per Funk auslesen" in second.content.decode()


def test_listings_are_cached_per_query_string(lesson):
    for url in ("/inhalte/", "/inhalte/?typ=lesson_learned", "/kommunen/", "/uebersicht/",
                "/zeitstrahl/"):
        assert Client().get(url)[STATUS] == "miss", url
        assert Client().get(url)[STATUS] == "hit", url
    assert "Wasserzähler" in Client().get("/inhalte/?typ=lesson_learned").content.decode()


def test_cached_page_carries_a_working_token_for_each_visitor(lesson):
    """The feedback form of a hit posts successfully with CSRF checks on."""
    page = lesson
    Client().get(page.url)  # fill the cache
    tokens = set()
    for _ in range(2):
        visitor = Client(enforce_csrf_checks=True)
        response = visitor.get(page.url)
        assert response[STATUS] == "hit"
        token = _TOKEN.search(response.content.decode()).group(1)
        tokens.add(token)
        assert "csrftoken" in visitor.cookies
        posted = visitor.post("/netz/rueckmeldung/", {
            "csrfmiddlewaretoken": token, "seite": page.pk, "herkunft": "seite",
            "hilfreich": "ja", "weiter": page.url}, HTTP_ACCEPT="application/json")
        assert posted.status_code in (200, 201), posted.content
    assert len(tokens) == 2


def test_members_never_get_or_fill_cached_pages(lesson, django_user_model):
    member = django_user_model.objects.create_user("mitglied.cache", password="x",
                                                   first_name="Wiebke")
    client = Client()
    client.force_login(member)
    for _ in range(2):
        response = client.get(lesson.url)
        assert response.status_code == 200 and STATUS not in response
    anonymous = Client().get(lesson.url)
    assert anonymous[STATUS] == "miss"
    assert "mitglied.cache" not in anonymous.content.decode()
    assert "Abmelden" not in anonymous.content.decode()
    # And the page cached for anonymous visitors is not what the member gets.
    assert STATUS not in client.get(lesson.url)


def test_page_a_member_saw_first_shows_anonymous_visitors_nothing_restricted(
        lesson, import_lines, django_user_model):
    """Related material on a public page is computed per viewer; only anonymous renders are
    ever stored, so a secret page a member was shown cannot reach the cache."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_lines(record("lesson_learned", external_id="cache-secret",
                            title="Funkablesung im Sperrbezirk Kranichfeld",
                            summary="Funkablesung spart Wege, Wasserzähler per Funk."))
        PageViewRestriction.objects.create(
            page=KnowledgePage.objects.get(external_id="cache-secret"),
            restriction_type=PageViewRestriction.LOGIN)
    member = Client()
    member.force_login(django_user_model.objects.create_user("mitglied.geheim"))
    member.get(lesson.url)
    for expected in ("miss", "hit"):
        response = Client().get(lesson.url)
        assert response[STATUS] == expected
        assert "Kranichfeld" not in response.content.decode()
        listing = Client().get("/inhalte/")
        assert listing[STATUS] == expected and "Kranichfeld" not in listing.content.decode()


def test_visitors_with_a_session_or_messages_bypass_the_cache(lesson):
    Client().get(lesson.url)
    for cookie in ("sessionid", "messages"):
        client = Client()
        client.cookies[cookie] = "x"
        assert STATUS not in client.get(lesson.url), cookie


def test_restricted_page_is_never_cached_and_privacy_changes_apply_at_once(lesson):
    assert Client().get(lesson.url)[STATUS] == "miss"
    with TestCase.captureOnCommitCallbacks(execute=True):
        restriction = PageViewRestriction.objects.create(
            page=lesson, restriction_type=PageViewRestriction.LOGIN)
    for _ in range(2):
        response = Client().get(lesson.url)
        assert response.status_code == 302 and STATUS not in response
    with TestCase.captureOnCommitCallbacks(execute=True):
        restriction.delete()
    assert Client().get(lesson.url).status_code == 200


def test_publishing_unpublishing_and_listings_show_at_once(lesson):
    Client().get(lesson.url)
    Client().get("/inhalte/")
    with TestCase.captureOnCommitCallbacks(execute=True):
        lesson.title = "Funkwasserzähler: was wir gelernt haben"
        lesson.save_revision().publish()
    assert "Funkwasserzähler: was wir gelernt haben" in Client().get(lesson.url).content.decode()
    assert "Funkwasserzähler" in Client().get("/inhalte/").content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        lesson.unpublish()
    assert Client().get(lesson.url).status_code == 404
    assert "Funkwasserzähler" not in Client().get("/inhalte/").content.decode()


def test_snippet_change_renews_the_token_and_search_logs_do_not(lesson):
    from knowledge.models import Municipality
    from network.models import QueryLog

    with TestCase.captureOnCommitCallbacks(execute=True):
        page_cache.renew_token()
    before = PageCacheGeneration.objects.get().token
    with TestCase.captureOnCommitCallbacks(execute=True):
        QueryLog.objects.create(query="wasser", normalized="wasser", surface="suche",
                                result_count=0)
    assert PageCacheGeneration.objects.get().token == before
    with TestCase.captureOnCommitCallbacks(execute=True):
        municipality = Municipality.objects.get(name="Lemgo")
        municipality.save()
    assert PageCacheGeneration.objects.get().token != before


def test_index_announcement_renews_the_token(lesson):
    """Related material follows the index, which changes after the page's own commit."""
    from search.indexing.events import announce

    with TestCase.captureOnCommitCallbacks(execute=True):
        page_cache.renew_token()
    before = PageCacheGeneration.objects.get().token
    with TestCase.captureOnCommitCallbacks(execute=True):
        announce([lesson.pk])
    assert PageCacheGeneration.objects.get().token != before


def test_rolled_back_change_keeps_the_token(lesson):
    from django.db import transaction

    with TestCase.captureOnCommitCallbacks(execute=True):
        page_cache.renew_token()
    before = PageCacheGeneration.objects.get().token
    with (TestCase.captureOnCommitCallbacks(execute=True), pytest.raises(RuntimeError),
          transaction.atomic()):
        lesson.title = "Nie veröffentlicht"
        lesson.save_revision().publish()
        raise RuntimeError
    assert PageCacheGeneration.objects.get().token == before


def test_new_token_from_another_process_turns_every_entry_into_a_miss(lesson):
    Client().get(lesson.url)
    assert Client().get(lesson.url)[STATUS] == "hit"
    page_cache.renew_token()  # as another worker would after its commit
    assert Client().get(lesson.url)[STATUS] == "miss"


@override_settings(KNOWLEDGE_PAGE_CACHE_SECONDS=0)
def test_switched_off(lesson):
    for _ in range(2):
        assert STATUS not in Client().get(lesson.url)


def test_search_is_not_cached(lesson):
    """Searches are logged for the knowledge-gap view: each one must reach the view."""
    for _ in range(2):
        assert STATUS not in Client().get("/suche/?q=Wasserz%C3%A4hler")
