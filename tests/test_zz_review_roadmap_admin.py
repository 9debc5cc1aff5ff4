"""Scratch reproductions (reviewer); to be deleted."""
import logging

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction, WorkflowState
from wagtail.test.utils.form_data import rich_text

from knowledge.models import LessonLearnedIndexPage, LessonLearnedPage
from knowledge.text import german_slugify

pytestmark = pytest.mark.django_db


@pytest.fixture
def beratung_only(make_page):
    project = make_page("project", title="Strategie Lemgo")
    secret = make_page("session_protocol", project=project.external_id,
                       title="Vertraulich Personalabbau Lemgo")
    r = PageViewRestriction.objects.create(page=secret,
                                           restriction_type=PageViewRestriction.GROUPS)
    r.groups.add(Group.objects.get(name="Beratung"))
    return project, secret


@pytest.mark.parametrize("url", [
    "/admin/pages/search/?q=Vertraulich",
    "/admin/choose-page/search/?q=Vertraulich",
    "/admin/choose-page/{project}/",
    "/admin/pages/{project}/",
    "/admin/reports/aging-pages/",
    "/admin/reports/page-types-usage/",
    "/admin/api/main/pages/?child_of={project}",
    "/admin/api/main/pages/?search=Vertraulich",
])
def test_kommune_reads_title_of_beratung_only_page(client, user_in, beratung_only, url):
    project, secret = beratung_only
    kommune = user_in("Kommune")
    assert not secret.get_view_restrictions()[0].accept_request.__name__ == ""  # noqa
    client.force_login(kommune)
    # front end: hidden
    assert client.get(secret.url).status_code in (302, 403, 404)
    r = client.get(url.format(project=project.pk))
    print(url, r.status_code)
    assert "Personalabbau" not in r.content.decode(), url


def _lesson(title):
    from knowledge.models import Municipality
    m = Municipality.objects.get_or_create(name="Lemgo")[0].pk
    return {"title": title, "slug": german_slugify(title), "municipality": m,
            "date": "2024-05-02", "external_id": "", "summary": "Zusammenfassung.",
            "situation": rich_text("<p>A</p>"), "went_well": rich_text(""),
            "went_badly": rich_text(""), "recommendation": rich_text("<p>B</p>"),
            "body-count": "0", "seo_title": "", "search_description": ""}


def test_audit_names_approver_not_author(client, user_in, caplog):
    author = user_in("Kommune", username="kommune_autorin")
    reviewer = user_in("Redaktion", username="redakteurin")
    index = LessonLearnedIndexPage.objects.get()
    client.force_login(author)
    client.post(f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
                {**_lesson("Eingereicht"), "action-submit": "1"})
    page = LessonLearnedPage.objects.get(title="Eingereicht")
    ts = page.current_workflow_state.current_task_state
    client.force_login(reviewer)
    with caplog.at_level(logging.INFO, logger="knowledge.audit"):
        client.post(f"/admin/pages/workflow/action/{page.pk}/approve/{ts.pk}/",
                    {"comment": "ok"})
    page.refresh_from_db()
    assert page.live
    msgs = [r.getMessage() for r in caplog.records if r.name == "knowledge.audit"]
    print(msgs)
    assert any("user=redakteurin" in m for m in msgs), msgs


def test_audit_delete_logged_once(make_page, caplog, client, admin_user):
    page = make_page("best_practice", title="Zu loeschen")
    client.force_login(admin_user)
    with caplog.at_level(logging.INFO, logger="knowledge.audit"):
        r = client.post(f"/admin/pages/{page.pk}/delete/")
    msgs = [r.getMessage() for r in caplog.records if r.name == "knowledge.audit"]
    print(r.status_code, msgs)
    assert sum("page_deleted" in m for m in msgs) == 1, msgs
    assert any("user=" in m for m in msgs if "page_deleted" in m), msgs


def test_beratung_submit_goes_to_nobody(client, user_in, make_page):
    project = make_page("project", title="Strategie Lemgo")
    protocol = make_page("session_protocol", project=project.external_id, title="Prot 1")
    berater = user_in("Beratung")
    client.force_login(berater)
    r = client.get(f"/admin/pages/{protocol.pk}/edit/")
    html = r.content.decode()
    print("submit button:", "action-submit" in html)
    from wagtail.models import Page
    wf = Page.objects.get(pk=protocol.pk).get_workflow()
    print("workflow:", wf and wf.name, [t.specific.groups.all() for t in wf.tasks.all()] if wf else None)
    assert wf is None or wf.name == "Redaktionelle Freigabe", wf.name


