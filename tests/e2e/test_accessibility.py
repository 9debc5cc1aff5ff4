"""axe-core (WCAG 2.1 A/AA, the basis of BITV 2.0) on every page type of the front end.

Each page is also saved as a screenshot under test-artifacts/screenshots/ for review.
Search (/suche/) and matching (/lernen/) are checked in test_search.py / test_matching.py.
"""

import pytest
from django.test import override_settings
from playwright.sync_api import expect

from tests.e2e.support import check_a11y, login, screenshot

LISTINGS = [
    ("startseite", "/"),
    ("startseite-gefiltert", "/?kommune=rahden&typ=session_protocol"),
    ("projekte", "/projekte/"),
    ("projekte-gefiltert", "/projekte/?kommune=oerlinghausen&jahr=2021"),
    ("lessons-learned", "/lessons-learned/"),
    ("lessons-learned-gefiltert", "/lessons-learned/?thema=change-management"),
    ("best-practices", "/best-practices/"),
    ("best-practices-gefiltert",
     "/best-practices/?kommune=blomberg&thema=digitalisierungsstrategie"),
    ("alle-inhalte", "/inhalte/"),
    ("alle-inhalte-gefiltert", "/inhalte/?typ=best_practice&jahr=2024"),
    ("alle-inhalte-leer", "/inhalte/?kommune=rahden&typ=best_practice&jahr=2021"),
    ("alle-inhalte-seite-2", "/inhalte/?seite=2"),
    ("filter-ungueltig", "/inhalte/?kommune=gibt-es-nicht&jahr=abc"),
    ("anmelden", "/anmelden/"),
]

KNOWLEDGE_PAGES = [
    ("projekt", "proj-oerlinghausen-strategie-2021"),
    ("sitzungsprotokoll", "prot-oerlinghausen-1"),
    ("lesson-learned", "lesson-oerlinghausen-1"),
    ("lesson-learned-ohne-projekt", "lesson-vlotho-wissensverlust-ruhestand"),
    ("best-practice", "bp-blomberg-lotsen-qualifizierung"),
]


@pytest.mark.parametrize(("name", "url"), LISTINGS, ids=[n for n, _ in LISTINGS])
def test_listing_pages(page, name, url):
    response = page.goto(url)
    assert response.status == 200
    assert page.locator("h1").count() == 1
    screenshot(page, name)
    check_a11y(page, name)


@pytest.mark.parametrize(
    ("name", "external_id"), KNOWLEDGE_PAGES, ids=[n for n, _ in KNOWLEDGE_PAGES]
)
def test_knowledge_pages(page, page_url, name, external_id):
    response = page.goto(page_url(external_id))
    assert response.status == 200
    assert page.locator("h1").count() == 1
    screenshot(page, name)
    check_a11y(page, name)


def test_protocol_with_action_items(page, page_url):
    page.goto(page_url("prot-oerlinghausen-1"))
    tasks = page.get_by_role("heading", name="Aufgaben")
    assert tasks.is_visible()
    assert page.locator(".action-items li").count() == 4
    check_a11y(page, "Sitzungsprotokoll mit Aufgaben")


def test_restricted_protocol_as_member(page, page_url):
    """The logged-in view (account menu, internal protocol) is accessible too."""
    login(page, "kommune.lemgo", next_url=page_url("prot-rahden-4"))
    assert page.locator("h1").inner_text().startswith("4. Projektgruppensitzung")
    screenshot(page, "sitzungsprotokoll-intern-angemeldet")
    check_a11y(page, "internes Protokoll (angemeldet)")


def test_login_error(page):
    page.goto("/anmelden/")
    page.get_by_label("Benutzername").fill("niemand")
    page.get_by_label("Passwort").fill("falsch")
    page.get_by_role("main").get_by_role("button", name="Anmelden").click()
    # Wait for the re-rendered form: under load the response may take a moment.
    expect(page.get_by_role("alert")).to_be_visible(timeout=30_000)
    screenshot(page, "anmelden-fehler")
    check_a11y(page, "Anmeldung mit Fehler")


def test_not_found_page(page):
    response = page.goto("/gibt-es-nicht/")
    assert response.status == 404
    assert "Seite nicht gefunden" in page.locator("h1").inner_text()
    screenshot(page, "fehler-404")
    check_a11y(page, "404")


def test_server_error_page(page):
    with override_settings(ROOT_URLCONF="tests.e2e.urls"):
        response = page.goto("/e2e-test-fehler/")
    assert response.status == 500
    assert "Fehler" in page.locator("h1").inner_text()
    screenshot(page, "fehler-500")
    check_a11y(page, "500")
