"""Access control of the cross-municipality surfaces, tested like ``test_access_matrix``.

The same corpus (public pages in Lemgo, Detmold and Rahden; secret pages of "Geheimstadt" that
only some viewers or nobody may see) plus two secret roadmaps: one under the public project,
restricted to logged-in members, and one under the project restricted to the Redaktion. For
every viewer, the municipality list and profiles (including "Kommunen mit ähnlichen
Vorhaben", checked with a cache warmed by a privileged viewer first), the matrix and the
roadmap comparison reveal no page the viewer may not see, not even as a count.
"""

from __future__ import annotations

import re

import pytest
from bs4 import BeautifulSoup
from django.test import TestCase
from wagtail.models import PageViewRestriction

from tests.conftest import record
from tests.test_access_matrix import (
    LOGGED_IN,
    PRIVILEGED,
    SHARED_TEXT,
    VIEWERS,
    Secret,
    _import,
    _page,
    assert_hidden,
    assert_shown,
    client_for,
    fresh_cache,  # noqa: F401 - autouse fixture
)
from tests.test_access_matrix import world as base_world  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db


def _roadmap(word: str, project: str) -> dict:
    return record("roadmap", external_id=f"geheim-{word.lower()}", title=f"Zeitstrahl {word}",
                  municipality="Geheimstadt", topics=["Netzausbau"], date="2024-03-01",
                  summary=f"{word}: {SHARED_TEXT}", project=project, steps=[
                      {"year": 2024, "half": 1, "title": f"Bündel {word}",
                       "change_module": {"title": f"Change {word}"},
                       "measures": [{"title": f"Maßnahme {word}", "topic": "Netzausbau",
                                     "status": "laufend"}]}])


@pytest.fixture(scope="module")
def world(base_world, django_db_blocker):  # noqa: F811
    """The access-matrix corpus plus the two secret roadmaps (inside its transaction)."""
    with django_db_blocker.unblock(), TestCase.captureOnCommitCallbacks(execute=True):
        _import(_roadmap("Rohrdommel", "pub-projekt"), _roadmap("Zwergtaucher",
                                                                "geheim-bergmolch"))
        PageViewRestriction.objects.create(page=_page("geheim-rohrdommel"),
                                           restriction_type=PageViewRestriction.LOGIN)
    for key, word, allowed in (("roadmap_login", "Rohrdommel", LOGGED_IN),
                               ("roadmap_project", "Zwergtaucher", PRIVILEGED)):
        page = _page(f"geheim-{word.lower()}")
        base_world.secrets[key] = Secret(key, word, allowed, title=page.title, url=page.url,
                                         external_id=page.external_id, page_id=page.pk,
                                         kind="roadmap")
    return base_world


def _live_secrets(world, viewer) -> int:
    """Pages of Geheimstadt the viewer may see (all secrets are in Geheimstadt)."""
    return len(world.allowed(viewer))


def _similar_names(html: str) -> list[str]:
    section = BeautifulSoup(html, "html.parser").select_one(".similar-municipalities")
    return [li.a.get_text(strip=True) for li in section.select(":scope > ul > li")]