def test_beratung_submitted_protocol_stuck(client, user_in, make_page):
    from wagtail.models import Page
    project = make_page("project", title="Strategie Lemgo")
    protocol = make_page("session_protocol", project=project.external_id, title="Prot 1")
    page = Page.objects.get(pk=protocol.pk)
    berater = user_in("Beratung")
    wf = page.get_workflow()
    wf.start(page, berater)
    page.refresh_from_db()
    ts = page.current_workflow_state.current_task_state
    redakteur = user_in("Redaktion")
    print("redaktion may approve:", ts.task.specific.user_can_access_editor(page, redakteur),
          [a[0] for a in ts.task.specific.get_actions(page, redakteur)])
    client.force_login(redakteur)
    dash = client.get("/admin/").content.decode()
    print("on redaktion dashboard:", "Prot 1" in dash)
    r = client.post(f"/admin/pages/workflow/action/{page.pk}/approve/{ts.pk}/", {"comment": "x"})
    page.refresh_from_db()
    print("approve status", r.status_code, "live", page.live, page.current_workflow_state)
    assert ts.task.specific.get_actions(page, redakteur)


def test_beratung_submitted_protocol_locked(client, user_in, make_page):
    from wagtail.models import Page
    project = make_page("project", title="Strategie Lemgo")
    protocol = make_page("session_protocol", project=project.external_id, title="Prot 1")
    page = Page.objects.get(pk=protocol.pk)
    berater = user_in("Beratung")
    page.get_workflow().start(page, berater)
    page.refresh_from_db()
    for who in (user_in("Beratung"), user_in("Redaktion")):
        lock = page.get_lock()
        print(who.groups.first(), "locked:", lock and lock.for_user(who), lock and lock.get_message(who))
        perms = page.permissions_for_user(who)
        print("  can_edit", perms.can_edit(), "can_lock", perms.can_lock(), "can_unlock", perms.can_unlock())


@pytest.mark.parametrize("url", [
    "/admin/pages/{index}/",
    "/admin/choose-page/{index}/",
    "/admin/pages/search/?q=Zusammenfassung",
    "/admin/reports/workflow/",
    "/admin/reports/workflow_tasks/",
    "/admin/reports/site-history/",
    "/admin/pages/{pk}/view_draft/",
    "/admin/pages/{pk}/history/",
    "/admin/pages/{pk}/edit/",
    "/admin/pages/{pk}/workflow/preview/{task}/",
    "/admin/",
])
def test_other_kommune_sees_draft(client, user_in, url):
    a = user_in("Kommune")
    b = user_in("Kommune")
    index = LessonLearnedIndexPage.objects.get()
    client.force_login(a)
    client.post(f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
                {**_lesson("Geheimer Entwurf Stellenabbau"), "action-submit": "1"})
    page = LessonLearnedPage.objects.get(title="Geheimer Entwurf Stellenabbau")
    ts = page.current_workflow_state.current_task_state
    client.force_login(b)
    r = client.get(url.format(index=index.pk, pk=page.pk, task=ts.task_id))
    print(url, r.status_code)
    assert "Stellenabbau" not in r.content.decode(), url


def test_show_dashboard(client, user_in):
    import re
    a = user_in("Kommune")
    b = user_in("Kommune")
    index = LessonLearnedIndexPage.objects.get()
    client.force_login(a)
    client.post(f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
                {**_lesson("Geheimer Entwurf Stellenabbau"), "action-submit": "1"})
    page = LessonLearnedPage.objects.get(title="Geheimer Entwurf Stellenabbau")
    ts = page.current_workflow_state.current_task_state
    client.force_login(user_in("Redaktion"))
    client.post(f"/admin/pages/workflow/action/{page.pk}/reject/{ts.pk}/",
                {"comment": "Bitte Namen der Betroffenen entfernen."})
    client.force_login(b)
    for url in ("/admin/", "/admin/reports/workflow/", "/admin/reports/site-history/", "/admin/reports/workflow_tasks/"):
        html = client.get(url).content.decode()
        text = re.sub(r"<[^>]+>", " ", html)
        text = re.sub(r"\s+", " ", text)
        i = text.find("Stellenabbau")
        print(url, "::", text[max(0, i-300):i+300])
        print(url, "comment visible:", "Betroffenen" in html)
