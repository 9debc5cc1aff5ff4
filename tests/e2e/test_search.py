"""The search page /suche/ in the browser: results, empty state, paraphrase journey, keyboard,
privacy, accessibility (axe-core) and screenshots."""

import re

import pytest

from tests.e2e.support import check_a11y, screenshot
from tests.e2e.test_keyboard import _ACTIVE, has_visible_focus, tab_through

PARAPHRASE = "gefälschte Nachrichten von Betrügern erkennen lernen"
PARAPHRASE_TARGET = "Phishing-Sensibilisierung"

pytestmark = pytest.mark.usefixtures("search_index")


def results(page):
    return page.locator("main").locator(".card, .search-result, li.result").filter(
        has=page.locator("a")
    )


def test_search_with_results(page):
    response = page.goto("/suche/?q=Posteingang+Scanstelle")
    assert response.status == 200
    assert page.locator("h1").count() == 1
    assert results(page).count() > 0
    first = results(page).first
    text = first.inner_text()
    # cards carry type, municipality and a German date
    assert re.search(r"\d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|"
                     r"Oktober|November|Dezember) \d{4}", text), text
    assert page.locator("main mark").count() > 0, "snippets highlight the query words"
    screenshot(page, "suche-treffer")
    check_a11y(page, "Suche mit Treffern")


def test_search_empty_state(page):
    page.goto("/suche/?q=Quarkkeulchenrezept+Xylophon&modus=fulltext")
    assert results(page).count() == 0
    assert page.get_by_text("Dazu haben wir leider nichts gefunden.").is_visible()
    screenshot(page, "suche-keine-treffer")
    check_a11y(page, "Suche ohne Treffer")


def test_search_without_query(page):
    response = page.goto("/suche/")
    assert response.status == 200
    screenshot(page, "suche-leer")
    check_a11y(page, "Suchseite ohne Anfrage")


def test_search_at_320_px(new_context):
    from tests.e2e.test_responsive import assert_no_horizontal_scroll

    page = new_context(viewport={"width": 320, "height": 640}).new_page()
    page.goto("/suche/?q=Phishing")
    assert_no_horizontal_scroll(page, 320, "Suche")
    screenshot(page, "320px-suche", full_page=False)


def test_visitor_finds_best_practice_with_a_paraphrase(page):
    """From the home page, in her own words, to the right best practice."""
    page.goto("/")
    page.get_by_label(re.compile("Wonach suchen Sie")).fill(PARAPHRASE)
    page.get_by_role("main").get_by_role("button", name="Suchen").first.click()
    page.wait_for_url(re.compile(r".*/suche/\?.*q=.*"))
    top = results(page)
    titles = [top.nth(i).get_by_role("link").first.inner_text() for i in range(min(3, top.count()))]
    assert any(PARAPHRASE_TARGET in t for t in titles), f"top 3 for the paraphrase: {titles}"
    screenshot(page, "suche-umschreibung")
    page.get_by_role("link", name=re.compile(PARAPHRASE_TARGET)).first.click()
    assert PARAPHRASE_TARGET in page.locator("h1").inner_text()
    assert page.locator(".badge").first.inner_text().lower() == "best practice"


def test_search_by_keyboard_only(page):
    """Skip nothing: Tab to the header search, type, Enter, Tab to a result, Enter."""
    page.goto("/")
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.id") != "header-q":
        page.keyboard.press("Tab")
    page.keyboard.type("Phishing Übungen")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/suche/\?q=.*"))
    stops = tab_through(page)
    invisible = [s for s in stops if not has_visible_focus(s)]
    assert not invisible, f"focus not visible on: {invisible[:5]}"
    assert stops[-1]["inFooter"], "Tab must get through the search form and results to the end"
    # back to the first result link by keyboard and open it
    page.goto(page.url)
    target = results(page).first.get_by_role("link").first
    title = target.inner_text()
    for _ in range(len(stops)):
        page.keyboard.press("Tab")
        if title.strip().startswith(page.evaluate(_ACTIVE)["name"]):
            break
    else:
        pytest.fail(f"result link {title!r} not reachable by Tab")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == title.strip()


def test_anonymous_search_does_not_reveal_restricted_protocol(page, db_access):
    from knowledge.models import KnowledgePage

    secret = KnowledgePage.objects.get(external_id="prot-rahden-4")
    for query in (secret.title, "Entwurf des Zeitstrahls Rahden", secret.summary[:200]):
        page.goto(f"/suche/?q={query}")
        assert f'href="{secret.url}"' not in page.content(), query
        links = page.locator("main a").all_inner_texts()
        assert not any(secret.title in text for text in links), query
        api = page.request.get("/api/v1/search", params={"q": query}).json()
        found = [(hit["title"], hit["url"]) for hit in api["results"]]
        assert not [hit for hit in found if secret.url in hit[1] or secret.title == hit[0]]
