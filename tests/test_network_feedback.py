"""Feedback ("War das hilfreich?") and the query log, through the real views.

Covers validation (German messages, 400), permissions (404 for pages the visitor may not
view), CSRF, the rate limit (429), de-duplication per session, the query/rank of search and
matching results, the absence of personal data in the query log and its retention.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.models import PageViewRestriction

from network.models import Feedback, QueryLog
from network.querylog import purge_old_entries
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db


def _vote(client, page, helpful="ja", **extra):
    headers = {k: v for k, v in extra.items() if k.startswith("HTTP_")}
    data = {"seite": page.pk, "hilfreich": helpful, "herkunft": "seite",
            **{k: v for k, v in extra.items() if k not in headers}}
    return client.post("/netz/rueckmeldung/", data, **headers)


def test_anonymous_vote_is_stored_and_redirects_back(client, make_page):
    page = make_page("lesson_learned", title="Bürgerportal")
    response = _vote(client, page, "nein", kommentar="Zu allgemein.", weiter=page.url)
    assert response.status_code == 302
    assert response["Location"] == page.url
    feedback = Feedback.objects.get()
    assert (feedback.page_id, feedback.helpful, feedback.comment, feedback.source) == \
        (page.pk, False, "Zu allgemein.", "seite")
    assert "Danke für Ihre Rückmeldung" in client.get(page.url).content.decode()


def test_second_vote_of_a_session_replaces_the_first(client, make_page):
    page = make_page("lesson_learned")
    assert _vote(client, page, "ja", HTTP_ACCEPT="application/json").status_code == 201
    response = _vote(client, page, "nein", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert "aktualisiert" in response.json()["detail"]
    assert Feedback.objects.count() == 1
    assert Feedback.objects.get().helpful is False
    assert _vote(Client(), page, "ja").status_code == 302  # another session counts apart
    assert Feedback.objects.count() == 2


@pytest.mark.parametrize(("data", "message"), [
    ({"hilfreich": "vielleicht"}, "Bitte wählen Sie „Ja“ oder „Nein“."),
    ({"hilfreich": ""}, "Bitte wählen Sie „Ja“ oder „Nein“."),
    ({"kommentar": "x" * 1001}, "höchstens 1.000 Zeichen"),
    ({"seite": "abc"}, "Die Seite der Rückmeldung ist ungültig."),
    ({"herkunft": "irgendwo"}, "Unbekannte Herkunft"),
    ({"rang": "-3"}, "Der Rang muss mindestens 1 sein."),
])
def test_invalid_input_gets_a_german_message_and_400(client, make_page, data, message):
    page = make_page("lesson_learned")
    payload = {"seite": page.pk, "hilfreich": "ja", "herkunft": "seite", **data}
    response = client.post("/netz/rueckmeldung/", payload)
    assert response.status_code == 400
    assert message in response.content.decode()
    json_response = client.post("/netz/rueckmeldung/", payload, HTTP_ACCEPT="application/json")
    assert json_response.status_code == 400
    assert message in json_response.json()["detail"]
    assert not Feedback.objects.exists()


def test_get_is_not_allowed(client):
    assert client.get("/netz/rueckmeldung/").status_code == 405


def test_restricted_unknown_and_unpublished_pages_are_404(client, make_page, user_in):
    secret = make_page("lesson_learned", title="Intern")
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    draft = make_page("lesson_learned")
    draft.unpublish()
    for page_id in (secret.pk, draft.pk, 999_999):
        response = client.post("/netz/rueckmeldung/", {"seite": page_id, "hilfreich": "ja",
                                                      "herkunft": "seite"})
        assert response.status_code == 404
        assert "Diese Seite gibt es nicht" in response.content.decode()
    assert not Feedback.objects.exists()
    client.force_login(user_in("Kommune"))
    assert _vote(client, secret).status_code == 302  # a member may rate it


def test_csrf_is_enforced(make_page):
    page = make_page("lesson_learned")
    client = Client(enforce_csrf_checks=True)
    assert _vote(client, page).status_code == 403
    page_html = client.get(page.url).content.decode()
    token = page_html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert _vote(client, page, csrfmiddlewaretoken=token).status_code == 302


def test_rate_limit_per_session_and_address(client, make_page, settings):
    settings.KNOWLEDGE_FEEDBACK_RATE_LIMIT = "3/h,5/h"
    pages = [make_page("lesson_learned") for _ in range(7)]
    statuses = [_vote(client, p).status_code for p in pages[:4]]
    assert statuses == [302, 302, 302, 429]
    response = _vote(client, pages[4])
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "sehr viele Rückmeldungen" in response.content.decode()
    # A script without cookies gets a new session for every request: the address limit holds.
    # Every request counts for the address (5 so far).
    assert [_vote(Client(), p).status_code for p in pages[4:7]] == [429, 429, 429]
    assert Feedback.objects.count() == 3


def test_search_result_feedback_records_query_and_rank(client, indexed_page):
    page = indexed_page("lesson_learned", title="Elektronische Akte im Bauamt",
                        summary="Die E-Akte im Bauamt spart Wege.")
    response = client.get("/suche/", {"q": "Elektronische Akte Bauamt"})
    assert response.status_code == 200
    log = QueryLog.objects.get()
    assert (log.query, log.surface, log.result_count) == ("Elektronische Akte Bauamt",
                                                          "suche", 1)
    html = response.content.decode()
    assert f'name="suche" value="{log.feedback_token}"' in html
    assert f'ping="/netz/klick/{log.feedback_token}/"' in html
    vote = client.post("/netz/rueckmeldung/", {"seite": page.pk, "hilfreich": "nein",
                                               "herkunft": "suche", "suche": log.feedback_token,
                                               "rang": 1})
    assert vote.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.query, feedback.rank, feedback.query_log_id) == \
        ("elektronische akte bauamt", 1, log.pk)


def test_feedback_cannot_name_a_search_it_did_not_come_from(client, indexed_page):
    """A plain log id in the form let one visitor tie votes to anybody's queries."""
    page = indexed_page("lesson_learned", title="Elektronische Akte im Bauamt")
    other = QueryLog.objects.create(query="zebraschnecke", normalized="zebraschnecke",
                                    surface="suche", result_count=1)
    for forged in (str(other.pk), f"{other.pk}:kaputt"):
        vote = client.post("/netz/rueckmeldung/", {"seite": page.pk, "hilfreich": "nein",
                                                   "herkunft": "suche", "suche": forged})
        assert vote.status_code == 400
        assert "Suchanfrage der Rückmeldung ist ungültig" in vote.content.decode()
    assert not Feedback.objects.exists()


