"""The matching page /lernen/: a municipality describes a new project and follows a suggestion."""

import re

import pytest

from tests.e2e.support import check_a11y, screenshot
from tests.e2e.test_keyboard import has_visible_focus, tab_through

pytestmark = pytest.mark.usefixtures("search_index")

DESCRIPTION = (
    "Wir möchten die Eingangspost der Verwaltung digitalisieren. Eine eigene Scanstelle "
    "können wir uns als kleine Gemeinde nicht leisten; die Briefe sollen trotzdem morgens "
    "digital in den Fachbereichen ankommen. Wie haben andere Kommunen das organisiert?"
)


def test_matching_form_is_accessible(page):
    response = page.goto("/lernen/")
    assert response.status == 200
    screenshot(page, "lernen-formular")
    check_a11y(page, "Matching-Formular")


def test_municipality_describes_project_and_follows_suggestion(page):
    page.goto("/lernen/")
    page.get_by_label("Beschreibung Ihres Vorhabens").fill(DESCRIPTION)
    page.get_by_label("Ihre Kommune").select_option(label="Barntrup")
    page.get_by_role("button", name="Passende Erfahrungen finden").click()
    page.wait_for_load_state()
    heading = page.get_by_role("heading", name=re.compile("Das haben andere Kommunen"))
    assert heading.is_visible()
    suggestions = page.locator(".match-results .card-title a")
    titles = suggestions.all_inner_texts()
    assert titles, "no suggestions"
    assert any("Posteingang" in t or "Scanstelle" in t for t in titles[:6]), titles
    # the asking municipality is excluded from the suggestions
    assert "Barntrup ·" not in page.locator(".match-results").inner_text()
    screenshot(page, "lernen-vorschlaege")
    check_a11y(page, "Matching mit Vorschlägen")
    first = suggestions.first
    title = first.inner_text()
    first.click()
    assert page.locator("h1").inner_text() == title


def test_matching_by_keyboard_only(page):
    page.goto("/lernen/")
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.tagName") != "TEXTAREA":
        page.keyboard.press("Tab")
    page.keyboard.type(DESCRIPTION)
    while page.evaluate("document.activeElement.textContent.trim()") != (
        "Passende Erfahrungen finden"
    ):
        page.keyboard.press("Tab")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".match-results").is_visible()
    stops = tab_through(page, limit=200)
    invisible = [s for s in stops if not has_visible_focus(s)]
    assert not invisible, f"focus not visible on: {invisible[:5]}"
    assert stops[-1]["inFooter"], "Tab must get through the form and suggestions to the end"
