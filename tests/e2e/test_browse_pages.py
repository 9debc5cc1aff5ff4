"""Browsing across municipalities in the browser: axe (WCAG 2.1 AA) and 320 px screenshots of
the municipality list and profile, the matrix, a roadmap and the roadmap comparison."""

import pytest

from tests.e2e.support import check_a11y, screenshot
from tests.e2e.test_responsive import assert_no_horizontal_scroll

PAGES = [
    ("kommunen", "/kommunen/"),
    ("kommunen-gefiltert", "/kommunen/?kreis=Kreis+Lippe&groesse=10000-25000"),
    ("kommune-profil", "/kommunen/oerlinghausen/"),
    ("uebersicht-matrix", "/uebersicht/"),
    ("zeitstrahl-vergleich", "/zeitstrahl/"),
    ("zeitstrahl-vergleich-gefiltert",
     "/zeitstrahl/?kommune=oerlinghausen&kommune=lage&thema=e-akte-und-dokumentenmanagement"),
]
ROADMAP = "zeitstrahl-oerlinghausen-2021"


@pytest.fixture
def narrow_page(new_context):
    return new_context(viewport={"width": 320, "height": 640}).new_page()


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[n for n, _ in PAGES])
def test_pages_are_accessible(page, name, url):
    response = page.goto(url)
    assert response.status == 200
    assert page.locator("h1").count() == 1
    screenshot(page, name)
    check_a11y(page, name)


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[n for n, _ in PAGES])
def test_pages_at_320_px(narrow_page, name, url):
    narrow_page.goto(url)
    assert_no_horizontal_scroll(narrow_page, 320, name)
    screenshot(narrow_page, f"320px-{name}")
    check_a11y(narrow_page, f"{name} (320 px)")


def test_roadmap_page(page, narrow_page, page_url):
    url = page_url(ROADMAP)
    page.goto(url)
    assert page.locator("ol.timeline > li").count() == 14
    assert page.get_by_role("table", name="Zeitstrahl als Tabelle").is_visible()
    screenshot(page, "zeitstrahl")
    check_a11y(page, "Zeitstrahl")
    narrow_page.goto(url)
    assert_no_horizontal_scroll(narrow_page, 320, "Zeitstrahl")
    screenshot(narrow_page, "320px-zeitstrahl")
    check_a11y(narrow_page, "Zeitstrahl (320 px)")


def test_wide_tables_scroll_inside_a_focusable_region_at_320_px(narrow_page):
    """The matrix is wider than 320 px: it scrolls in its own region, reachable by keyboard."""
    narrow_page.goto("/uebersicht/")
    region = narrow_page.get_by_role("region", name="Anzahl der Inhalte je Kommune und Thema")
    assert region.get_attribute("tabindex") == "0"
    sizes = region.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert sizes[0] > sizes[1]  # the table scrolls, the page does not
    region.focus()
    narrow_page.keyboard.press("ArrowRight")
    narrow_page.wait_for_function(
        "() => document.querySelector('.table-scroll').scrollLeft > 0")


def test_roadmap_prints_without_site_chrome(page, page_url):
    page.goto(page_url(ROADMAP))
    page.emulate_media(media="print")
    assert not page.locator(".site-header").is_visible()
    assert page.locator("ol.timeline").is_visible()
    assert page.get_by_role("table", name="Zeitstrahl als Tabelle").is_visible()