def test_comment_with_line_breaks_counts_them_as_the_browser_does(client, indexed_page):
    page = indexed_page("lesson_learned", title="Bauamt")
    comment = "\r\n".join(["x" * 99] * 10)  # 1000 characters in the browser, 1009 posted
    vote = client.post("/netz/rueckmeldung/", {"seite": page.pk, "hilfreich": "nein",
                                               "herkunft": "seite", "kommentar": comment})
    assert vote.status_code == 302
    assert Feedback.objects.get().comment == comment.replace("\r\n", "\n")


def test_feedback_on_a_password_page_once_the_password_was_entered(client, indexed_page):
    from wagtail.models import PageViewRestriction

    page = indexed_page("lesson_learned", title="Mit Kennwort")
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="geheim123")
    data = {"seite": page.pk, "hilfreich": "ja", "herkunft": "seite"}
    assert client.post("/netz/rueckmeldung/", data).status_code == 404
    session = client.session
    session[PageViewRestriction.passed_view_restrictions_session_key] = [restriction.pk]
    session.save()
    assert client.post("/netz/rueckmeldung/", data).status_code == 302
    assert Feedback.objects.get().page_id == page.pk


def test_second_result_page_is_not_logged_again(client, indexed_page, settings):
    settings.KNOWLEDGE_SEARCH_PAGE_SIZE = 1
    for n in range(2):
        indexed_page("lesson_learned", title=f"Bauamt Akte {n}")
    client.get("/suche/", {"q": "Bauamt Akte"})
    client.get("/suche/", {"q": "Bauamt Akte", "seite": 2})
    assert QueryLog.objects.count() == 1


def test_query_log_holds_no_personal_data(client, indexed_page, user_in):
    indexed_page("lesson_learned", title="Bauamt")
    client.force_login(user_in("Kommune", username="maria.muster"))
    client.get("/suche/", {"q": "Bauamt", "kommune": "lemgo"})
    client.get("/api/v1/search", {"q": "nichts dergleichen xyzzy"})
    logs = list(QueryLog.objects.order_by("pk").values())
    assert [(r["surface"], r["filtered"]) for r in logs] == [("suche", True), ("api", False)]
    assert logs[1]["result_count"] == 0 or logs[1]["query"] == "nichts dergleichen xyzzy"
    field_names = {f.name for f in QueryLog._meta.get_fields()}
    assert not field_names & {"user", "session", "session_key", "ip", "address"}
    for row in logs:
        assert "maria" not in " ".join(str(v) for v in row.values())


