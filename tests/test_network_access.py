"""The network surfaces against every kind of viewer, as in ``test_access_matrix.py``.

Two restricted pages, each with a secret word: one for logged-in members, one for the group
Redaktion. For anonymous visitors, a Kommune member, a Beratung member (another group) and the
Redaktion: feeds never show either; promotions, feedback, project subscriptions and digests
show a page exactly to the viewers who may view it.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from wagtail.contrib.search_promotions.models import Query, SearchPromotion
from wagtail.models import PageViewRestriction

from network.digests import send_digests
from network.models import Subscription
from tests.network_fixtures import *  # noqa: F403
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
VIEWERS = ("anonymous", "kommune", "beratung", "redaktion")
ALLOWED = {"members": {"kommune", "beratung", "redaktion"}, "redaktion": {"redaktion"}}


@pytest.fixture
def world(indexed_page, user_in):
    pages = {
        "members": indexed_page("project", title="Quittenmarmelade Projekt",
                                topics=["Breitband"]),
        "redaktion": indexed_page("project", title="Zitronenfalter Projekt",
                                  topics=["Breitband"]),
        "public": indexed_page("project", title="Öffentliches Projekt", topics=["Breitband"]),
    }
    PageViewRestriction.objects.create(page=pages["members"],
                                       restriction_type=PageViewRestriction.LOGIN)
    restriction = PageViewRestriction.objects.create(
        page=pages["redaktion"], restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    users = {name: user_in(name.capitalize(), email=f"{name}@kommune.example")
             for name in VIEWERS if name != "anonymous"}
    query = Query.get("projekt")
    for n, key in enumerate(("members", "redaktion", "public")):
        SearchPromotion.objects.create(query=query, page=pages[key], sort_order=n)
    return pages, users


def _client(client, users, viewer):
    if viewer != "anonymous":
        client.force_login(users[viewer])
    return client


SECRET_TITLES = {"members": "Quittenmarmelade", "redaktion": "Zitronenfalter"}


@pytest.mark.parametrize("viewer", VIEWERS)
def test_feeds(client, world, viewer):
    pages, users = world
    client = _client(client, users, viewer)
    for url in ("/feeds/alle/", "/feeds/thema/breitband/", "/feeds/kommune/lemgo/"):
        body = client.get(url).content.decode()
        assert "Öffentliches Projekt" in body
        for key, word in SECRET_TITLES.items():
            assert word not in body and pages[key].url not in body


@pytest.mark.parametrize("viewer", VIEWERS)
def test_promotions(client, world, viewer):
    users = world[1]
    html = _client(client, users, viewer).get("/suche/", {"q": "Projekt"}).content.decode()
    promoted = html.split('id="promotions-heading"')[1].split("</section>")[0]
    assert "Öffentliches Projekt" in promoted
    for key, word in SECRET_TITLES.items():
        assert (word in promoted) == (viewer in ALLOWED[key])


@pytest.mark.parametrize("viewer", VIEWERS)
def test_feedback(client, world, viewer):
    pages, users = world
    client = _client(client, users, viewer)
    for key in SECRET_TITLES:
        response = client.post("/netz/rueckmeldung/", {"seite": pages[key].pk,
                                                      "hilfreich": "ja", "herkunft": "seite"})
        assert response.status_code == (302 if viewer in ALLOWED[key] else 404)


@pytest.mark.parametrize("viewer", [v for v in VIEWERS if v != "anonymous"])
def test_project_subscriptions(client, world, viewer):
    pages, users = world
    client = _client(client, users, viewer)
    form = client.get("/netz/benachrichtigungen/").content.decode()
    for key, word in SECRET_TITLES.items():
        assert (word in form) == (viewer in ALLOWED[key])
        status = client.post("/netz/benachrichtigungen/neu/",
                             {"projekt": pages[key].pk}).status_code
        assert status == (302 if viewer in ALLOWED[key] else 400)


def test_digests(world, smtp_server):
    pages, users = world
    for user in users.values():
        Subscription.objects.create(user=user, kind="thema",
                                    topic=pages["public"].topics.first())
    assert send_digests(timezone.now() + dt.timedelta(seconds=5)).sent == len(users)
    for viewer, user in users.items():
        [message] = smtp_server.to(user.email)
        text = message.as_string()
        assert "Öffentliches Projekt" in message.get_body(("plain",)).get_content()
        for key, word in SECRET_TITLES.items():
            body = message.get_body(("plain",)).get_content()
            assert (word in body) == (viewer in ALLOWED[key]), (viewer, key)
            if viewer not in ALLOWED[key]:
                assert pages[key].url not in text
