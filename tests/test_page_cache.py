"""The page cache (knowledge/page_cache.py) on real pages in the real database.

What must hold: a cached page is exactly what a fresh render would show the viewer, anonymous
or member, apart from the personal parts, which are their own (name, subscriptions, messages,
CSRF token, userbar); a member never gets an entry of another visibility class; editors,
sessions with messages or unlocked pages, and restricted answers never go through it; every
change of content, privacy or group membership is visible on the next request; and the CSRF
tokens in a cached page work for the viewer who receives it.
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client, TestCase, override_settings
from django.test.utils import CaptureQueriesContext
from wagtail.models import PageViewRestriction

from knowledge import page_cache
from knowledge.models import KnowledgePage, PageCacheGeneration
from network.models import Subscription
from network.search_hooks import VOTED_SEARCH_SESSION_KEY
from search.matching_views import SESSION_KEY
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


def test_visitors_with_messages_bypass_the_cache(lesson):
    Client().get(lesson.url)
    client = Client()
    client.cookies["messages"] = "x"
    assert STATUS not in client.get(lesson.url)


def test_anonymous_visitors_keep_the_shared_pages_after_a_matching(lesson):
    """/lernen/ keeps the last description in the session; every page such a visitor viewed
    afterwards was rendered for them alone."""
    Client().get(lesson.url)
    visitor = Client()
    answer = visitor.post("/lernen/", {"description": "Wir wollen Wasserzähler per Funk "
                                                      "auslesen und die Ablesung digitalisieren."})
    assert answer.status_code == 200 and SESSION_KEY in visitor.session
    assert visitor.get(lesson.url)[STATUS] == "hit"


def test_renders_for_a_visitor_with_session_data_are_never_stored(lesson):
    """Such a visitor may get the shared entry, but what was rendered for them stays theirs:
    a cached view that ever showed their key would otherwise show it to everyone."""
    visitor = Client()
    session = visitor.session
    session[SESSION_KEY] = {"form": {"description": "Unser internes Vorhaben"}}
    session.save()
    assert STATUS not in visitor.get(lesson.url)  # rendered for them, not stored
    assert Client().get(lesson.url)[STATUS] == "miss"  # the first sessionless view stores it
    assert visitor.get(lesson.url)[STATUS] == "hit"


def test_generated_files_follow_the_same_rule(lesson):
    """The PDF report goes through cached_bytes: a visitor with session data gets the stored
    file, or one made for them alone."""
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    made = []

    def request_with(session_data):
        request = RequestFactory().get("/bericht.pdf")
        request.user = AnonymousUser()
        request.session = SessionStore()
        request.session.update(session_data)
        return request

    def produce():
        made.append(len(made))
        return f"Datei {len(made)}".encode()

    with_description = {SESSION_KEY: {"form": {"description": "Unser internes Vorhaben"}}}
    assert page_cache.cached_bytes(request_with(with_description), "pdf", produce) == b"Datei 1"
    assert page_cache.cached_bytes(request_with({}), "pdf", produce) == b"Datei 2"  # stored
    assert page_cache.cached_bytes(request_with(with_description), "pdf", produce) == b"Datei 2"
    assert page_cache.cached_bytes(request_with({}), "pdf", produce) == b"Datei 2"
    assert len(made) == 2


@pytest.mark.parametrize(("key", "shared"), [
    (None, True),  # page feedback: a session without any key
    (VOTED_SEARCH_SESSION_KEY, True),
    ("_auth_user_id", False),  # a login that no longer resolves to a user
    (PageViewRestriction.passed_view_restrictions_session_key, False),
    ("_messages", False),
    ("a_key_added_later", False),
])
def test_an_anonymous_session_shares_pages_only_with_keys_no_cached_view_reads(lesson, key,
                                                                            shared):
    Client().get(lesson.url)
    visitor = Client()
    session = visitor.session  # saved, with its cookie set on the client
    if key is not None:
        session[key] = "999999"
        session.save()
    page = visitor.get(lesson.url)
    assert page.status_code == 200
    assert (page.get(STATUS) == "hit") is shared


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


def _renewals(queries) -> int:
    return sum(1 for query in queries
               if query["sql"].startswith('INSERT INTO "knowledge_pagecachegeneration"'))


def test_one_renewal_per_commit_of_a_publication(lesson):
    """A publication sends several signals: its commit writes the token once, and the
    indexing after it (which changes related material) once more."""
    with (CaptureQueriesContext(connection) as queries,
          TestCase.captureOnCommitCallbacks(execute=True)):
        lesson.title = "Funkablesung im Praxistest"
        lesson.save_revision().publish()
    assert _renewals(queries) == 2


def test_one_renewal_per_commit_of_an_import(lesson, import_lines):
    """An import sends a dozen signals per page."""
    with (CaptureQueriesContext(connection) as queries,
          TestCase.captureOnCommitCallbacks(execute=True)):
        import_lines(record("lesson_learned"), record("best_practice"))
    assert _renewals(queries) == 2


def test_change_after_a_rolled_back_savepoint_still_renews(lesson):
    """The renewal queued inside a savepoint goes with its rollback; a later change queues
    its own."""
    from django.db import transaction

    with TestCase.captureOnCommitCallbacks(execute=True):
        page_cache.renew_token()
    before = PageCacheGeneration.objects.get().token
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            lesson.title = "Nie veröffentlicht"
            lesson.save_revision().publish()
            raise RuntimeError
        KnowledgePage.objects.get(pk=lesson.pk).specific.save_revision().publish()
    assert PageCacheGeneration.objects.get().token != before


def test_change_in_a_released_savepoint_renews_despite_a_later_rollback(lesson):
    from django.db import transaction

    with TestCase.captureOnCommitCallbacks(execute=True):
        page_cache.renew_token()
    before = PageCacheGeneration.objects.get().token
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        with transaction.atomic():
            lesson.title = "Funkablesung im Praxistest"
            lesson.save_revision().publish()
        with pytest.raises(RuntimeError), transaction.atomic():
            KnowledgePage.objects.get(pk=lesson.pk).specific.save_revision().publish()
            raise RuntimeError
    assert PageCacheGeneration.objects.get().token != before


def test_new_token_from_another_process_turns_every_entry_into_a_miss(lesson):
    Client().get(lesson.url)
    assert Client().get(lesson.url)[STATUS] == "hit"
    page_cache.renew_token()  # as another worker would after its commit
    assert Client().get(lesson.url)[STATUS] == "miss"


@override_settings(KNOWLEDGE_PAGE_CACHE_SECONDS=0)
def test_switched_off(lesson):
    for _ in range(2):
        assert STATUS not in Client().get(lesson.url)


@pytest.mark.parametrize("url", ["/gibt-es-nicht/", "/kommunen/gibt-es-nicht/"])
def test_not_found_page_renders_its_personal_parts(lesson, url):
    """A 404 raised inside a cached view: the error page replaces the response whose
    placeholders would have been filled, so it must render the parts in place."""
    response = Client().get(url)
    assert response.status_code == 404
    body = response.content.decode()
    assert "\x00" not in body and "Anmelden" in body


def test_migrate_renews_the_token_once_at_the_end(lesson):
    """While ``migrate`` runs (the token's table may not exist yet) content changes queue no
    renewal; the end of the migrations renews the token once."""
    from django.apps import apps
    from django.db.models.signals import post_migrate, pre_migrate

    from knowledge.models import Topic

    signal_args = {"sender": apps.get_app_config("knowledge"), "verbosity": 0,
                   "interactive": False, "using": "default", "plan": [], "apps": apps}
    signal_args["app_config"] = signal_args["sender"]
    page_cache.renew_token()
    before = PageCacheGeneration.objects.get(pk=1).token
    pre_migrate.send(**signal_args)
    with TestCase.captureOnCommitCallbacks() as queued:
        Topic.objects.create(name="Neues Thema", slug="neues-thema")
    assert queued == []
    post_migrate.send(**signal_args)
    assert PageCacheGeneration.objects.get(pk=1).token != before
    with TestCase.captureOnCommitCallbacks() as queued:
        Topic.objects.create(name="Noch ein Thema", slug="noch-ein-thema")
    assert queued  # back to normal after the migrations


def test_search_is_not_cached(lesson):
    """Searches are logged for the knowledge-gap view: each one must reach the view."""
    for _ in range(2):
        assert STATUS not in Client().get("/suche/?q=Wasserz%C3%A4hler")


# --- Members: one entry per visibility class, personal parts per request ------------------


@pytest.fixture
def secret(import_lines):
    """A page only the group "Arbeitskreis Wasser" may see, and that group."""
    group = Group.objects.create(name="Arbeitskreis Wasser")
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_lines(record("lesson_learned", external_id="cache-group-secret",
                            title="Funkablesung im Sperrbezirk Kranichfeld",
                            summary="Funkablesung spart Wege, Wasserzähler per Funk."))
        page = KnowledgePage.objects.get(external_id="cache-group-secret")
        PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.GROUPS).groups.add(group)
    return page.specific, group


def _member(user_in, group=None, **fields) -> Client:
    user = user_in(group, **fields)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def _fresh(client, url, settings) -> bytes:
    """What the same viewer gets with the cache switched off."""
    settings.KNOWLEDGE_PAGE_CACHE_SECONDS = 0
    try:
        return client.get(url).content
    finally:
        settings.KNOWLEDGE_PAGE_CACHE_SECONDS = 600


def test_member_hit_equals_a_fresh_render(lesson, user_in, settings):
    member = _member(user_in, first_name="Wiebke", last_name="Brandt")
    for url in (lesson.url, "/inhalte/", "/kommunen/lemgo/", "/uebersicht/"):
        first, second = member.get(url), member.get(url)
        assert (first[STATUS], second[STATUS]) == ("miss", "hit"), url
        fresh = _without_tokens(_fresh(member, url, settings))
        assert _without_tokens(first.content) == fresh, url
        assert _without_tokens(second.content) == fresh, url
        assert "Angemeldet als Wiebke Brandt" in second.content.decode()
        assert "\x00" not in second.content.decode()


def test_two_members_of_one_class_share_the_entry_each_with_their_own_parts(
        import_lines, user_in):
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_lines(record("project", external_id="cache-project", title="Funkzähler Lemgo"))
    project = KnowledgePage.objects.get(external_id="cache-project").specific
    wiebke = _member(user_in, first_name="Wiebke")
    jonas = _member(user_in, first_name="Jonas")
    Subscription.objects.create(user=wiebke.user, kind=Subscription.Kind.PROJECT,
                                project=project)
    first = wiebke.get(project.url)
    second = jonas.get(project.url)
    assert (first[STATUS], second[STATUS]) == ("miss", "hit")
    mine, theirs = first.content.decode(), second.content.decode()
    assert "Angemeldet als Wiebke" in mine and "Sie folgen dem Projekt" in mine
    assert "Angemeldet als Jonas" in theirs and "Wiebke" not in theirs
    assert "Sie folgen" not in theirs and "Projekt „Funkzähler Lemgo“ folgen" in theirs
    assert _TOKEN.findall(mine) != _TOKEN.findall(theirs)
    assert _without_tokens(second.content) == _without_tokens(jonas.get(project.url).content)
    # Shared between members by this cache, never by a proxy: what members see may list
    # restricted pages. The entry is stored although the answers are private.
    assert all("private" in r["Cache-Control"] for r in (first, second))
    assert "private" not in Client().get(project.url).get("Cache-Control", "")


def test_group_restricted_content_never_crosses_classes(lesson, secret, user_in):
    page, group = secret
    insider = _member(user_in, first_name="Ina")
    insider.user.groups.add(group)
    outsider = _member(user_in, first_name="Otto")
    insider.get(lesson.url)  # related material may show the secret page to the insider
    for _ in range(2):
        assert "Kranichfeld" not in outsider.get(lesson.url).content.decode()
    for url in ("/inhalte/", "/kommunen/lemgo/", "/lessons-learned/"):
        assert "Kranichfeld" in insider.get(url).content.decode(), url
        for _ in range(2):  # the insider's entry exists; the outsider misses, then hits
            assert "Kranichfeld" not in outsider.get(url).content.decode(), url
    assert insider.get(page.url).status_code == 200
    assert outsider.get(page.url).status_code != 200
    # And the reverse: the outsider's entry first, then a new insider.
    url = "/inhalte/?typ=lesson_learned"
    assert outsider.get(url)[STATUS] == "miss"
    newcomer = _member(user_in)
    newcomer.user.groups.add(group)
    listing = newcomer.get(url)
    assert listing[STATUS] == "miss" and "Kranichfeld" in listing.content.decode()
    assert "Kranichfeld" not in Client().get(url).content.decode()
    # Leaving the group applies to the next request (the key is computed per request).
    insider.user.groups.remove(group)
    assert "Kranichfeld" not in insider.get("/inhalte/").content.decode()
    assert insider.get(page.url).status_code != 200


@pytest.mark.parametrize("role", ["Redaktion", "Beratung", "superuser"])
def test_editors_are_never_cached(lesson, user_in, role):
    if role == "superuser":
        client = _member(user_in, is_superuser=True, is_staff=True)
    else:
        client = _member(user_in, role)
    for _ in range(2):
        response = client.get(lesson.url)
        assert response.status_code == 200 and STATUS not in response
        assert "wagtail-userbar" in response.content.decode()
    assert "wagtail-userbar" not in Client().get(lesson.url).content.decode()


def test_kommune_members_share_pages_but_see_their_own_edit_link(lesson, user_in, settings):
    owner = _member(user_in, "Kommune", first_name="Olga")
    other = _member(user_in, "Kommune")
    plain = _member(user_in)
    lesson.owner = owner.user
    lesson.save(update_fields=["owner"])
    edit_link = f"/admin/pages/{lesson.pk}/edit/"
    own = owner.get(lesson.url)
    assert own[STATUS] == "miss" and edit_link in own.content.decode()
    others = other.get(lesson.url)
    assert others[STATUS] == "hit" and edit_link not in others.content.decode()
    assert "wagtail-userbar" in others.content.decode()
    plains = plain.get(lesson.url)
    assert plains[STATUS] == "hit" and "wagtail-userbar" not in plains.content.decode()
    assert _without_tokens(owner.get(lesson.url).content) == _without_tokens(
        _fresh(owner, lesson.url, settings))


def test_pending_messages_in_the_session_bypass_the_cache(lesson, user_in, settings):
    """Messages kept in the session (the cookie case is in the follow test below)."""
    from django.contrib import messages
    from django.contrib.messages.storage.session import SessionStorage
    from django.http import HttpResponse
    from django.test import RequestFactory

    settings.MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
    member = _member(user_in)
    member.get(lesson.url)
    assert member.get(lesson.url)[STATUS] == "hit"
    request = RequestFactory().get("/")
    request.session = member.session
    storage = SessionStorage(request)
    storage.add(messages.INFO, "Nur für Sie: Ihre Einstellung wurde gespeichert.")
    storage.update(HttpResponse())
    request.session.save()
    shown = member.get(lesson.url)
    assert STATUS not in shown and "Nur für Sie" in shown.content.decode()
    after = member.get(lesson.url)
    assert after[STATUS] == "hit" and "Nur für Sie" not in after.content.decode()


def test_password_unlocked_page_is_never_cached_for_the_member(lesson, user_in):
    from wagtail.models import PageViewRestriction as Restriction

    member = _member(user_in)
    session = member.session
    session[Restriction.passed_view_restrictions_session_key] = [1]
    session.save()
    assert STATUS not in member.get(lesson.url)


def test_following_and_unfollowing_show_at_once(import_lines, user_in):
    with TestCase.captureOnCommitCallbacks(execute=True):
        import_lines(record("project", external_id="cache-follow", title="Funkzähler Rahden"))
    project = KnowledgePage.objects.get(external_id="cache-follow").specific
    member = Client(enforce_csrf_checks=True)
    member.force_login(user_in())
    member.get(project.url)
    page = member.get(project.url)
    assert page[STATUS] == "hit" and "Projekt „Funkzähler Rahden“ folgen" in page.content.decode()
    token = _TOKEN.search(page.content.decode()).group(1)
    followed = member.post("/netz/benachrichtigungen/neu/", {
        "csrfmiddlewaretoken": token, "projekt": project.pk, "weiter": project.url})
    assert followed.status_code == 302 and followed["Location"] == project.url
    with_message = member.get(project.url)  # "Sie folgen jetzt" is pending: fresh render
    assert STATUS not in with_message and "Sie folgen jetzt" in with_message.content.decode()
    page = member.get(project.url)
    assert page[STATUS] == "hit" and "Sie folgen dem Projekt" in page.content.decode()
    form = re.search(r'action="(/netz/benachrichtigungen/\d+/loeschen/)"', page.content.decode())
    unfollowed = member.post(form.group(1), {
        "csrfmiddlewaretoken": _TOKEN.search(page.content.decode()).group(1),
        "weiter": project.url})
    assert unfollowed.status_code == 302 and unfollowed["Location"] == project.url
    member.get(project.url)  # shows "Sie folgen nicht mehr"
    page = member.get(project.url)
    assert page[STATUS] == "hit" and "Sie folgen dem Projekt" not in page.content.decode()
    assert "Projekt „Funkzähler Rahden“ folgen" in page.content.decode()


def test_member_hit_carries_working_tokens(lesson, user_in):
    """Feedback and logout forms of a member's hit post with CSRF checks on."""
    Client().get(lesson.url)
    _member(user_in).get(lesson.url)  # fills the members' entry
    member = Client(enforce_csrf_checks=True)
    member.force_login(user_in())
    response = member.get(lesson.url)
    assert response[STATUS] == "hit"
    tokens = _TOKEN.findall(response.content.decode())
    assert len(tokens) >= 2  # logout and feedback
    posted = member.post("/netz/rueckmeldung/", {
        "csrfmiddlewaretoken": tokens[-1], "seite": lesson.pk, "herkunft": "seite",
        "hilfreich": "ja", "weiter": lesson.url}, HTTP_ACCEPT="application/json")
    assert posted.status_code in (200, 201), posted.content
    assert member.post("/abmelden/", {"csrfmiddlewaretoken": tokens[0]}).status_code == 302
    assert "Abmelden" not in member.get(lesson.url).content.decode()


def test_anonymous_and_members_never_share_an_entry(lesson, user_in):
    member = _member(user_in, first_name="Wiebke")
    assert member.get(lesson.url)[STATUS] == "miss"
    anonymous = Client().get(lesson.url)
    assert anonymous[STATUS] == "miss" and "Abmelden" not in anonymous.content.decode()
    assert "Angemeldet als" in member.get(lesson.url).content.decode()


def test_members_switch(lesson, user_in, settings):
    settings.KNOWLEDGE_PAGE_CACHE_MEMBERS = False
    member = _member(user_in)
    for _ in range(2):
        assert STATUS not in member.get(lesson.url)
