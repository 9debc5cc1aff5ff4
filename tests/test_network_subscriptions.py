"""The member's "Benachrichtigungen" page: following, saved searches, rhythm, permissions."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from network.models import DigestSettings, Subscription
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
URL = "/netz/benachrichtigungen/"


@pytest.fixture
def member_client(client, user_in):
    user = user_in("Kommune", email="m@kommune.example")
    client.force_login(user)
    client.user = user
    return client


def test_login_required(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/anmelden/")
    assert client.post(URL + "neu/", {"thema": "x"}).status_code == 302
    assert not Subscription.objects.exists()


def test_follow_topic_municipality_and_project(member_client, make_page):
    project = make_page("project", title="Glasfaser Lemgo", topics=["Breitband"])
    for data in ({"thema": "breitband"}, {"kommune": "lemgo"}, {"projekt": project.pk}):
        response = member_client.post(URL + "neu/", {**data, "weiter": URL})
        assert response.status_code == 302
    html = member_client.get(URL).content.decode()
    for label in ("Thema: <strong>Breitband", "Kommune: <strong>Lemgo",
                  "Projekt: <strong>Glasfaser Lemgo"):
        assert label in html
    member_client.post(URL + "neu/", {"thema": "breitband"})
    assert Subscription.objects.count() == 3  # following twice keeps one
    assert "Dem folgen Sie bereits" in member_client.get(URL).content.decode()


def test_follow_button_on_a_protocol_page(member_client, make_page):
    project = make_page("project", title="Glasfaser Lemgo")
    protocol = make_page("session_protocol", project=project.external_id)
    html = member_client.get(protocol.url).content.decode()
    assert "Projekt „Glasfaser Lemgo“ folgen" in html
    assert "War das hilfreich?" in html


def test_saved_search_from_the_search_page(member_client, indexed_page):
    indexed_page("lesson_learned", title="E-Akte Schulung")
    html = member_client.get("/suche/", {"q": "E-Akte", "kommune": "lemgo"}).content.decode()
    assert "Dieser Suche folgen" in html
    response = member_client.post(URL + "neu/", {"q": "E-Akte", "filter_kommune": "lemgo",
                                                 "weiter": "/suche/?q=E-Akte"})
    assert response.status_code == 302 and response["Location"] == "/suche/?q=E-Akte"
    subscription = Subscription.objects.get()
    assert (subscription.kind, subscription.query, subscription.filters) == \
        ("suche", "E-Akte", {"kommune": ["lemgo"]})


def test_a_search_without_results_can_be_subscribed(member_client, indexed_page):
    """"Tell me when someone writes about it" matters most when nothing is there yet."""
    indexed_page("lesson_learned", title="E-Akte Schulung")
    html = member_client.get("/suche/", {"q": "Zzyzx", "modus": "fulltext"}).content.decode()
    assert "Dazu haben wir leider nichts gefunden" in html
    assert "Dieser Suche folgen" in html


def test_a_search_too_long_to_save_explains_instead_of_offering_the_button(
        member_client, indexed_page):
    """The button was offered for queries up to 1000 characters; saving refused over 300."""
    indexed_page("lesson_learned", title="E-Akte Schulung")
    query = "E-Akte Schulung " * 20  # 320 characters
    html = member_client.get("/suche/", {"q": query, "modus": "fulltext"}).content.decode()
    assert "Dieser Suche folgen" not in html
    assert "Einer Suche mit mehr als 300 Zeichen können Sie nicht folgen" in html


@pytest.mark.parametrize(("data", "message"), [
    ({}, "Bitte wählen Sie ein Thema, eine Kommune, ein Projekt"),
    ({"thema": "gibt-es-nicht"}, "Bitte eine gültige Auswahl treffen"),
    ({"q": "x", "filter_kommune": "Atlantis"}, "Atlantis"),
    ({"q": "x", "filter_von": "gestern"}, "Datum"),
    ({"q": "x" * 301}, "300"),
])
def test_invalid_subscriptions_get_a_german_message(member_client, make_page, data, message):
    make_page("lesson_learned")
    response = member_client.post(URL + "neu/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Subscription.objects.exists()


def test_two_choices_are_refused_not_one_dropped(member_client, make_page):
    """Topic and municipality chosen together: only the topic was followed, silently."""
    make_page("lesson_learned", topics=["Breitband"], municipality="Lemgo")
    response = member_client.post(URL + "neu/", {"thema": "breitband", "kommune": "lemgo",
                                                 "weiter": URL})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Bitte wählen Sie nur eines davon" in html
    assert '<option value="breitband" selected>' in html  # the choices stay for a correction
    assert '<option value="lemgo" selected>' in html
    assert not Subscription.objects.exists()


def test_restricted_project_cannot_be_followed(member_client, make_page):
    project = make_page("project", title="Geheimprojekt")
    restriction = PageViewRestriction.objects.create(
        page=project, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    response = member_client.post(URL + "neu/", {"projekt": project.pk})
    assert response.status_code == 400
    assert "Geheimprojekt" not in member_client.get(URL).content.decode()


def test_a_project_restricted_after_following_is_not_named(member_client, make_page):
    project = make_page("project", title="Glasfaser Lemgo")
    followed = member_client.post(URL + "neu/", {"projekt": project.pk}, follow=True)
    assert "Sie folgen jetzt: Projekt: Glasfaser Lemgo" in followed.content.decode()
    restriction = PageViewRestriction.objects.create(
        page=project, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    project.title = "Fusion mit der Nachbarkommune"
    project.save_revision().publish()
    html = member_client.get(URL).content.decode()
    assert "Fusion" not in html and "Glasfaser" not in html
    assert "Projekt: <strong>ein Projekt, das Sie nicht mehr sehen können" in html
    subscription = Subscription.objects.get()
    response = member_client.post(f"{URL}{subscription.pk}/loeschen/", follow=True)
    assert "Sie folgen nicht mehr" in response.content.decode()
    assert "Fusion" not in response.content.decode()
    assert not Subscription.objects.exists()


def test_control_characters_in_saved_search_filters_are_removed(member_client, make_page):
    make_page("lesson_learned")
    response = member_client.post(URL + "neu/", {"q": "E-Akte", "filter_kommune": "lem\x00go"})
    assert response.status_code == 302
    assert Subscription.objects.get().filters == {"kommune": ["lemgo"]}


def test_open_redirect_is_refused(member_client, make_page):
    make_page("lesson_learned", topics=["Breitband"])
    response = member_client.post(URL + "neu/", {"thema": "breitband",
                                                 "weiter": "https://boese.example/"})
    assert response["Location"] == URL


def test_delete_only_own_subscriptions(member_client, make_page, user_in):
    make_page("lesson_learned", topics=["Breitband"])
    member_client.post(URL + "neu/", {"thema": "breitband"})
    own = Subscription.objects.get()
    other = Subscription.objects.create(user=user_in("Kommune"), kind="thema",
                                        topic=own.topic)
    assert member_client.post(f"{URL}{other.pk}/loeschen/").status_code == 404
    assert member_client.post(f"{URL}{own.pk}/loeschen/").status_code == 302
    assert list(Subscription.objects.all()) == [other]


def test_rhythm(member_client):
    assert member_client.post(URL, {"aktion": "rhythmus", "frequency": "taeglich"}) \
        .status_code == 302
    assert DigestSettings.objects.get(user=member_client.user).frequency == "taeglich"
    response = member_client.post(URL, {"aktion": "rhythmus", "frequency": "stuendlich"})
    assert response.status_code == 400
    assert "Bitte eine gültige Auswahl treffen" in response.content.decode()
    assert member_client.post(URL, {"aktion": "unsinn"}).status_code == 400


def test_follow_after_the_session_expired_leads_back_to_the_settings(client, user_in):
    """The login returns with a GET to the POST-only action: a blank 405 before."""
    client.force_login(user_in("Kommune"))
    for url in ("/netz/benachrichtigungen/neu/", "/netz/benachrichtigungen/1/loeschen/"):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == "/netz/benachrichtigungen/"
        assert "Ihre Anmeldung war abgelaufen" in response.content.decode()


def test_saved_search_whose_filter_topic_was_deleted_says_so(member_client):
    from knowledge.models import Topic

    topic = Topic.objects.create(name="Wird gelöscht")
    Subscription.objects.create(user=member_client.user, kind="suche", query="Akte",
                                filters={"thema": [topic.slug]})
    assert "findet nichts mehr" not in member_client.get(URL).content.decode()
    topic.delete()
    html = member_client.get(URL).content.decode()
    assert "Diese gespeicherte Suche findet nichts mehr" in html


def test_an_invalid_choice_on_the_settings_page_keeps_the_form(member_client):
    """Errors led to "Das hat nicht geklappt" with a link to the start page: the form was
    gone and the typed saved search lost."""
    response = member_client.post(URL + "neu/", {"q": "x" * 301, "weiter": URL})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="thema"' in html and 'value="' + "x" * 301 + '"' in html
    assert 'id="id_q_error"' in html and 'aria-invalid="true"' in html
    assert "300" in html.split('id="id_q_error"')[1].split("</p>")[0]
    empty = member_client.post(URL + "neu/", {"weiter": URL}).content.decode()
    assert 'id="add-errors" role="alert"' in empty and "Bitte wählen Sie ein Thema" in empty


def test_an_invalid_follow_from_a_search_links_back(member_client):
    response = member_client.post(URL + "neu/", {"q": "x", "filter_kommune": "Atlantis",
                                                 "weiter": "/suche/?q=x"})
    assert response.status_code == 400
    assert 'href="/suche/?q=x">Zurück zur vorigen Seite' in response.content.decode()
