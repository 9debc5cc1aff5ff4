"""Browser tests: headless Debian Chromium, driven by Playwright, against a live Django server.

Set up once for the whole ``tests/e2e`` package:

- ``site_data``: the demo content and users with known passwords (``support.USERS``),
  *committed* to the throwaway test database: the live server runs in its own thread and
  connection, so rows inside a test transaction would be invisible to it. After the package
  the database is flushed; ``post_migrate`` rebuilds the site skeleton and roles, so the tests
  that follow start from the usual state.
- ``live_site``: Django's ``LiveServerThread`` on 127.0.0.1, static files included.
  (pytest-django's ``live_server`` fixture would flush the database after every test.)
- ``browser`` / ``context`` / ``page``: Chromium from ``/usr/bin/chromium`` (``E2E_CHROMIUM``
  overrides) through Playwright's ``executable_path``; a fresh context (German locale, no
  cookies) per test. Helpers for axe-core, screenshots and login live in ``support.py``.

A missing prerequisite SKIPS the tests with a loud message naming what to install;
``E2E_REQUIRE_BROWSER=1`` turns that into a failure. Alone: ``pytest tests/e2e -q``.
"""

from __future__ import annotations

import os

import pytest

from tests.committed_db import NO_TASKS, committed_database, ensure_test_database
from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEFAULT_TIMEOUT_MS,
    NAVIGATION_TIMEOUT_MS,
    PASSWORD,
    SCREENSHOT_DIR,
    USERS,
    missing_axe,
    missing_browser_prerequisites,
    screenshot,
    skip_or_fail,
)


def pytest_terminal_summary(terminalreporter):
    missing = missing_browser_prerequisites() + missing_axe()
    if missing:
        terminalreporter.write_sep("!", "browser tests (tests/e2e) cannot run fully", red=True)
        for item in missing:
            terminalreporter.write_line(f"  missing: {item}", red=True)
        terminalreporter.write_line("  install with: tests/e2e/install_browser.sh", red=True)


@pytest.fixture(scope="package")
def site_data(django_db_setup, django_db_blocker):
    """Demo content and users, committed for the live server; undone after the package.

    The demo pages are loaded without semantic indexing (the dummy task backend): embedding all
    of them takes minutes. Tests that need the semantic index build it for the pages they use;
    Wagtail's own search index (admin search, snippet choosers) is rebuilt with update_index.
    Afterwards the database returns to its state before (:mod:`tests.committed_db`).
    """
    missing = missing_browser_prerequisites()
    if missing:
        skip_or_fail(missing)
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.test import override_settings

    for stale in SCREENSHOT_DIR.glob("fehlgeschlagen-*.png"):
        stale.unlink()
    with django_db_blocker.unblock(), ensure_test_database(), committed_database(django_db_blocker):
        with override_settings(TASKS=NO_TASKS):
            call_command("load_demo_content", verbosity=0)
        # The dummy backend also dropped Wagtail's own index updates (admin search and
        # choosers); that index is cheap to build.
        call_command("update_index", verbosity=0)
        user_model = get_user_model()
        for username, group in USERS.items():
            user = user_model.objects.create_user(
                username=username, password=PASSWORD, email=f"{username}@example.org"
            )
            user.groups.add(Group.objects.get(name=group))
        yield


@pytest.fixture(scope="package")
def live_site(site_data, django_db_blocker):
    """A live server on 127.0.0.1 (with static files); yields its base URL."""
    from pytest_django.live_server_helper import LiveServer

    server = LiveServer("127.0.0.1")
    try:
        yield server.url
    finally:
        server.stop()
        with django_db_blocker.unblock():
            _close_server_connections()


def _close_server_connections():
    """End database sessions that request threads of the stopped server may still hold.

    Browsers keep connections alive, so a request thread (and its database session) can
    outlive ``server.stop()``; the flush and the drop of the test database would then wait
    for it or fail with "database is being accessed by other users".
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


@pytest.fixture
def db_access(django_db_blocker):
    """ORM access from a test in autocommit, so the live server sees what the test writes."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture(scope="package")
def browser(live_site):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread, and Django then refuses ORM
    # calls from test code ("async context"). Test code is synchronous, so allow them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_context(browser, live_site):
    """Factory for extra browser contexts (other viewport, other user); closed afterwards."""
    contexts = []

    def _new(**kwargs):
        options = {
            "base_url": live_site,
            "locale": "de-DE",
            "timezone_id": "Europe/Berlin",
            "viewport": {"width": 1280, "height": 900},
            **kwargs,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        # the first search in a fresh process loads the embedding model (several seconds)
        context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
        contexts.append(context)
        return context

    yield _new
    for context in contexts:
        context.close()


@pytest.fixture
def context(new_context):
    return new_context()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.e2e_failed = report.failed
    return report


@pytest.fixture
def page(context, request):
    """A fresh page; JavaScript errors on it fail the test; a failure leaves a screenshot."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    if getattr(request.node, "e2e_failed", False):
        screenshot(page, f"fehlgeschlagen-{request.node.name}")
    assert not errors, f"JavaScript errors in the page: {errors}"


@pytest.fixture
def page_url(db_access):
    """URL path of a demo page by its external_id: ``page_url("prot-rahden-1")``."""
    from knowledge.models import KnowledgePage

    def _url(external_id: str) -> str:
        return KnowledgePage.objects.get(external_id=external_id).url

    return _url


# Pages embedded for the search and matching journeys (all others get full text only):
# the targets of the journeys, a few neighbours, and the restricted protocols (so that a
# leak through the vector search would show).
EMBEDDED_PAGES = [
    "bp-preussisch-oldendorf-phishing-uebungen", "lesson-huellhorst-kompromittiertes-postfach",
    "bp-leopoldshoehe-posteingang-buergerbuero", "lesson-bad-salzuflen-scanstelle",
    "bp-kreis-minden-luebbecke-ki-postklassifikation", "proj-bad-salzuflen-eakte-2022",
    "bp-enger-wissensstafette", "bp-buende-online-terminvergabe",
    "bp-stemwede-notfallhandbuch-uebung", "lesson-espelkamp-teams-wildwuchs",
    "prot-rahden-4", "prot-rahden-5",
]


@pytest.fixture(scope="package")
def search_index(live_site, django_db_blocker):
    """The semantic search index for the journeys: full text for every page, vectors for a few.

    Embedding all demo pages takes minutes on a CPU, so only ``EMBEDDED_PAGES`` get vectors.
    """
    try:
        from search.indexing.writer import index_pages
    except ImportError as exc:
        pytest.skip(f"Suchindex (search.indexing) noch nicht vorhanden: {exc}")
    from knowledge.models import KnowledgePage

    with django_db_blocker.unblock():
        all_ids = list(KnowledgePage.objects.live().values_list("pk", flat=True))
        index_pages(all_ids, without_vectors=True)
        embedded = KnowledgePage.objects.filter(external_id__in=EMBEDDED_PAGES)
        embedded = list(embedded.values_list("pk", flat=True))
        result = index_pages(embedded)
        assert not result.failed, result
    return result
