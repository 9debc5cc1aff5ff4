"""Keyboard only: skip link first, focus order, visible focus, no keyboard traps.

WCAG 2.1 2.1.1 (keyboard), 2.1.2 (no keyboard trap), 2.4.1 (bypass blocks), 2.4.3 (focus
order), 2.4.7 (focus visible). The search and matching flows are in test_search.py /
test_matching.py.
"""

import pytest

# Describe the focused element and how its focus is drawn.
_ACTIVE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        name: (el.getAttribute('aria-label') || el.textContent || el.value || '')
            .trim().slice(0, 60),
        inHeaderSearch: !!el.closest('.header-search'),
        inFilters: !!el.closest('form.filters'),
        inMain: !!el.closest('main'),
        inFooter: !!el.closest('footer'),
        outlineStyle: style.outlineStyle,
        outlineWidth: parseFloat(style.outlineWidth),
        boxShadow: style.boxShadow,
        visible: box.width > 0 && box.height > 0,
    };
}"""

PAGES = [("startseite", "/"), ("projekte", "/projekte/")]


def tab_through(page, limit=120):
    """Press Tab until focus leaves the document (or ``limit``); the focused elements."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        active = page.evaluate(_ACTIVE)
        if active is None:
            break
        stops.append(active)
    return stops


def has_visible_focus(stop) -> bool:
    outline = stop["outlineStyle"] != "none" and stop["outlineWidth"] >= 2
    return stop["visible"] and (outline or stop["boxShadow"] not in ("", "none"))


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[n for n, _ in PAGES])
def test_skip_link_is_first_and_moves_focus_to_main(page, name, url):
    page.goto(url)
    page.keyboard.press("Tab")
    first = page.evaluate(_ACTIVE)
    assert first["name"] == "Zum Inhalt springen", first
    skip = page.get_by_role("link", name="Zum Inhalt springen")
    box = skip.bounding_box()
    assert box["y"] >= 0 and box["height"] > 0, "skip link must become visible on focus"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "inhalt"
    page.keyboard.press("Tab")
    after = page.evaluate(_ACTIVE)
    assert after["inMain"], f"Tab after the skip link should stay in main, got {after}"


@pytest.mark.parametrize(("name", "url"), PAGES, ids=[n for n, _ in PAGES])
def test_focus_order_visible_focus_and_no_trap(page, name, url):
    page.goto(url)
    stops = tab_through(page)
    assert stops, "nothing is focusable"
    # every stop shows where the focus is
    invisible = [s for s in stops if not has_visible_focus(s)]
    assert not invisible, f"focus not visible on: {invisible[:5]}"
    # order: skip link, header (navigation, search), main (filters, results), footer
    regions = []
    for stop in stops:
        region = "footer" if stop["inFooter"] else "main" if stop["inMain"] else "header"
        if not regions or regions[-1] != region:
            regions.append(region)
    assert regions == ["header", "main", "footer"], regions
    # no trap: focus passes through the header search and the filter form and leaves both
    names = [s["name"] for s in stops]
    assert any(s["inHeaderSearch"] for s in stops)
    last_search = max(i for i, s in enumerate(stops) if s["inHeaderSearch"])
    assert not stops[last_search + 1]["inHeaderSearch"]
    filter_stops = [i for i, s in enumerate(stops) if s["inFilters"]]
    assert filter_stops, names
    assert filter_stops == list(range(filter_stops[0], filter_stops[-1] + 1)), "filters in one go"
    assert stops[filter_stops[-1] + 1]["inMain"] and not stops[filter_stops[-1] + 1]["inFilters"]
    # and back again with Shift+Tab (focus has left the page after the last stop)
    for _ in range(len(stops)):
        page.keyboard.press("Shift+Tab")
    assert page.evaluate(_ACTIVE)["name"] == "Zum Inhalt springen"


def test_filter_listing_with_keyboard_only(page):
    page.goto("/projekte/")
    page.get_by_label("Kommune").focus()
    # choose "Oerlinghausen" by typing, as a keyboard user does on a closed select
    page.keyboard.type("Oerl")
    assert page.get_by_label("Kommune").input_value() == "oerlinghausen"
    while not page.evaluate("document.activeElement.textContent.trim() === 'Filtern'"):
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url("**/projekte/?kommune=oerlinghausen*")
    # project, its five protocols and its Digitalisierungszeitstrahl
    assert "7 Einträge" in page.locator(".result-count").inner_text()
    # the filter keeps its state in the URL and in the form
    assert page.get_by_label("Kommune").input_value() == "oerlinghausen"


def test_header_search_submits_with_enter(page):
    page.goto("/projekte/")
    page.keyboard.press("Tab")  # skip link
    while not page.evaluate("document.activeElement.id === 'header-q'"):
        page.keyboard.press("Tab")
    page.keyboard.type("Posteingang")
    page.keyboard.press("Enter")
    page.wait_for_url("**/suche/?q=Posteingang")
