"""User journeys in the browser, end to end against the live site.

- An anonymous visitor cannot reach a restricted protocol by any path.
- A consultant (group "Beratung") logs into the Wagtail admin, creates and publishes a session
  protocol under an existing project through the real admin UI, and finds it on the project
  page and through the search.

Journeys through search and matching (paraphrase search, "finds it through search", the
matching page, lesson approval -> related material) are in test_search.py / test_matching.py.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.support import (
    PASSWORD,
    admin_field,
    admin_login,
    admin_panel,
    check_a11y,
    login,
    screenshot,
    track_autosave,
    wait_for_autosave,
)

RESTRICTED = ["prot-rahden-4", "prot-rahden-5"]


@pytest.fixture
def restricted(db_access):
    """Title and URL of the demo protocols that only logged-in members may see."""
    from wagtail.models import PageViewRestriction

    from knowledge.models import KnowledgePage

    pages = [KnowledgePage.objects.get(external_id=eid) for eid in RESTRICTED]
    for p in pages:
        assert PageViewRestriction.objects.filter(page=p).exists(), p
    return [(p.title, p.url) for p in pages]


def assert_not_revealed(page, restricted, where):
    html = page.content()
    for title, url in restricted:
        assert title not in html, f"{where} shows the restricted title {title!r}"
        assert f'href="{url}"' not in html, f"{where} links to the restricted page {url}"


def test_anonymous_visitor_cannot_reach_restricted_protocol(page, page_url, restricted):
    # 1. the direct URL leads to the login form, not to the protocol
    for title, url in restricted:
        page.goto(url)
        assert "/anmelden/" in page.url
        assert page.locator("h1").inner_text() == "Anmelden"
        assert title not in page.content()

    # 2. listings, filters, the project and its sibling protocols never show or link it
    project_url = page_url("proj-rahden-strategie-2026")
    surfaces = [
        "/", "/projekte/", "/inhalte/", "/inhalte/?kommune=rahden",
        "/inhalte/?typ=session_protocol&kommune=rahden", "/projekte/?kommune=rahden&jahr=2026",
        project_url, page_url("prot-rahden-3"), page_url("bp-rahden-wissenslandkarte"),
    ]
    for url in surfaces:
        page.goto(url)
        assert_not_revealed(page, restricted, url)
    # every page of the listing of all content
    page.goto("/inhalte/")
    while page.get_by_role("link", name="Weiter »").count():
        page.get_by_role("link", name="Weiter »").click()
        assert_not_revealed(page, restricted, page.url)
    page.goto(project_url)
    protocols = page.locator(".protocol-list li")
    assert protocols.count() == 3  # 5 sessions, 2 of them internal

    # 3. the sitemap does not list it
    sitemap = page.request.get("/sitemap.xml").text()
    for _, url in restricted:
        assert url not in sitemap

    # 4. after logging in (the way the redirect offers), the member sees it
    title, url = restricted[0]
    page.goto(url)
    page.get_by_label("Benutzername").fill("kommune.lemgo")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"**{url}")
    assert page.locator("h1").inner_text() == title
    page.goto(project_url)
    assert page.locator(".protocol-list li").count() == 5


def test_logout_hides_restricted_protocol_again(page, restricted):
    title, url = restricted[1]
    login(page, "kommune.lemgo", next_url=url)
    assert page.locator("h1").inner_text() == title
    page.get_by_role("button", name="Abmelden").click()
    page.goto(url)
    assert "/anmelden/" in page.url


def test_consultant_publishes_protocol_in_admin(page, db_access):
    from knowledge.models import KnowledgePage, ProjectIndexPage

    project = KnowledgePage.objects.get(external_id="proj-lemgo-digitallotsen-2023")
    projects_index = ProjectIndexPage.objects.get()
    title = "1. Lotsentreffen: Rollenprofil und Stundenkontingent"

    # the project has no protocols yet
    page.goto(project.url)
    assert "Noch keine Protokolle veröffentlicht." in page.content()

    admin_login(page, "beraterin")
    assert page.locator("html").get_attribute("lang").startswith("de")

    # explorer: Projekte -> the project's "more options" -> add a child page -> protocol
    page.goto(f"/admin/pages/{projects_index.pk}/")
    page.get_by_role("button", name=f"Weitere Optionen für '{project.title}'").click()
    # the menu opens in a popup (tippy) at the end of the document
    page.locator("[data-tippy-root]").get_by_role("link", name="Unterseite hinzufügen").click()
    page.get_by_role("link", name=re.compile("^Sitzungsprotokoll")).click()
    page.wait_for_url(re.compile(r".*/admin/pages/add/knowledge/sessionprotocolpage/\d+/"))
    track_autosave(page)

    page.get_by_placeholder("Seitentitel*").fill(title)
    # A protocol below a project starts with the project's municipality, topics and the
    # next session number (knowledge/page_forms.py): the snippet chooser already shows Lemgo.
    expect(page.locator("#id_municipality-chooser [data-chooser-title]")).to_have_text("Lemgo")
    admin_field(page, "Themen").select_option(label="Digitallotsen")
    admin_field(page, "Datum").fill("2024-02-15")
    page.keyboard.press("Escape")  # close the date picker
    admin_field(page, "Zusammenfassung").fill(
        "Erstes Treffen der neuen Digitallotsen: Rollenprofil abgestimmt, zehn Prozent "
        "Stundenkontingent beantragt."
    )
    admin_field(page, "Sitzungsnummer").fill("1")
    admin_field(page, "Format").select_option(label="vor Ort")

    # StreamField "Tagesordnung und Diskussion": one agenda item with Draftail rich text
    agenda = admin_panel(page, "Tagesordnung und Diskussion")
    agenda.get_by_role("button", name="Einen Block einfügen").first.click()
    admin_field(agenda, "Tagesordnungspunkt").fill("Rollenprofil der Lotsen")
    editor = agenda.get_by_role("textbox").last
    editor.click()
    page.keyboard.type("Die Lotsen sind Ansprechpartner im Fachbereich, keine IT-Hotline.")

    # StreamField "Aufgaben": one action item
    tasks = admin_panel(page, "Aufgaben")
    tasks.get_by_role("button", name="Einen Block einfügen").first.click()
    admin_field(tasks, "Aufgabe").fill("Stundenkontingent beim Personalamt beantragen")
    admin_field(tasks, "Verantwortlich (Rolle)").fill("Digitalisierungsbeauftragte")
    admin_field(tasks, "Status").select_option(label="in Arbeit")
    # Wagtail autosaves the draft and switches to its edit view; publishing while that save
    # is in flight posted the form to the create view a second time (a duplicate page, 400)
    wait_for_autosave(page)
    page.wait_for_url(re.compile(r".*/admin/pages/\d+/edit/$"))
    screenshot(page, "admin-sitzungsprotokoll-formular")

    # publish from the footer's action menu
    page.get_by_role("button", name="Mehr Aktionen").click()
    # publishing indexes the page in the request (the first time with the model load)
    with page.expect_navigation(url=re.compile(r".*/admin/pages/\d+/$"), timeout=120_000):
        page.get_by_role("button", name="Veröffentlichen").click(no_wait_after=True)
    assert "veröffentlicht" in page.locator(".messages").inner_text()

    # the protocol is live, below the project, and shown on the project page
    protocol = KnowledgePage.objects.get(title=title).specific
    assert protocol.live and protocol.get_parent().pk == project.pk
    assert protocol.municipality.name == "Lemgo"
    anonymous = page.context.browser.new_context(base_url=page.url.split("/admin")[0])
    try:
        visitor = anonymous.new_page()
        visitor.goto(project.url)
        visitor.get_by_role("link", name=title).click()
        assert visitor.locator("h1").inner_text() == title
        assert visitor.get_by_text("Rollenprofil der Lotsen").is_visible()
        assert visitor.locator(".action-items").get_by_text("in Arbeit").is_visible()
        assert "15. Februar 2024" in visitor.content()
        screenshot(visitor, "sitzungsprotokoll-aus-admin")
        check_a11y(visitor, "im Admin angelegtes Protokoll")
        # ... and it is found through the search (indexed on publish)
        visitor.goto("/")
        visitor.get_by_label("Suchbegriff").fill("Lotsentreffen Rollenprofil Stundenkontingent")
        visitor.get_by_label("Suchbegriff").press("Enter")
        visitor.wait_for_url(re.compile(r".*/suche/\?q=.*"))
        visitor.get_by_role("link", name=title).click()
        assert visitor.locator("h1").inner_text() == title
    finally:
        anonymous.close()