def test_hybrid_search_for_words_no_page_contains_counts_as_without_results(
        client, indexed_page, user_in):
    """Hybrid search always shows the semantically nearest pages; the gap report counted
    only searches that showed nothing, so it stayed empty."""
    indexed_page("lesson_learned", title="Elektronische Akte im Bauamt")
    client.get("/suche/", {"q": "Zebraschnecke"})
    client.get("/suche/", {"q": "Elektronische Akte"})
    client.get("/api/v1/search", {"q": "Zebraschnecke"})
    logs = {(log.surface, log.query): log for log in QueryLog.objects.all()}
    unknown = logs[("suche", "Zebraschnecke")]
    assert unknown.result_count > 0 and unknown.word_hits == 0
    assert logs[("api", "Zebraschnecke")].word_hits == 0
    assert logs[("suche", "Elektronische Akte")].word_hits == 1
    client.force_login(user_in("Redaktion"))
    report = client.get("/admin/netz/suchanfragen/", {"ansicht": "ohne_treffer"})
    html = report.content.decode()
    assert "zebraschnecke" in html and "elektronische akte" not in html
    assert 'href="/suche/?q=zebraschnecke"' in html  # run the search from the report


@pytest.mark.parametrize(("typed", "stored"), [
    ("Beschwerde max.mustermann@rahden.de Bauamt", "Beschwerde [E-Mail] Bauamt"),
    ("Rückruf 05771 / 123-456 Müllabfuhr", "Rückruf [Telefon] Müllabfuhr"),
    ("Rückruf +49 5771 123456", "Rückruf [Telefon]"),
    ("Haushaltsplan 2024 § 35a OZG 2.0", "Haushaltsplan 2024 § 35a OZG 2.0"),
])
def test_query_log_masks_e_mail_addresses_and_telephone_numbers(typed, stored):
    from network.querylog import log_query

    log = log_query("suche", typed, 1)
    assert (log.query, log.normalized) == (stored, stored.lower())


def test_matching_logs_a_shortened_description_and_shows_feedback(client, indexed_page):
    indexed_page("lesson_learned", title="Bürgerbeteiligung online", municipality="Rahden")
    description = "Wir möchten die Bürgerbeteiligung online organisieren. " * 20
    response = client.post("/lernen/", {"description": description})
    assert response.status_code == 200
    log = QueryLog.objects.get()
    assert log.surface == "lernen" and len(log.query) == 300
    assert 'name="herkunft" value="lernen"' in response.content.decode()


def test_click_counter(client, indexed_page):
    indexed_page("lesson_learned", title="Bauamt")
    client.get("/suche/", {"q": "Bauamt"})
    log = QueryLog.objects.get()
    url = f"/netz/klick/{log.feedback_token}/"
    assert client.post(url, content_type="text/ping").status_code == 204
    log.refresh_from_db()
    assert log.clicks == 1
    assert client.get(url).status_code == 405
    # Ids are sequential: a bare or forged id counts nothing on anyone's search.
    for forged in (str(log.pk), log.feedback_token[:-2] + "xx", "999999"):
        assert client.post(f"/netz/klick/{forged}/").status_code == 404
    log.refresh_from_db()
    assert log.clicks == 1


def test_retention_deletes_old_entries(settings):
    settings.KNOWLEDGE_QUERY_LOG_RETENTION_DAYS = 30
    old = QueryLog.objects.create(query="alt", normalized="alt", surface="suche",
                                  result_count=1)
    QueryLog.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    QueryLog.objects.create(query="neu", normalized="neu", surface="suche", result_count=1)
    assert purge_old_entries() == 1
    assert list(QueryLog.objects.values_list("query", flat=True)) == ["neu"]


# --- Without JavaScript: a refused vote keeps its comment --------------------------------


