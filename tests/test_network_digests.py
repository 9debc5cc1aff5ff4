"""Subscriptions and e-mail digests, sent through a real SMTP server on loopback.

What a member may view is decided at sending time; a digest is sent once per period, a crash
mid-run loses nothing and resends nothing that was committed; unsubscribe tokens are signed,
expire and work once.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import signing
from django.test import Client
from django.utils import timezone
from wagtail.models import PageViewRestriction

from network import digests
from network.changes import record_publication
from network.digests import send_digests
from network.matching import matching_pages
from network.models import Digest, DigestSettings, PageChange, QueryLog, Subscription
from network.tokens import make_token
from tests.network_fixtures import *  # noqa: F403
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db
LATER = dt.timedelta(seconds=5)


@pytest.fixture
def member(user_in):
    def _make(group="Kommune", **kwargs):
        n = kwargs.pop("n", "")
        return user_in(group, email=kwargs.pop("email", f"mitglied{n}@kommune.example"),
                       first_name="Maria", **kwargs)
    return _make


def follow(user, **kwargs) -> Subscription:
    from knowledge.models import Municipality, Topic

    if "topic" in kwargs:
        kwargs = {"kind": "thema", "topic": Topic.objects.get(name=kwargs["topic"])}
    elif "municipality" in kwargs:
        kwargs = {"kind": "kommune",
                  "municipality": Municipality.objects.get(name=kwargs["municipality"])}
    elif "project" in kwargs:
        kwargs = {"kind": "projekt", "project": kwargs["project"]}
    else:
        kwargs = {"kind": "suche", **kwargs}
    return Subscription.objects.create(user=user, **kwargs)


def window():
    now = timezone.now()
    return now - dt.timedelta(days=1), now + LATER


# --- Matching ---------------------------------------------------------------------------


def test_topic_municipality_and_project_subscriptions(make_page, member):
    user = member()
    project = make_page("project", title="Glasfaser Lemgo", municipality="Lemgo",
                        topics=["Breitband"])
    protocol = make_page("session_protocol", project=project.external_id,
                         title="Sitzung 1", municipality="Lemgo", topics=["Tiefbau"])
    other = make_page("lesson_learned", title="E-Akte Rahden", municipality="Rahden",
                      topics=["E-Akte"])
    make_page("best_practice", title="Nichts für Maria", municipality="Detmold",
              topics=["Friedhof"])
    follow(user, topic="Breitband")
    assert [i["page"].title for i in matching_pages(user, *window())] == ["Glasfaser Lemgo"]
    follow(user, project=project)
    follow(user, municipality="Rahden")
    items = {i["page"].title: i for i in matching_pages(user, *window())}
    assert set(items) == {"Glasfaser Lemgo", "Sitzung 1", "E-Akte Rahden"}
    assert len(items["Glasfaser Lemgo"]["reasons"]) == 2  # topic and project
    assert items["Sitzung 1"]["kind"] == "neu"
    assert protocol.pk and other.pk


def test_saved_search_with_filters(indexed_page, member):
    user = member()
    indexed_page("lesson_learned", title="Schulungen zur E-Akte", municipality="Lemgo",
                 summary="Wie wir die Beschäftigten für die E-Akte geschult haben.")
    indexed_page("lesson_learned", title="E-Akte in Rahden", municipality="Rahden",
                 summary="Die E-Akte und ihre Schulungen in Rahden.")
    indexed_page("lesson_learned", title="Friedhofsverwaltung", municipality="Lemgo",
                 summary="Grabstellen digital verwalten.")
    follow(user, query="E-Akte Schulung", filters={"kommune": ["lemgo"]})
    titles = [i["page"].title for i in matching_pages(user, *window())]
    assert titles == ["Schulungen zur E-Akte"]


def test_small_edits_are_not_announced_but_substantial_ones_are(make_page, member):
    page = make_page("lesson_learned", title="Bürgerportal", summary="Ein Satz. " * 30)
    assert PageChange.objects.filter(page=page).count() == 1
    page.summary = page.summary.replace("Ein Satz.", "Ein  Satz.", 1) + " Komma,"
    page.save_revision().publish()
    assert PageChange.objects.filter(page=page).count() == 1
    page.summary = "Alles neu geschrieben: das Portal wurde komplett umgebaut. " * 10
    page.save_revision().publish()
    kinds = list(PageChange.objects.filter(page=page).values_list("kind", flat=True))
    assert kinds == ["neu", "aktualisiert"]
    assert record_publication(page) is None  # republishing the same text again


def test_changes_outside_the_window_do_not_match(make_page, member):
    user = member()
    make_page("lesson_learned", topics=["Breitband"])
    follow(user, topic="Breitband")
    now = timezone.now()
    assert matching_pages(user, now + LATER, now + 2 * LATER) == []


# --- Sending ------------------------------------------------------------------------------


def _text_and_html(message):
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return plain, html


def test_digest_is_sent_once_with_text_html_and_unsubscribe_headers(make_page, member,
                                                                    smtp_server):
    user = member()
    page = make_page("lesson_learned", title="Glasfaser für Schulen", topics=["Breitband"])
    follow(user, topic="Breitband")
    report = send_digests(timezone.now() + LATER)
    assert (report.sent, report.failed) == (1, 0)
    [message] = smtp_server.to(user.email)
    assert "1 neue Seite für Sie" in message["Subject"]
    plain, html = _text_and_html(message)
    assert "Guten Tag Maria" in plain and "Glasfaser für Schulen" in plain
    assert f"http://testserver{page.url}" in plain and f'href="http://testserver{page.url}"' in html
    assert "Weil Sie folgen: Thema: Breitband" in plain
    unsubscribe = re.search(r"<(http://testserver/netz/abmelden/[^>]+/)>",
                            message["List-Unsubscribe"]).group(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in plain
    assert message["Message-ID"].startswith("<digest-")
    # Idempotent: running again (same period or just later) sends nothing.
    assert send_digests(timezone.now() + 2 * LATER).sent == 0
    assert send_digests(timezone.now() + dt.timedelta(hours=3)).sent == 0
    assert len(smtp_server.to(user.email)) == 1
    digest = Digest.objects.get(user=user)
    assert (digest.status, digest.page_count) == ("gesendet", 1)


def _first_daily_digest_sent(make_page, member):
    """A daily member following "Breitband" got a digest with "Erste Lektion"; returns the
    member and the time of that digest."""
    user = member()
    DigestSettings.objects.create(user=user, frequency="taeglich")
    make_page("lesson_learned", title="Erste Lektion", topics=["Breitband"])
    follow(user, topic="Breitband")
    first = timezone.now() + LATER
    assert send_digests(first).sent == 1
    return user, first


@pytest.mark.parametrize(("kinds", "reviews", "subject"), [
    (["neu"], 0, "Wissensnetz: 1 neue Seite für Sie"),
    (["aktualisiert"], 0, "Wissensnetz: 1 aktualisierte Seite für Sie"),
    (["neu", "aktualisiert"], 1,
     "Wissensnetz: 2 neue oder aktualisierte Seiten für Sie · 1 Seite zu prüfen"),
    ([], 2, "Wissensnetz: 2 Seiten zu prüfen"),
])
def test_subject_says_what_the_digest_holds(kinds, reviews, subject):
    from django.template.loader import render_to_string

    rendered = render_to_string("network/email/digest_subject.txt", {
        "site_name": "Wissensnetz", "items": [{"kind": kind} for kind in kinds],
        "review_count": reviews}).strip()
    assert rendered == subject


def test_next_period_brings_only_new_material(make_page, member, smtp_server):
    user, first = _first_daily_digest_sent(make_page, member)
    page = make_page("lesson_learned", title="Zweite Lektion", topics=["Breitband"])
    PageChange.objects.filter(page=page).update(changed_at=first + dt.timedelta(hours=5))
    assert send_digests(first + dt.timedelta(hours=12)).sent == 0  # not a day yet
    assert send_digests(first + dt.timedelta(days=1)).sent == 1
    second = smtp_server.to(user.email)[1]
    plain, _ = _text_and_html(second)
    assert "Zweite Lektion" in plain and "Erste Lektion" not in plain


def test_change_committed_after_its_window_was_sent_comes_next(make_page, member,
                                                               smtp_server):
    """An import publishing while digests go out commits changes stamped inside a window
    already sent: the next digest looks back for changes no earlier digest considered."""
    user, first = _first_daily_digest_sent(make_page, member)
    late = make_page("lesson_learned", title="Spät bestätigt", topics=["Breitband"])
    PageChange.objects.filter(page=late).update(changed_at=first - dt.timedelta(minutes=10))
    assert send_digests(first + dt.timedelta(days=1)).sent == 1
    plain, _ = _text_and_html(smtp_server.to(user.email)[1])
    assert "Spät bestätigt" in plain and "Erste Lektion" not in plain  # nothing twice
    assert send_digests(first + dt.timedelta(days=2)).sent == 0


def test_page_waiting_for_the_index_is_announced_once_it_is_indexed(make_page, member,
                                                                     smtp_server):
    from search.models import PageIndexState

    user = member()
    DigestSettings.objects.create(user=user, frequency="taeglich")
    page = make_page("lesson_learned", title="Noch nicht im Index", topics=["Breitband"])
    state, _ = PageIndexState.objects.update_or_create(page_id=page.pk,
                                                       defaults={"status": "pending"})
    follow(user, topic="Breitband")
    first = timezone.now() + LATER
    assert send_digests(first).sent == 0
    state.status = "indexed"
    state.save()
    assert send_digests(first + dt.timedelta(days=1)).sent == 1
    assert "Noch nicht im Index" in _text_and_html(smtp_server.to(user.email)[0])[0]


def test_page_the_model_could_not_embed_is_announced_all_the_same(indexed_page, member,
                                                                   model_unavailable,
                                                                   smtp_server):
    """Pending, but with its full-text passages written: nothing to wait for (a model down
    for days must not hold the digests back until the look-back has passed)."""
    from search.models import PageIndexState

    user = member()
    page = indexed_page("lesson_learned", title="Ohne Vektoren", topics=["Breitband"])
    assert PageIndexState.objects.get(page_id=page.pk).status == "pending"
    follow(user, topic="Breitband")
    assert send_digests(timezone.now() + LATER).sent == 1


def test_saved_search_is_tested_on_the_changed_pages_not_the_sites_best(indexed_page, member,
                                                                         settings):
    """With the word common in the network, a new page outside the site's best candidates
    was never announced to a saved search."""
    user = member()
    for n in range(3):
        indexed_page("lesson_learned", title=f"Breitband Breitband Ausbau {n}",
                     summary="Breitband im Kreis: Breitband, Breitband und noch mehr Breitband.")
    PageChange.objects.update(changed_at=timezone.now() - dt.timedelta(days=30))
    indexed_page("lesson_learned", title="Friedhofsverwaltung",
                 summary="Grabstellen digital verwalten, nebenbei auch Breitband.")
    settings.KNOWLEDGE_SEARCH_FULLTEXT_CANDIDATES = 2
    follow(user, query="Breitband")
    assert [i["page"].title for i in matching_pages(user, *window())] == ["Friedhofsverwaltung"]


def test_switching_digests_back_on_starts_from_now(client, make_page, member, smtp_server):
    """After months of "keine E-Mails" the first digest announced everything published
    meanwhile."""
    user = member()
    DigestSettings.objects.create(user=user, frequency="nie",
                                  covered_until=timezone.now() - dt.timedelta(days=180))
    make_page("lesson_learned", title="Aus der Pause", topics=["Breitband"])
    PageChange.objects.update(changed_at=timezone.now() - dt.timedelta(days=100))
    follow(user, topic="Breitband")
    client.force_login(user)
    response = client.post("/netz/benachrichtigungen/",
                           {"aktion": "rhythmus", "frequency": "taeglich"})
    assert response.status_code == 302
    assert send_digests(timezone.now() + dt.timedelta(days=1)).sent == 0
    assert smtp_server.to(user.email) == []


def test_hourly_runs_keep_the_daily_digest_at_its_hour(member):
    """Due two hours early by the tolerance, each digest moved the next one two hours earlier,
    until all went out at midnight."""
    user = member()
    DigestSettings.objects.create(user=user, frequency="taeglich")
    follow(user, query="Breitband")
    first = timezone.make_aware(dt.datetime(2026, 12, 7, 9, 0))  # a Monday, local time
    for hour in range(24 * 6):
        send_digests(first + dt.timedelta(hours=hour))
    ends = [timezone.localtime(end) for end in Digest.objects.filter(user=user)
            .order_by("window_end").values_list("window_end", flat=True)]
    assert [end.hour for end in ends] == [9, 7, 7, 7, 7, 7, 7]  # one per day, Monday to Sunday


def test_switching_from_weekly_to_daily_brings_the_next_digest_within_a_day(
        client, make_page, member, smtp_server):
    user = member()
    DigestSettings.objects.create(user=user, frequency="woechentlich")
    make_page("lesson_learned", title="Erste Lektion", topics=["Breitband"])
    follow(user, topic="Breitband")
    first = timezone.now() + LATER
    assert send_digests(first).sent == 1  # the weekly schedule: next one in seven days
    client.force_login(user)
    client.post("/netz/benachrichtigungen/", {"aktion": "rhythmus", "frequency": "taeglich"})
    page = make_page("lesson_learned", title="Zweite Lektion", topics=["Breitband"])
    PageChange.objects.filter(page=page).update(changed_at=first + dt.timedelta(hours=5))
    assert send_digests(first + dt.timedelta(days=1)).sent == 1


def test_nothing_new_sends_nothing(member, make_page, smtp_server):
    user = member()
    make_page("lesson_learned", topics=["Breitband"], date="2020-01-01")
    PageChange.objects.update(changed_at=timezone.now() - dt.timedelta(days=30))
    follow(user, topic="Breitband")
    make_page("lesson_learned", topics=["E-Akte"])
    report = send_digests(timezone.now() + LATER)
    assert (report.sent, report.empty) == (0, 1)
    assert smtp_server.messages == []


def test_permissions_are_checked_at_sending_time(make_page, member, user_in, smtp_server):
    kommune = member(n=1)
    redaktion = member("Redaktion", n=2)
    public = make_page("lesson_learned", title="Öffentliche Lektion", topics=["Breitband"])
    later_secret = make_page("lesson_learned", title="Später geheim", topics=["Breitband"])
    for user in (kommune, redaktion):
        follow(user, topic="Breitband")  # the topic exists once a page names it
    # Restricted to the Redaktion after it was published (and announced as new).
    restriction = PageViewRestriction.objects.create(
        page=later_secret, restriction_type=PageViewRestriction.GROUPS)
    from django.contrib.auth.models import Group

    restriction.groups.add(Group.objects.get(name="Redaktion"))
    unpublished = make_page("lesson_learned", title="Zurückgezogen", topics=["Breitband"])
    unpublished.unpublish()
    send_digests(timezone.now() + LATER)
    plain_k, html_k = _text_and_html(smtp_server.to(kommune.email)[0])
    plain_r, _ = _text_and_html(smtp_server.to(redaktion.email)[0])
    assert public.title in plain_k
    for hidden in ("Später geheim", later_secret.url_path, "Zurückgezogen"):
        assert hidden not in plain_k and hidden not in html_k
    assert "Später geheim" in plain_r and "Zurückgezogen" not in plain_r


def test_inactive_members_and_members_without_email_get_nothing(make_page, member,
                                                                smtp_server):
    inactive = member(n=1, is_active=False)
    no_mail = member(n=2, email="")
    make_page("lesson_learned", topics=["Breitband"])
    for user in (inactive, no_mail):
        follow(user, topic="Breitband")
    assert send_digests(timezone.now() + LATER).sent == 0
    assert smtp_server.messages == []


def test_refused_recipient_stays_pending_and_is_sent_next_run(make_page, member,
                                                               smtp_server):
    first, second = member(n=1), member(n=2)
    make_page("lesson_learned", topics=["Breitband"])
    for user in (first, second):
        follow(user, topic="Breitband")
    smtp_server.refuse.add(second.email)
    report = send_digests(timezone.now() + LATER)
    assert (report.sent, report.failed) == (1, 1)
    assert Digest.objects.get(user=second).status == "offen"
    smtp_server.refuse.clear()
    report = send_digests(timezone.now() + 2 * LATER)
    assert (report.sent, report.failed) == (1, 0)
    assert len(smtp_server.to(first.email)) == 1
    assert len(smtp_server.to(second.email)) == 1


def test_crash_mid_run_resends_nothing_twice_and_loses_nothing(make_page, member,
                                                                smtp_server, monkeypatch):
    users = [member(n=n) for n in range(3)]
    make_page("lesson_learned", title="Wichtige Lektion", topics=["Breitband"])
    for user in users:
        follow(user, topic="Breitband")
    real_build = digests.build_message
    calls = []

    def dying_build(user, *args, **kwargs):
        calls.append(user.pk)
        if len(calls) == 2:
            raise KeyboardInterrupt("the process is killed")
        return real_build(user, *args, **kwargs)

    monkeypatch.setattr(digests, "build_message", dying_build)
    with pytest.raises(KeyboardInterrupt):
        send_digests(timezone.now() + LATER)
    assert len(smtp_server.messages) == 1
    monkeypatch.setattr(digests, "build_message", real_build)
    report = send_digests(timezone.now() + 2 * LATER)
    assert report.sent == 2
    assert sorted(len(smtp_server.to(u.email)) for u in users) == [1, 1, 1]
    for user in users:
        assert "Wichtige Lektion" in _text_and_html(smtp_server.to(user.email)[0])[0]


def test_review_reminder_goes_to_the_owner(make_page, member, smtp_server):
    owner = member(n=1)
    page = make_page("lesson_learned", title="Alte Lektion")
    page.owner = owner
    page.review_by = timezone.localdate() - dt.timedelta(days=1)
    page.save()
    fresh = make_page("lesson_learned", title="Frische Lektion")
    fresh.owner = owner
    fresh.review_by = timezone.localdate() + dt.timedelta(days=30)
    fresh.save()
    assert send_digests(timezone.now() + LATER).sent == 1
    message = smtp_server.to(owner.email)[0]
    assert "1 Seite zu prüfen" in message["Subject"]
    plain, html = _text_and_html(message)
    assert "Aktualität prüfen" in plain and "Alte Lektion" in plain
    assert "Frische Lektion" not in plain
    assert f"/admin/pages/{page.pk}/edit/" in html


def test_no_review_reminder_for_a_page_the_owner_may_no_longer_edit(make_page, member,
                                                                   smtp_server):
    owner = member(n=1)
    page = make_page("lesson_learned", title="Alte Lektion")
    page.owner = owner
    page.review_by = timezone.localdate() - dt.timedelta(days=1)
    page.save()
    owner.groups.clear()  # left the network's groups: the page is no longer theirs to edit
    page.title = "Vertrauliche Neubewertung"
    page.save_revision().publish()
    assert send_digests(timezone.now() + LATER).sent == 0
    assert smtp_server.to(owner.email) == []
    assert Digest.objects.get(user=owner).status == Digest.Status.EMPTY


@pytest.fixture
def lemgo_team(member):
    """A Lemgo lesson due for review, its author, a Lemgo colleague and a Detmold member."""
    from knowledge.models import Municipality, MunicipalityMember

    def place(user, name):
        MunicipalityMember.objects.create(
            user=user, municipality=Municipality.objects.get_or_create(name=name)[0])
        return user

    return lambda make_page: _due_lesson(make_page, place(member(n=1), "Lemgo"),
                                         place(member(n=2), "Lemgo"),
                                         place(member(n=3), "Detmold"))


def _due_lesson(make_page, author, colleague, neighbour):
    page = make_page("lesson_learned", title="Bürgerkonto: Erfahrungen aus dem Pilot")
    page.owner = author
    page.review_by = timezone.localdate() - dt.timedelta(days=1)
    page.save()
    return page, author, colleague, neighbour


@pytest.mark.parametrize("departure", ["deactivated", "deleted", "left the groups",
                                       "no e-mail address"])
def test_a_departed_authors_due_page_reminds_the_colleagues(make_page, lemgo_team,
                                                           smtp_server, departure):
    page, author, colleague, neighbour = lemgo_team(make_page)
    if departure == "deactivated":
        author.is_active = False
        author.save()
    elif departure == "deleted":
        author.delete()  # Wagtail keeps the page; its owner becomes empty
    elif departure == "no e-mail address":
        author.email = ""  # a digest can never reach this account
        author.save()
    else:
        author.groups.clear()
    assert send_digests(timezone.now() + LATER).sent == 1
    message = smtp_server.to(colleague.email)[0]
    assert "1 Seite zu prüfen" in message["Subject"]
    plain, html = _text_and_html(message)
    assert "hat niemand mehr im Blick" in plain and "Bürgerkonto: Erfahrungen" in plain
    assert f"/admin/pages/{page.pk}/edit/" in html
    assert smtp_server.to(neighbour.email) == []  # another municipality's page
    if departure != "deleted":
        assert smtp_server.to(author.email) == []


def test_colleagues_are_not_reminded_while_the_author_is(make_page, lemgo_team, smtp_server):
    _page, author, colleague, _neighbour = lemgo_team(make_page)
    assert send_digests(timezone.now() + LATER).sent == 1
    assert "Bürgerkonto: Erfahrungen" in _text_and_html(smtp_server.to(author.email)[0])[0]
    assert smtp_server.to(colleague.email) == []


def test_no_colleague_reminder_for_a_page_the_colleague_may_not_edit(make_page, lemgo_team,
                                                                    smtp_server):
    from django.contrib.auth.models import Group

    page, author, colleague, _neighbour = lemgo_team(make_page)
    author.is_active = False
    author.save()
    PageViewRestriction.objects.create(  # closed to the colleague's group
        page=page, restriction_type=PageViewRestriction.GROUPS).groups.set(
        [Group.objects.get(name="Redaktion")])
    assert send_digests(timezone.now() + LATER).sent == 0
    assert smtp_server.to(colleague.email) == []


def test_reasons_do_not_name_a_followed_project_the_member_may_no_longer_see(make_page,
                                                                             member):
    user = member(n=1)
    project = make_page("project", title="Geheimes Vorhaben Kranich")
    follow(user, project=project)
    make_page("session_protocol", project=project.external_id, title="Sitzung 1")
    project.unpublish()  # only the project: its protocol stays live and visible
    items = matching_pages(user, *window())
    assert [item["page"].title for item in items] == ["Sitzung 1"]
    assert items[0]["reasons"] == ["Projekt: ein Projekt, das Sie nicht mehr sehen können"]


# --- Unsubscribe ---------------------------------------------------------------------------


@pytest.fixture
def prefs(member):
    return DigestSettings.objects.create(user=member())


def test_unsubscribe_asks_on_get_and_unsubscribes_on_post(client, prefs):
    url = f"/netz/abmelden/{make_token(prefs)}/"
    response = client.get(url)
    assert response.status_code == 200 and "Ja, abbestellen" in response.content.decode()
    prefs.refresh_from_db()
    assert prefs.frequency == "woechentlich"  # link scanners must not unsubscribe
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert "Sie sind abgemeldet" in response.content.decode()
    prefs.refresh_from_db()
    assert prefs.frequency == "nie"


def test_reused_token_is_refused(client, prefs):
    url = f"/netz/abmelden/{make_token(prefs)}/"
    assert client.post(url).status_code == 200
    prefs.refresh_from_db()
    prefs.frequency = "taeglich"  # subscribed again
    prefs.save()
    response = client.post(url)
    assert response.status_code == 410
    assert "bereits verwendet" in response.content.decode()
    prefs.refresh_from_db()
    assert prefs.frequency == "taeglich"


def test_forged_token_is_refused(client, prefs):
    forged = signing.dumps({"u": prefs.user_id, "v": prefs.token_version}, salt="anders")
    for token in (forged, make_token(prefs)[:-2] + "xx", "kaputt"):
        response = client.post(f"/netz/abmelden/{token}/")
        assert response.status_code == 400
        assert "ungültig" in response.content.decode()
    prefs.refresh_from_db()
    assert prefs.frequency == "woechentlich"


def test_expired_token_is_refused(client, prefs, settings, monkeypatch):
    settings.KNOWLEDGE_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS = 10
    token = make_token(prefs)
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() + 11 * 86400)
    response = client.post(f"/netz/abmelden/{token}/")
    assert response.status_code == 410
    assert "abgelaufen" in response.content.decode()
    prefs.refresh_from_db()
    assert prefs.frequency == "woechentlich"


def test_send_digests_command(make_page, member, smtp_server, capsys):
    from django.core.management import call_command

    make_page("lesson_learned", topics=["Breitband"])
    follow(member(), topic="Breitband")
    old = QueryLog.objects.create(query="alt", normalized="alt", surface="suche",
                                       result_count=0)
    QueryLog.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=400))
    call_command("send_digests")
    out = capsys.readouterr().out
    assert "1 gesendet" in out and "1 alte Suchanfragen gelöscht" in out
    call_command("send_digests")
    assert "0 gesendet" in capsys.readouterr().out
    assert len(smtp_server.messages) == 1