def test_roadmap_pages_themselves(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for key in ("roadmap_login", "roadmap_project"):
            secret = world.secrets[key]
            response = client.get(secret.url)
            if viewer in secret.allowed:
                assert response.status_code == 200, (viewer, key)
                assert f"Maßnahme {secret.word}" in response.content.decode()
            else:
                assert response.status_code in (302, 403, 404), (viewer, key)
                assert secret.word not in response.content.decode()


def test_municipality_list_counts_only_visible_material(world):
    for viewer in VIEWERS:
        response = client_for(world, viewer).get("/kommunen/")
        assert response.status_code == 200
        assert_hidden(world, viewer, response.content.decode(), "/kommunen/")
        rows = {row.municipality.name: row.material
                for row in response.context["municipalities"].rows}
        assert rows["Geheimstadt"] == _live_secrets(world, viewer), viewer
        assert rows["Lemgo"] == 2
        topic = client_for(world, viewer).get("/kommunen/?thema=netzausbau")
        listed = [row.municipality.name for row in topic.context["municipalities"].rows]
        assert listed == (["Geheimstadt"] if _live_secrets(world, viewer) else []), viewer


def test_profiles_show_only_visible_material(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        html = client.get("/kommunen/geheimstadt/").content.decode()
        assert_hidden(world, viewer, html, "/kommunen/geheimstadt/")
        # Positive control: every visible page except protocols is listed on the profile.
        assert_shown(world, viewer, html, "profile", keys={"group", "moved", "project",
                                                           "roadmap_login", "roadmap_project"})
        for slug in ("lemgo", "detmold", "rahden"):
            response = client.get(f"/kommunen/{slug}/")
            assert response.status_code == 200
            assert_hidden(world, viewer, response.content.decode(), f"/kommunen/{slug}/")


def test_similar_municipalities_with_a_warm_cache(world):
    """Similar municipalities computed for a privileged viewer never reach the others, and
    pages a viewer may not see never shape the list."""
    privileged = client_for(world, "superuser").get("/kommunen/detmold/").content.decode()
    assert "Geheimstadt" in _similar_names(privileged)  # positive control
    client_for(world, "superuser").get("/kommunen/geheimstadt/")
    for viewer in ("redaktion", "kommune", "beratung", "ohne_gruppe", "anonymous"):
        client = client_for(world, viewer)
        html = client.get("/kommunen/detmold/").content.decode()
        assert_hidden(world, viewer, html, "similar on /kommunen/detmold/ (warm cache)")
        if not _live_secrets(world, viewer):
            assert "Geheimstadt" not in _similar_names(html), viewer
            own = client.get("/kommunen/geheimstadt/").content.decode()
            assert _similar_names(own) == [], viewer  # no visible page, no query vector


def test_matrix_counts_only_visible_material(world):
    for viewer in VIEWERS:
        response = client_for(world, viewer).get("/uebersicht/")
        html = response.content.decode()
        assert_hidden(world, viewer, html, "/uebersicht/")
        matrix = response.context["matrix"]
        rows = {row.municipality.name: row for row in matrix.rows}
        topics = [t.name for t in matrix.topics]
        expected = _live_secrets(world, viewer)
        if expected:
            cell = rows["Geheimstadt"].cells[topics.index("Netzausbau")]
            assert cell.count == expected == rows["Geheimstadt"].total.count, viewer
            # The link leads to exactly as many pages.
            listing = client_for(world, viewer).get(cell.url).context["listing"]
            assert listing.page_obj.paginator.count == expected
        else:
            assert "Geheimstadt" not in rows and "Netzausbau" not in topics, viewer
            assert not re.search(r"Geheimstadt|Netzausbau", html), viewer


def test_roadmap_comparison(world):
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        for url in ("/zeitstrahl/", "/zeitstrahl/?kommune=geheimstadt",
                    "/zeitstrahl/?thema=netzausbau", "/zeitstrahl/?kommune=lemgo"):
            response = client.get(url)
            assert response.status_code == 200
            html = response.content.decode()
            assert_hidden(world, viewer, html, url)
            for key in ("roadmap_login", "roadmap_project"):
                secret = world.secrets[key]
                shown = f"Maßnahme {secret.word}" in html
                if url in ("/zeitstrahl/", "/zeitstrahl/?thema=netzausbau"):
                    assert shown == (viewer in secret.allowed), (viewer, url, key)
                else:
                    assert not shown or viewer in secret.allowed


def test_project_report_pdf(world):
    """The Abschlussbericht of the public project holds exactly what the reader may see (its
    login protocol, its Redaktion-only best practice and its login roadmap are secrets)."""
    import io

    from pypdf import PdfReader

    project = world.public["pub-projekt"]
    restricted = world.secrets["project"]
    for viewer in VIEWERS:
        client = client_for(world, viewer)
        response = client.get(f"/abschlussbericht/{project.pk}/")
        assert response.status_code == 200, viewer
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        text = " ".join(text.split())
        for key in ("login", "group", "roadmap_login"):
            secret = world.secrets[key]
            assert (secret.word in text) == (viewer in secret.allowed), (viewer, key)
        response = client.get(f"/abschlussbericht/{restricted.page_id}/")
        assert response.status_code == (200 if viewer in restricted.allowed else 404), viewer