def test_refused_vote_without_javascript_keeps_the_comment_and_the_way_back(client, make_page):
    """Every refusal showed "Das hat nicht geklappt" with a link to the start page only: the
    typed comment was gone and the page the visitor came from was not linked."""
    page = make_page("lesson_learned", title="Bürgerportal")
    back = "/suche/?q=B%C3%BCrgerportal"
    response = _vote(client, page, "nein", kommentar="Fehlt: Kosten & Zeitplan",
                     suche="abc:manipuliert", rang="2", herkunft="suche", weiter=back)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Die Suchanfrage der Rückmeldung ist ungültig." in html
    assert "Fehlt: Kosten &amp; Zeitplan</textarea>" in html
    assert 'aria-describedby="fb-error"' in html and 'name="suche"' not in html
    assert f'href="{back}"' in html.replace("&amp;", "&")
    # Sent again from there, the vote counts without the forged search.
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    again = _vote(client, page, "nein", kommentar="Fehlt: Kosten & Zeitplan", rang="2",
                  herkunft="suche", weiter=back, csrfmiddlewaretoken=token)
    assert again.status_code == 302 and again["Location"] == back
    assert Feedback.objects.get().comment == "Fehlt: Kosten & Zeitplan"


def test_rate_limited_vote_shows_the_comment_to_copy(client, make_page, settings):
    settings.KNOWLEDGE_FEEDBACK_RATE_LIMIT = "1/h,100/h"
    first, second = make_page("lesson_learned"), make_page("lesson_learned")
    _vote(client, first)
    response = _vote(client, second, kommentar="Bitte Ansprechpartner nennen.",
                     weiter=second.url)
    assert response.status_code == 429
    html = response.content.decode()
    assert "readonly" in html and "Bitte Ansprechpartner nennen.</textarea>" in html
    assert 'data-feedback' not in html.split("<main")[1].split("</main>")[0]


def test_vote_with_a_stale_form_keeps_its_comment(make_page):
    """Logging in or out in another window renews the CSRF token: the vote met Django's bare
    403 page; the script said "try again", which could not work before reloading."""
    page = make_page("lesson_learned")
    client = Client(enforce_csrf_checks=True)
    response = _vote(client, page, kommentar="Sehr hilfreich für uns.", weiter=page.url)
    assert response.status_code == 403
    html = response.content.decode()
    assert "Sehr hilfreich für uns.</textarea>" in html and "Seite neu" in html
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert _vote(client, page, kommentar="Sehr hilfreich für uns.",
                 csrfmiddlewaretoken=token).status_code == 302
    detail = _vote(Client(enforce_csrf_checks=True), page,
                   HTTP_ACCEPT="application/json").json()["detail"]
    assert "Seite neu" in detail
    other = Client(enforce_csrf_checks=True).post("/anmelden/", {"username": "x"})
    assert other.status_code == 403 and "Rückmeldung" not in other.content.decode()
    # A post from another site gets no ready-to-send form with its comment.
    foreign = _vote(Client(enforce_csrf_checks=True), page, kommentar="Untergeschoben",
                    HTTP_ORIGIN="https://evil.example")
    assert foreign.status_code == 403 and "Untergeschoben" not in foreign.content.decode()


def test_vote_without_javascript_does_not_log_the_search_again(client, indexed_page):
    """The redirect back ran the search again and wrote a second log entry with 0 clicks,
    skewing the query report and its "wenig Klicks"."""
    page = indexed_page("lesson_learned", title="Elektronische Akte im Bauamt",
                        summary="Die E-Akte im Bauamt spart Wege.")
    html = client.get("/suche/", {"q": "Elektronische Akte Bauamt"}).content.decode()
    back = html.split('name="weiter" value="')[1].split('"')[0].replace("&amp;", "&")
    token = html.split('name="suche" value="')[1].split('"')[0]
    response = _vote(client, page, herkunft="suche", suche=token, rang="1", weiter=back)
    assert response.status_code == 302 and response["Location"] == back
    again = client.get(back).content.decode()
    assert "Elektronische Akte im Bauamt" in again and 'name="suche"' in again
    assert QueryLog.objects.count() == 1
    client.get("/suche/", {"q": "Elektronische Akte Bauamt"})  # a new search is logged
    assert QueryLog.objects.count() == 2
    # Only once and only in the voter's session: a shared link is a new search.
    client.get(back)
    assert QueryLog.objects.count() == 3
    Client().get(back)
    assert QueryLog.objects.count() == 4


@pytest.mark.parametrize("rate", ["off", "0", "", " OFF "])
def test_a_switched_off_rate_limit_in_any_spelling_allows_everything(rate):
    """"0" or an empty value crashed every request with a KeyError or ValueError."""
    from network import ratelimit

    assert ratelimit.parse_rate(rate) is None
    assert all(ratelimit.allow("test", "k", rate) for _ in range(5))
