"""Access control tested as an attacker would: every viewer against every surface.

One corpus per module (built once, rolled back at the end): public pages about the same
subject ("Breitbandausbau") and pages that only some viewers or nobody may see, each with a
distinctive secret word in title and body:

* a login-restricted session protocol of a public project,
* a best practice restricted to the group Redaktion,
* a draft that was never published, a page that was unpublished, one that was deleted,
* a lesson moved (after indexing) under a project restricted to Redaktion, and that project.

Every page but the draft has an attached file whose text holds a word found nowhere else
(``<word>anlage``): the file may be downloaded, and its text found, only by the viewers who
may see the page.

For every viewer (anonymous, users of Kommune and Beratung, a user without group, Redaktion,
a superuser) no surface may reveal a page the viewer may not see: not its title, URL, secret
word, snippet or external id, and not through facet or total counts. Positive controls (the
viewers who may see a page do find it) keep the checks honest. Related material is checked
with a cache warmed by a privileged viewer first.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import transaction
from django.test import Client, TestCase
from django.utils.html import escape
from wagtail.models import PageViewRestriction

from knowledge.importing import import_records, validate_lines
from tests.conftest import record
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

VIEWERS = ("anonymous", "kommune", "beratung", "ohne_gruppe", "redaktion", "superuser")
LOGGED_IN = frozenset(VIEWERS) - {"anonymous"}
PRIVILEGED = frozenset({"redaktion", "superuser"})
SHARED_WORD = "Breitbandausbau"
SHARED_TEXT = (f"Der {SHARED_WORD} im ländlichen Raum: Glasfaser für Schulen, Rathaus und "
               "Gewerbegebiete, Förderanträge und Tiefbau koordinieren.")
# A description (and long query) that mentions every secret word.
MATCH_TEXT = (f"Wir planen den {SHARED_WORD} mit Glasfaser für Schulen und Rathaus. "
              "Quittenmarmelade Zitronenfalter Tannenhäher Wiesenknopf Feuersalamander "
              "Bergmolch Kieselalge.")
SECRET_QUERY = "Quittenmarmelade Zitronenfalter Tannenhäher Wiesenknopf Feuersalamander " \
               "Bergmolch Kieselalge intern"


@dataclass
class Secret:
    """A page that only ``allowed`` viewers may find (nobody, for dead pages)."""

    key: str
    word: str
    allowed: frozenset
    title: str = ""
    url: str = ""
    external_id: str = ""
    page_id: int | None = None
    kind: str = ""
    old_url: str = ""  # before the move
    document_url: str = ""  # the attached file

    @property
    def file_word(self) -> str:
        return f"{self.word}anlage"

    def markers(self) -> list[str]:
        return [m for m in (self.word, self.title, self.url, self.old_url, self.external_id,
                            self.document_url, self.file_word) if m]


@dataclass
class World:
    users: dict
    secrets: dict[str, Secret]
    public: dict[str, object]
    restricted_project_url: str = ""
    public_document_url: str = ""
    expected_visible: dict[str, set[str]] = field(default_factory=dict)

    def forbidden(self, viewer: str) -> list[Secret]:
        return [s for s in self.secrets.values() if viewer not in s.allowed]

    def allowed(self, viewer: str) -> list[Secret]:
        return [s for s in self.secrets.values() if viewer in s.allowed]


def _import(*records):
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    valid, errors = validate_lines(lines)
    assert not errors, [str(e) for e in errors]
    import_records(valid)


def _page(external_id):
    from knowledge.models import KnowledgePage

    return KnowledgePage.objects.get(external_id=external_id).specific


def _build_world(django_user_model) -> World:
    from knowledge.models import LessonLearnedIndexPage, LessonLearnedPage, Municipality

    def secret_record(kind, word, **extra):
        return record(kind, external_id=f"geheim-{word.lower()}", title=f"Vorgang {word}",
                      municipality="Geheimstadt", topics=["Netzausbau"], date="2024-02-01",
                      summary=f"{word}: {SHARED_TEXT}", body=f"{SHARED_TEXT} {word} intern.",
                      **extra)

    # Public material in three municipalities, all about the shared subject.
    _import(
        record("project", external_id="pub-projekt", title="Glasfaser für alle",
               municipality="Lemgo", topics=["Digitalisierungsstrategie"], date="2024-01-10",
               summary=SHARED_TEXT, body=SHARED_TEXT),
        record("session_protocol", external_id="pub-protokoll", project="pub-projekt",
               title="Erste Sitzung Glasfaser", municipality="Lemgo", session_number=1,
               date="2024-01-20", summary=SHARED_TEXT, body=SHARED_TEXT),
        record("lesson_learned", external_id="pub-lesson", title="Tiefbau früh planen",
               municipality="Detmold", topics=["Digitalisierungsstrategie"], date="2023-05-01",
               summary=SHARED_TEXT, body=SHARED_TEXT),
        record("best_practice", external_id="pub-bp", title="Förderlotse Glasfaser",
               municipality="Rahden", topics=["Digitalisierungsstrategie"], date="2023-09-01",
               summary=SHARED_TEXT, body=SHARED_TEXT, project="pub-projekt"),
    )
    # Secret material: all in Geheimstadt, so related lists of the public pages would show it.
    _import(
        secret_record("session_protocol", "Quittenmarmelade", project="pub-projekt",
                      session_number=2),
        secret_record("best_practice", "Zitronenfalter", project="pub-projekt"),
        secret_record("best_practice", "Tannenhäher"),
        secret_record("lesson_learned", "Wiesenknopf"),
        secret_record("lesson_learned", "Feuersalamander"),
        secret_record("project", "Bergmolch"),
    )
    redaktion = Group.objects.get(name="Redaktion")
    secrets = {
        "login": Secret("login", "Quittenmarmelade", LOGGED_IN, kind="session_protocol"),
        "group": Secret("group", "Zitronenfalter", PRIVILEGED, kind="best_practice"),
        "unpublished": Secret("unpublished", "Tannenhäher", frozenset(), kind="best_practice"),
        "deleted": Secret("deleted", "Wiesenknopf", frozenset(), kind="lesson_learned"),
        "moved": Secret("moved", "Feuersalamander", PRIVILEGED, kind="lesson_learned"),
        "project": Secret("project", "Bergmolch", PRIVILEGED, kind="project"),
        "draft": Secret("draft", "Kieselalge", frozenset(), kind="lesson_learned"),
    }
    for secret in secrets.values():
        if secret.key == "draft":
            continue
        page = _page(f"geheim-{secret.word.lower()}")
        secret.title, secret.url, secret.external_id = page.title, page.url, page.external_id
        secret.page_id = page.pk
        secret.document_url = _attach_file(page, secret.file_word)
    public_document_url = _attach_file(_page("pub-bp"), "Glasfaseranlage")

    PageViewRestriction.objects.create(page=_page("geheim-quittenmarmelade"),
                                       restriction_type=PageViewRestriction.LOGIN)
    for external_id in ("geheim-zitronenfalter", "geheim-bergmolch"):
        restriction = PageViewRestriction.objects.create(
            page=_page(external_id), restriction_type=PageViewRestriction.GROUPS)
        restriction.groups.add(redaktion)
    _page("geheim-tannenhäher").unpublish()
    _page("geheim-wiesenknopf").delete()
    moved = _page("geheim-feuersalamander")
    secrets["moved"].old_url = moved.url
    moved.move(_page("geheim-bergmolch"), pos="last-child")
    secrets["moved"].url = _page("geheim-feuersalamander").url  # the new, restricted URL

    # A draft: created and saved as a revision, never published.
    index = LessonLearnedIndexPage.objects.first()
    draft = LessonLearnedPage(
        title="Vorgang Kieselalge", slug="vorgang-kieselalge", live=False,
        municipality=Municipality.objects.get(name="Geheimstadt"), date="2024-02-01",
        summary=f"Kieselalge: {SHARED_TEXT}", situation=f"<p>{SHARED_TEXT} Kieselalge.</p>",
        recommendation="<p>Kieselalge intern.</p>", external_id="geheim-kieselalge")
    index.add_child(instance=draft)
    draft.save_revision()
    secrets["draft"].title, secrets["draft"].external_id = draft.title, draft.external_id
    secrets["draft"].url = "/lessons-learned/vorgang-kieselalge/"
    secrets["draft"].page_id = draft.pk

    users = {"anonymous": None, "superuser": django_user_model.objects.create_superuser(
        "matrix-admin", "admin@example.org", "pw-123456")}
    for viewer, group in (("kommune", "Kommune"), ("beratung", "Beratung"),
                          ("ohne_gruppe", None), ("redaktion", "Redaktion")):
        user = django_user_model.objects.create_user(f"matrix-{viewer}", password="pw-123456")
        if group:
            user.groups.add(Group.objects.get(name=group))
        users[viewer] = user
    public = {key: _page(key) for key in ("pub-projekt", "pub-protokoll", "pub-lesson",
                                          "pub-bp")}
    return World(users=users, secrets=secrets, public=public,
                 restricted_project_url=secrets["project"].url,
                 public_document_url=public_document_url)


def _attach_file(page, word: str) -> str:
    """Attach a Markdown file naming ``word`` to the page, publish it; the file's URL."""
    from tests.attachment_files import make_document

    content = f"# Anlage\n\n{word} steht nur in dieser Datei.\n".encode()
    document = make_document(f"anlage-{word.lower()}.md", content, title=f"Anlage {word}")
    blocks = [(b.block_type, b.value) for b in page.body]
    page.body = [*blocks, ("document", {"document": document, "description": ""})]
    page.save_revision().publish()
    return document.url


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The corpus, built and indexed once for the module inside a transaction rolled back at
    the end; every test runs in a savepoint of it (pytest-django's ``db``)."""
    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            # Index updates wait for the commit; run them as a commit would (like ``synced``).
            with TestCase.captureOnCommitCallbacks(execute=True):
                built = _build_world(get_user_model())
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            cache.clear()


@pytest.fixture(autouse=True)
def fresh_cache():
    """Related lists are cached; savepoint rollbacks reset the index generation."""
    cache.clear()
    yield
    cache.clear()


def client_for(world: World, viewer: str) -> Client:
    client = Client()
    if world.users[viewer] is not None:
        client.force_login(world.users[viewer])
    return client


def assert_hidden(world: World, viewer: str, text: str, where: str) -> None:
    for secret in world.forbidden(viewer):
        for marker in secret.markers():
            assert marker not in text, f"{viewer} sees {secret.key} ({marker!r}) on {where}"


def scrub(text: str, echoed: str) -> str:
    """The response without the viewer's own input (echoed in form, title and links)."""
    text = re.sub(r"(?s)<title>.*?</title>", "", text)  # the (shortened) query only
    # The login link carries the whole address, query included, as its "next" parameter.
    for form in (echoed, quote_plus(echoed), quote(echoed), str(escape(echoed)),
                 json.dumps(echoed)[1:-1], quote(quote_plus(echoed), safe="/")):
        text = text.replace(form, "")
    return text


def assert_shown(world: World, viewer: str, text: str, where: str, keys=None) -> None:
    """Positive control: pages the viewer may see do appear (by title)."""
    for secret in world.allowed(viewer):
        if keys is None or secret.key in keys:
            assert secret.title in text, f"{viewer} misses {secret.key} on {where}"


# --- Page views ------------------------------------------------------------------------------


def test_direct_page_views(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for secret in world.secrets.values():
            response = client.get(secret.url)
            body = response.content.decode()
            if viewer in secret.allowed:
                assert response.status_code == 200, (viewer, secret.key)
                assert secret.word in body
            else:
                assert response.status_code in (302, 403, 404), (viewer, secret.key,
                                                                  response.status_code)
                assert secret.word not in body and secret.title not in body, (viewer, secret)
                if response.status_code == 302:
                    assert "/anmelden/" in response["Location"]
            if secret.old_url:  # no automatic redirect after a move: nothing to follow
                response = client.get(secret.old_url)
                assert response.status_code == 404, (viewer, response.status_code)
                assert secret.word not in response.content.decode()


def test_public_pages_lists_siblings_and_related(world):
    """Project lists, siblings and related material on the public pages."""
    urls = [page.url for page in world.public.values()]
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, (viewer, url)
            assert_hidden(world, viewer, response.content.decode(), url)
        project_html = client.get(world.public["pub-projekt"].url).content.decode()
        assert_shown(world, viewer, project_html, "project lists", keys={"login", "group"})
        protocol_html = client.get(world.public["pub-protokoll"].url).content.decode()
        assert_shown(world, viewer, protocol_html, "protocol siblings", keys={"login"})


def test_related_material_and_warm_cache(world):
    """Related lists computed for a privileged viewer never reach the others."""
    lesson = world.public["pub-lesson"]
    html = client_for(world, "superuser").get(lesson.url).content.decode()
    related_titles = _related_titles(html)
    # The positive control: secret pages are related material for someone who may see them.
    assert {s.title for s in world.allowed("superuser")} & set(related_titles), related_titles
    for viewer in ("redaktion", "kommune", "beratung", "ohne_gruppe", "anonymous"):
        html = client_for(world, viewer).get(lesson.url).content.decode()
        assert_hidden(world, viewer, html, f"related on {lesson.url} (warm cache)")
        for secret in world.forbidden(viewer):
            assert secret.title not in _related_titles(html)


def _related_titles(html: str) -> list[str]:
    match = re.search(r'(?s)<(section|aside)[^>]*class="[^"]*related[^"]*".*?</\1>', html)
    section = match.group(0) if match else html
    return re.findall(r"<a [^>]*>([^<]+)</a>", section)


# --- Listings and sitemap -------------------------------------------------------------------


LISTINGS = ["/", "/projekte/", "/lessons-learned/", "/best-practices/", "/inhalte/",
            "/inhalte/?kommune=geheimstadt", "/inhalte/?thema=netzausbau",
            "/inhalte/?jahr=2024", "/inhalte/?typ=session_protocol",
            "/inhalte/?typ=best_practice&kommune=geheimstadt", "/projekte/?typ=project"]


def test_listings_with_filters_and_pagination(world, settings):
    settings.KNOWLEDGE_LISTING_PAGE_SIZE = 2
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for url in LISTINGS:
            response = client.get(url)
            assert response.status_code == 200, (viewer, url)
            count = response.context["listing"].page_obj.paginator.count
            pages = response.context["listing"].page_obj.paginator.num_pages
            for number in range(1, pages + 2):  # one beyond the end, too
                sep = "&" if "?" in url else "?"
                html = client.get(f"{url}{sep}seite={number}").content.decode()
                assert_hidden(world, viewer, html, f"{url} seite={number}")
            if url == "/inhalte/?kommune=geheimstadt":
                # Counts reveal nothing: exactly the secret pages the viewer may see.
                assert count == len(world.allowed(viewer)), (viewer, count)
            if url == "/inhalte/":
                assert count == len(world.public) + len(world.allowed(viewer)), (viewer, count)


def test_sitemap(world):
    for viewer in VIEWERS:
        response = client_for(world, viewer).get("/sitemap.xml")
        assert response.status_code == 200
        xml = response.content.decode()
        assert_hidden(world, viewer, xml, "sitemap.xml")
        assert world.public["pub-lesson"].url in xml
        for secret in world.secrets.values():  # the sitemap is for crawlers: public only
            assert secret.url not in xml, (viewer, secret.key)


# --- Search page and API --------------------------------------------------------------------


def _expected_facets(world: World, viewer: str) -> dict[str, int]:
    municipalities = {"Lemgo": 2, "Detmold": 1, "Rahden": 1}
    allowed = len(world.allowed(viewer))
    if allowed:
        municipalities["Geheimstadt"] = allowed
    return municipalities


def test_search_page_results_snippets_and_facets(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        # Full text ORs the words: one query could find every secret page at once.
        for mode in ("fulltext", "hybrid", "vector"):
            response = client.get("/suche/", {"q": SECRET_QUERY, "modus": mode})
            assert response.status_code == 200
            html = scrub(response.content.decode(), SECRET_QUERY)
            assert_hidden(world, viewer, html, f"/suche/ {mode}")
            if mode == "fulltext":
                assert_shown(world, viewer, html, "/suche/")
                assert ("<mark>" in html) == bool(world.allowed(viewer))
        # Totals and facet counts equal those of the pages the viewer may see.
        response = client.get("/suche/", {"q": SHARED_WORD, "modus": "fulltext"})
        results = response.context["results"]
        assert results.total == len(world.public) + len(world.allowed(viewer)), viewer
        counts = {f.label: f.count for f in results.facets["municipalities"]}
        assert counts == _expected_facets(world, viewer), (viewer, counts)
        assert sum(f.count for f in results.facets["types"]) == results.total
        html = response.content.decode()
        assert_hidden(world, viewer, html, "/suche/ shared word")
        # Filtering by the secret municipality or topic reveals nothing either.
        for params in ({"kommune": "geheimstadt"}, {"thema": "netzausbau"},
                       {"ohne_kommune": "lemgo"}, {"typ": "lesson_learned"}):
            response = client.get("/suche/", {"q": SHARED_WORD, **params})
            assert_hidden(world, viewer, response.content.decode(), f"/suche/ {params}")


def test_search_api(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for mode in ("fulltext", "hybrid", "vector"):
            for query in (SECRET_QUERY, SHARED_WORD):
                response = client.get("/api/v1/search", {"q": query, "mode": mode, "limit": 50})
                assert response.status_code == 200
                assert_hidden(world, viewer, scrub(response.content.decode(), query),
                              f"API {mode} {query}")
        data = client.get("/api/v1/search", {"q": SHARED_WORD, "mode": "fulltext",
                                             "limit": 50}).json()
        assert data["total"] == len(world.public) + len(world.allowed(viewer)), viewer
        assert {hit["title"] for hit in data["results"]} >= {s.title for s in
                                                             world.allowed(viewer)}
        data = client.get("/api/v1/search", {"q": SHARED_WORD, "municipality": "Geheimstadt",
                                             "mode": "fulltext"}).json()
        assert data["total"] == len(world.allowed(viewer)), viewer


# --- Matching page and API ------------------------------------------------------------------


def test_matching_page(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        get = client.get("/lernen/")
        assert get.status_code == 200 and "csrfmiddlewaretoken" in get.content.decode()
        token = get.context["csrf_token"]
        for municipality in ("", "lemgo"):
            response = client.post("/lernen/", {"description": MATCH_TEXT,
                                                "municipality": municipality,
                                                "csrfmiddlewaretoken": str(token)})
            assert response.status_code == 200, response.content[:500]
            html = response.content.decode()
            assert_hidden(world, viewer, html.replace(MATCH_TEXT, ""), "/lernen/")
            if viewer == "superuser":
                assert any(s.title in html for s in world.allowed(viewer))


def test_matching_api(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for payload in ({"description": MATCH_TEXT}, {"description": MATCH_TEXT,
                                                      "municipality": "Lemgo", "limit": 20}):
            response = client.post("/api/v1/match", payload, content_type="application/json")
            if response.status_code == 404:
                pytest.skip("POST /api/v1/match does not exist")
            assert response.status_code == 200, response.content[:500]
            text = response.content.decode().replace(json.dumps(MATCH_TEXT)[1:-1], "")
            assert_hidden(world, viewer, text, f"API match {payload.get('municipality')}")
            if viewer == "superuser":
                assert any(s.title in text for s in world.allowed(viewer))


# --- Privacy changes take effect at once ----------------------------------------------------


def test_privacy_change_takes_effect_in_search_and_related(world, synced):
    """Restricting a public page hides it from search and (cached) related lists with the
    tasks its change enqueued; lifting the restriction shows it again."""
    bp = world.public["pub-bp"]
    lesson = world.public["pub-lesson"]
    anonymous = client_for(world, "anonymous")

    def visible_in_search():
        data = anonymous.get("/api/v1/search", {"q": "Förderlotse", "mode": "fulltext"}).json()
        return bp.title in {hit["title"] for hit in data["results"]}

    def visible_in_related():
        return bp.title in _related_titles(anonymous.get(lesson.url).content.decode())

    assert visible_in_search() and visible_in_related()  # related cache now warm
    with synced():
        restriction = PageViewRestriction.objects.create(
            page=bp, restriction_type=PageViewRestriction.LOGIN)
    assert not visible_in_search()
    assert not visible_in_related()
    assert bp.title not in anonymous.get("/best-practices/").content.decode()
    with synced():
        restriction.delete()
    assert visible_in_search() and visible_in_related()


def test_old_url_of_page_moved_under_restriction_reveals_nothing(world):
    """No automatic redirect (WAGTAILREDIRECTS_AUTO_CREATE = False): its Location would name
    the restricted page's new path."""
    secret = world.secrets["moved"]
    response = client_for(world, "anonymous").get(secret.old_url)
    assert response.status_code == 404
    assert secret.url not in response.get("Location", "")


def test_restricted_pages_do_not_change_public_scores(world, synced):
    """Ordering side channel: what an anonymous visitor gets (order and scores) must not
    depend on pages they cannot see."""
    anonymous = client_for(world, "anonymous")
    query = {"q": f"{SHARED_WORD} Glasfaser Tiefbau", "mode": "fulltext", "limit": 50}
    before = [(h["title"], h["score"]) for h in
              anonymous.get("/api/v1/search", query).json()["results"]]
    with synced():
        for secret in world.secrets.values():
            if secret.key in ("login", "group", "project"):
                _page(secret.external_id).delete()
    after = [(h["title"], h["score"]) for h in
             anonymous.get("/api/v1/search", query).json()["results"]]
    assert before == after


# --- Attached files ----------------------------------------------------------------------------


# Who manages documents in the admin (Wagtail's "change" permission on the root collection).
DOCUMENT_MANAGERS = frozenset({"beratung", "redaktion", "superuser"})


def test_document_downloads(world):
    """A file of a live page is served exactly to the viewers who may see that page; everyone
    else gets a login redirect (anonymous) or 403. A file no live page uses any more (its page
    unpublished or deleted) is served only to the people who manage documents in the admin,
    as a draft's file is, and is 404 for everyone else."""
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        assert client.get(world.public_document_url).status_code == 200, viewer
        for secret in world.secrets.values():
            if not secret.document_url:
                continue
            response = client.get(secret.document_url)
            unused = secret.key in ("unpublished", "deleted")
            if viewer in secret.allowed or (unused and viewer in DOCUMENT_MANAGERS):
                assert response.status_code == 200, (viewer, secret.key)
                assert secret.file_word.encode() in b"".join(response.streaming_content)
                continue
            assert secret.file_word.encode() not in response.content, (viewer, secret.key)
            if unused:
                assert response.status_code == 404, (viewer, secret.key)
            elif viewer == "anonymous":
                assert response.status_code == 302 and "/anmelden/" in response["Location"]
            else:
                assert response.status_code == 403, (viewer, secret.key)


def test_attachment_text_in_search_and_matching(world):
    """The file's own word finds its page only for viewers who may see it, on every surface."""
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for secret in world.secrets.values():
            if not secret.document_url:
                continue
            query = secret.file_word
            page = scrub(client.get("/suche/", {"q": query}).content.decode(), query)
            api = scrub(client.get("/api/v1/search", {"q": query}).content.decode(), query)
            match = scrub(client.post("/api/v1/match", {"description": f"{MATCH_TEXT} {query}"},
                                      content_type="application/json").content.decode(),
                          f"{MATCH_TEXT} {query}")
            for where, text in (("search page", page), ("search API", api),
                                ("matching API", match)):
                assert_hidden(world, viewer, text, f"{where} for {query}")
            if viewer in secret.allowed:
                assert secret.title in page, (viewer, secret.key)
                assert "aus Anhang:" in page and secret.document_url in page
