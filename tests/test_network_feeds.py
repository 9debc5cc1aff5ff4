"""Atom feeds: new material for everything public, per topic and per municipality.

Only pages an anonymous visitor may view appear, whoever fetches the feed (a logged-in
Redaktion member included): feed readers share feeds, and they are fetched without a login.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def corpus(make_page):
    project = make_page("project", title="Glasfaser Lemgo", municipality="Lemgo",
                        topics=["Breitband"])
    public = make_page("session_protocol", project=project.external_id,
                       title="Sitzung öffentlich", municipality="Lemgo", topics=["Breitband"])
    members = make_page("session_protocol", project=project.external_id,
                        title="Sitzung nur Mitglieder", municipality="Lemgo",
                        topics=["Breitband"])
    PageViewRestriction.objects.create(page=members, restriction_type=PageViewRestriction.LOGIN)
    group_only = make_page("best_practice", title="Praxis nur Redaktion", municipality="Rahden",
                           topics=["Breitband"])
    restriction = PageViewRestriction.objects.create(
        page=group_only, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    other = make_page("lesson_learned", title="E-Akte in Rahden", municipality="Rahden",
                      topics=["E-Akte"])
    draft = make_page("lesson_learned", title="Entwurf E-Akte", municipality="Rahden",
                      topics=["E-Akte"])
    draft.unpublish()
    return {"project": project, "public": public, "members": members,
            "group_only": group_only, "other": other, "draft": draft}


def _entries(response) -> list[str]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own feed, in a test)
    return [entry.find(f"{ATOM}title").text for entry in root.findall(f"{ATOM}entry")]


@pytest.mark.parametrize("viewer", ["anonymous", "redaktion"])
def test_feed_of_everything_holds_only_public_pages(client, corpus, user_in, viewer):
    if viewer == "redaktion":
        client.force_login(user_in("Redaktion"))
    titles = _entries(client.get("/feeds/alle/"))
    assert set(titles) == {"Glasfaser Lemgo", "Sitzung öffentlich", "E-Akte in Rahden"}
    body = client.get("/feeds/alle/").content.decode()
    for hidden in ("Sitzung nur Mitglieder", "Praxis nur Redaktion", "Entwurf E-Akte"):
        assert hidden not in body
        assert corpus[{"Sitzung nur Mitglieder": "members", "Praxis nur Redaktion":
                       "group_only", "Entwurf E-Akte": "draft"}[hidden]].url_path not in body


def test_topic_feed(client, corpus):
    assert set(_entries(client.get("/feeds/thema/breitband/"))) == {
        "Glasfaser Lemgo", "Sitzung öffentlich"}
    assert _entries(client.get("/feeds/thema/e-akte/")) == ["E-Akte in Rahden"]


def test_municipality_feed(client, corpus):
    assert _entries(client.get("/feeds/kommune/rahden/")) == ["E-Akte in Rahden"]
    entries = _entries(client.get("/feeds/kommune/lemgo/"))
    assert set(entries) == {"Glasfaser Lemgo", "Sitzung öffentlich"}


def test_feed_entries_link_to_pages_and_name_the_municipality(client, corpus):
    root = ET.fromstring(client.get("/feeds/thema/e-akte/").content)  # noqa: S314
    entry = root.find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}link").get("href").endswith(corpus["other"].url)
    assert entry.find(f"{ATOM}author/{ATOM}name").text == "Rahden"
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["E-Akte"]


def test_newest_first(client, make_page):
    make_page("lesson_learned", title="Alt")
    make_page("lesson_learned", title="Neu")
    assert _entries(client.get("/feeds/alle/"))[:2] == ["Neu", "Alt"]


def test_control_characters_in_a_page_do_not_break_the_feeds(client, make_page):
    # The admin lets them through; XML 1.0 has no place for them.
    page = make_page("lesson_learned", title="Lektion", topics=["Breitband"])
    page.title = "Lektion\x1f eins"
    page.summary = "Zeile eins\x0bZeile zwei"
    page.save_revision().publish()
    for url in ("/feeds/alle/", "/feeds/thema/breitband/",
                f"/feeds/kommune/{page.municipality.slug}/"):
        assert _entries(client.get(url)) == ["Lektion eins"], url


def test_unknown_topic_or_municipality_is_404(client, corpus):
    assert client.get("/feeds/thema/gibt-es-nicht/").status_code == 404
    assert client.get("/feeds/kommune/gibt-es-nicht/").status_code == 404
