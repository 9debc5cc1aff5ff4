"""Helpers of the browser tests: paths, Chromium settings, axe-core, screenshots, login."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

E2E_DIR = Path(__file__).resolve().parent
REPO_DIR = E2E_DIR.parent.parent
SCREENSHOT_DIR = REPO_DIR / "test-artifacts" / "screenshots"
AXE_JS = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling Google's hosts, which this
# machine's closed network refuses; --no-sandbox because CI runs as root.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DEFAULT_TIMEOUT_MS = 10_000
NAVIGATION_TIMEOUT_MS = 45_000

PASSWORD = "Wissensnetz-2024!"
# username -> group; created by the ``site_data`` fixture
USERS = {
    "beraterin": "Beratung",
    "kommune.lemgo": "Kommune",
    "redakteur": "Redaktion",
}


def missing_browser_prerequisites() -> list[str]:
    """What is missing to run any browser test, each with how to install it."""
    missing = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Python Playwright (`.venv/bin/pip install -e '.[dev]'`)")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(
            f"Chromium at {CHROMIUM} (as root: `apt-get install -y chromium`, or run "
            "tests/e2e/install_browser.sh; E2E_CHROMIUM=/path overrides)"
        )
    return missing


def missing_axe() -> list[str]:
    if AXE_JS.is_file():
        return []
    return [f"axe-core (`npm ci --prefix {E2E_DIR.relative_to(REPO_DIR)}`)"]


def browser_required() -> bool:
    """E2E_REQUIRE_BROWSER=1: a missing prerequisite fails instead of skipping (CI)."""
    return os.environ.get("E2E_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false")


def skip_or_fail(missing: list[str]):
    text = "; ".join(missing)
    banner = (
        "\n" + "!" * 78 + f"\n!! BROWSER TESTS NOT RUN, missing: {text}\n"
        "!! see tests/e2e/install_browser.sh\n" + "!" * 78
    )
    if browser_required():
        pytest.fail(banner + "\n(E2E_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(banner)


# --- pages ---------------------------------------------------------------------------------


def login(page, username: str, password: str = PASSWORD, next_url: str = "/"):
    """Log in through the public login form (the real one, no session tricks)."""
    page.goto(f"/anmelden/?next={next_url}")
    page.get_by_label("Benutzername").fill(username)
    page.get_by_label("Passwort").fill(password)
    page.get_by_role("main").get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()


def screenshot(page, name: str, full_page: bool = True) -> Path:
    """Save a PNG of the page under test-artifacts/screenshots/ for reviewing the look."""
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOT_DIR / (re.sub(r"[^a-z0-9_.-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=full_page)
    return path


# --- axe-core ------------------------------------------------------------------------------

_AXE_RUN = """async (tags) => {
    const result = await axe.run(document, {
        runOnly: {type: 'tag', values: tags},
        resultTypes: ['violations'],
    });
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
        nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
    }));
}"""


def axe_violations(page) -> list[dict]:
    """The WCAG 2.1 A/AA violations axe-core finds on the current page."""
    if missing_axe():
        skip_or_fail(missing_axe())
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(_AXE_RUN, WCAG_TAGS)


def format_violations(violations: list[dict], label: str) -> str:
    lines = [f"{len(violations)} axe-core violation(s) of WCAG 2.1 A/AA on {label}:"]
    for v in violations:
        lines.append(f"- [{v['impact']}] {v['id']}: {v['help']}  <{v['helpUrl']}>")
        for node in v["nodes"][:5]:
            summary = " ".join((node.get("summary") or "").split())
            lines.append(f"    at {' '.join(map(str, node['target']))}: {summary}")
            lines.append(f"       {node['html'][:200]}")
        if len(v["nodes"]) > 5:
            lines.append(f"    ... and {len(v['nodes']) - 5} more element(s)")
    return "\n".join(lines)


def check_a11y(page, label: str | None = None) -> None:
    """Run axe-core on the current page and assert zero WCAG 2.1 A/AA violations."""
    violations = axe_violations(page)
    assert not violations, format_violations(violations, label or page.url)


# --- Wagtail admin -------------------------------------------------------------------------


def admin_login(page, username: str, password: str = PASSWORD):
    """Log in through the Wagtail admin's own login form (/admin/login/)."""
    page.goto("/admin/")
    assert "/admin/login/" in page.url
    page.get_by_label("Benutzername").fill(username)
    # Wagtail 8's login form labels this field "Password" even in German
    page.locator("#id_password").fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(re.compile(r".*/admin/$"))


def admin_field(scope, label: str):
    """A form field by its label; Wagtail appends "*" to the labels of required fields."""
    labelled = scope.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))
    # panel headings label their sections too: only the form control itself
    return labelled.and_(scope.locator("input, select, textarea"))


def admin_panel(page, heading: str):
    """The admin form section under a heading such as "Ausgangslage" (required: "*")."""
    name = re.compile(rf"^\s*{re.escape(heading)}\s*\*?\s*$")
    return page.locator("section.w-panel").filter(
        has=page.get_by_role("heading", name=name)
    ).first


def type_rich_text(page, heading: str, text: str):
    """Type into the Draftail editor of the rich text field under ``heading``."""
    editor = admin_panel(page, heading).get_by_role("textbox").last
    editor.click()
    page.keyboard.type(text)


_TRACK_AUTOSAVE = """() => {
    const t = window.__e2eAutosave = {lastInput: 0, started: 0, ended: 0, saved: 0};
    const now = () => performance.now();
    for (const name of ['input', 'change']) {
        document.addEventListener(name, () => { t.lastInput = now(); }, true);
    }
    document.addEventListener('w-autosave:save', () => { t.started = now(); });
    document.addEventListener('w-autosave:success', () => { t.ended = now(); t.saved += 1; });
    document.addEventListener('w-autosave:error', () => { t.ended = now(); });
}"""
# saved at least once, no save in flight, and quiet (no edit, no save) for longer than
# Wagtail's autosave interval (WAGTAIL_AUTOSAVE_INTERVAL, 500 ms by default)
_AUTOSAVED = """(quietMs) => {
    const t = window.__e2eAutosave;
    const settled = t.ended >= t.started;
    return t.saved > 0 && settled && performance.now() - Math.max(t.lastInput, t.ended) > quietMs;
}"""


def track_autosave(page):
    """Watch Wagtail's autosave in the current admin editor (see ``wait_for_autosave``)."""
    page.evaluate(_TRACK_AUTOSAVE)


def wait_for_autosave(page, quiet_ms: int = 1_500, timeout_ms: int = 15_000):
    """Wait until Wagtail's autosave has saved the editor and settled.

    Wagtail 8 autosaves the editor form (a new page becomes a draft and the URL switches to
    its edit view). A workflow or publish action submitted while an autosave is in flight
    races with it and ends in a version conflict ("Automatisches Speichern ist pausiert").
    """
    page.wait_for_function(_AUTOSAVED, arg=quiet_ms, timeout=timeout_ms)
