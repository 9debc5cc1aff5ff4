"""Reflow at 320 CSS pixels, text enlarged to 200 %, and no information by colour alone.

WCAG 2.1 1.4.10 (reflow: 320 px without horizontal scrolling), 1.4.4 (resize text to 200 %),
1.4.1 (use of colour).
"""

import re

import pytest

from tests.e2e.support import screenshot

PAGES = [
    ("startseite", "/"),
    ("projekte", "/projekte/"),
    ("best-practices-gefiltert", "/best-practices/?thema=digitalisierungsstrategie"),
    ("alle-inhalte", "/inhalte/?seite=2"),
    ("anmelden", "/anmelden/"),
    ("404", "/gibt-es-nicht/"),
]
KNOWLEDGE_PAGES = [
    ("projekt", "proj-oerlinghausen-strategie-2021"),
    ("sitzungsprotokoll", "prot-oerlinghausen-1"),
    ("lesson-learned", "lesson-oerlinghausen-1"),
    ("best-practice", "bp-kreis-minden-luebbecke-ki-postklassifikation"),
]

# Elements wider than the viewport, for a readable failure message.
_OVERFLOWING = """(limit) => [...document.querySelectorAll('body *')]
    .filter(el => el.getBoundingClientRect().right > limit + 0.5
                  && getComputedStyle(el).position !== 'absolute')
    .slice(0, 8)
    .map(el => `${el.tagName.toLowerCase()}.${el.className}: right=${
        Math.round(el.getBoundingClientRect().right)} "${el.textContent.trim().slice(0, 40)}"`)"""


def assert_no_horizontal_scroll(page, width, label):
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, (
        f"{label}: horizontal scrolling at {width} px (scrollWidth {scroll_width}); "
        f"too wide: {page.evaluate(_OVERFLOWING, width)}"
    )


@pytest.fixture
def narrow_page(new_context):
    return new_context(viewport={"width": 320, "height": 640}).new_page()


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[n for n, _ in PAGES])
def test_reflow_at_320_px(narrow_page, name, url):
    narrow_page.goto(url)
    assert_no_horizontal_scroll(narrow_page, 320, name)
    screenshot(narrow_page, f"320px-{name}", full_page=False)


@pytest.mark.parametrize(("name", "external_id"), KNOWLEDGE_PAGES,
                         ids=[n for n, _ in KNOWLEDGE_PAGES])
def test_reflow_of_knowledge_pages_at_320_px(narrow_page, page_url, name, external_id):
    narrow_page.goto(page_url(external_id))
    assert_no_horizontal_scroll(narrow_page, 320, name)
    screenshot(narrow_page, f"320px-{name}", full_page=False)


def test_search_and_filters_usable_at_320_px(narrow_page):
    narrow_page.goto("/projekte/")
    for field in ("Suchbegriff", "Kommune", "Thema", "Jahr"):
        box = narrow_page.get_by_label(field, exact=True).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 320, field
    narrow_page.get_by_label("Kommune").select_option(label="Oerlinghausen")
    narrow_page.get_by_role("button", name="Filtern").click()
    assert "kommune=oerlinghausen" in narrow_page.url


@pytest.mark.parametrize(("name", "url"), [("startseite", "/"), ("projekte", "/projekte/")])
def test_text_zoom_200_percent(page, name, url):
    """Text at 200 % (root font size): nothing overflows, header and filters stay usable."""
    page.goto(url)
    page.evaluate("document.documentElement.style.fontSize = '200%'")
    assert_no_horizontal_scroll(page, 1280, f"{name} bei 200 % Text")
    h1 = page.locator("h1")
    assert float(h1.evaluate("el => parseFloat(getComputedStyle(el).fontSize)")) >= 48
    assert h1.evaluate("el => el.scrollWidth <= el.clientWidth")
    for control in (page.get_by_label("Suchbegriff"), page.get_by_role("button", name="Filtern")):
        assert control.is_visible()
        box = control.bounding_box()
        assert box["x"] + box["width"] <= 1280
    screenshot(page, f"text-200-prozent-{name}")


def test_action_item_status_is_text_not_only_colour(page, page_url):
    page.goto(page_url("prot-rahden-3"))
    statuses = page.locator(".action-items .status")
    assert statuses.count() > 0
    for text in statuses.all_inner_texts():
        # an optional decorative icon (aria-hidden), then the status in words
        assert re.fullmatch(r"[✓◐○]?\s*(offen|in Arbeit|erledigt)", text.strip()), text
    # the label says what the coloured word means
    assert page.locator(".action-items").get_by_text("Status").first.is_visible()


def test_links_in_text_are_underlined(page, page_url):
    """Links inside running text differ from it by more than colour (underline)."""
    page.goto(page_url("lesson-oerlinghausen-1"))
    decorations = page.eval_on_selector_all(
        "main p a, main li a, main dd a",
        "els => els.filter(a => !a.closest('.tags'))"
        ".map(a => [a.textContent.trim(), getComputedStyle(a).textDecorationLine])",
    )
    assert decorations
    plain = [text for text, deco in decorations if "underline" not in deco]
    assert not plain, f"links without underline: {plain}"
