"""The three editorial roles and the Redaktion's moderation workflow."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import Page
from wagtail.test.utils.form_data import rich_text

from knowledge.models import (
    BestPracticeIndexPage,
    LessonLearnedIndexPage,
    LessonLearnedPage,
    ProjectIndexPage,
    ProjectPage,
)
from knowledge.setup import ensure_roles
from knowledge.text import german_slugify

pytestmark = pytest.mark.django_db


def test_roles_are_idempotent():
    before = {g.name: (g.permissions.count(), g.page_permissions.count()) for g in
              Group.objects.all()}
    ensure_roles()
    ensure_roles()
    after = {g.name: (g.permissions.count(), g.page_permissions.count()) for g in
             Group.objects.all()}
    assert before == after
    assert {"Redaktion", "Beratung", "Kommune"} <= set(after)


def test_only_our_workflow_moderates_and_wagtails_stock_groups_are_gone(make_page):
    """Wagtail's stock workflow on the root page covered projects, protocols and roadmaps:
    a Beratung member's "Zur Moderation einreichen" locked the page for a group without
    members, and nobody could approve it."""
    project = make_page("project")
    protocol = make_page("session_protocol", project=project.external_id)
    roadmap = make_page("roadmap", project=project.external_id)
    for page in (project, protocol, roadmap, Page.objects.get(depth=2)):
        assert page.get_workflow() is None, page
    for kind in ("lesson_learned", "best_practice"):
        assert make_page(kind).get_workflow().name == "Redaktionelle Freigabe"
    assert not Group.objects.filter(name__in=["Moderators", "Editors"]).exists()


def test_retiring_keeps_stock_groups_someone_uses(user_in):
    from knowledge.setup import retire_wagtail_defaults

    moderators = Group.objects.create(name="Moderators")
    user_in().groups.add(moderators)
    Group.objects.create(name="Editors")
    retire_wagtail_defaults()
    assert list(Group.objects.filter(name__in=["Moderators", "Editors"])
                .values_list("name", flat=True)) == ["Moderators"]


def test_kommune_can_draft_but_not_publish_lessons(user_in):
    user = user_in("Kommune")
    lessons = LessonLearnedIndexPage.objects.get()
    perms = lessons.permissions_for_user(user)
    assert perms.can_add_subpage()
    assert not perms.can_publish_subpage()
    assert BestPracticeIndexPage.objects.get().permissions_for_user(user).can_add_subpage()
    assert not ProjectIndexPage.objects.get().permissions_for_user(user).can_add_subpage()


def test_beratung_can_publish_protocols_but_not_best_practices(user_in, make_page):
    user = user_in("Beratung")
    project = make_page("project")
    protocol = make_page("session_protocol", project=project.external_id)
    assert project.permissions_for_user(user).can_add_subpage()
    assert protocol.permissions_for_user(user).can_publish()
    assert not BestPracticeIndexPage.objects.get().permissions_for_user(user).can_add_subpage()


def test_redaktion_can_publish_everything(user_in, make_page):
    user = user_in("Redaktion")
    for page in (make_page("best_practice"), make_page("lesson_learned")):
        assert page.permissions_for_user(user).can_publish()


def test_redaktion_can_delete_a_project_with_its_protocols(client, user_in, make_page):
    """Only a superuser could remove a duplicate project: deleting a page with children
    needs Wagtail's "bulk_delete"."""
    from knowledge.models import KnowledgePage

    project = make_page("project", title="Doppelt angelegt")
    make_page("session_protocol", project=project.external_id)
    project = Page.objects.get(pk=project.pk)  # with its child counted
    assert not project.permissions_for_user(user_in("Beratung")).can_delete()
    assert project.permissions_for_user(user_in("Redaktion")).can_delete()
    client.force_login(user_in("Redaktion"))
    client.post(f"/admin/pages/{project.pk}/delete/")
    assert not KnowledgePage.objects.filter(pk=project.pk).exists()


def _lesson_post_data(title):
    municipality_id = LessonLearnedPage._meta.get_field("municipality").related_model.objects\
        .get_or_create(name="Lemgo")[0].pk
    return {
        "title": title,
        "slug": german_slugify(title),
        "municipality": municipality_id,
        "date": "2024-05-02",
        "external_id": "",
        "summary": "Frühe Beteiligung hat Widerstand verhindert.",
        "situation": rich_text("<p>Ausgangslage</p>"),
        "went_well": rich_text(""),
        "went_badly": rich_text(""),
        "recommendation": rich_text("<p>Früh beteiligen</p>"),
        "body-count": "0",
        "seo_title": "",
        "search_description": "",
    }


def test_kommune_submits_and_redaktion_approves_through_workflow(client, user_in):
    author = user_in("Kommune")
    index = LessonLearnedIndexPage.objects.get()
    client.force_login(author)

    # Trying to publish directly does not publish: the Kommune has no publish permission.
    data = _lesson_post_data("Personalrat früh einbinden")
    response = client.post(
        f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
        {**data, "action-publish": "1"},
    )
    assert response.status_code in (200, 302)
    assert not LessonLearnedPage.objects.filter(live=True).exists()

    # Submitting for moderation starts the Redaktion's workflow.
    data = _lesson_post_data("Digitallotsen brauchen Zeitanteile")
    response = client.post(
        f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
        {**data, "action-submit": "1"},
    )
    assert response.status_code == 302, response.content[:2000]
    page = LessonLearnedPage.objects.get(title="Digitallotsen brauchen Zeitanteile")
    assert not page.live
    workflow_state = page.current_workflow_state
    assert workflow_state is not None and workflow_state.status == "in_progress"

    # The Redaktion approves: the page goes live.
    reviewer = user_in("Redaktion")
    task_state = workflow_state.current_task_state
    assert task_state.task.specific.user_can_access_editor(page, reviewer)
    client.force_login(reviewer)
    response = client.post(
        f"/admin/pages/workflow/action/{page.pk}/approve/{task_state.pk}/",
        {"comment": "Passt."},
    )
    assert response.status_code in (200, 302)
    page.refresh_from_db()
    assert page.live


def test_redaktion_can_reject(client, user_in):
    author = user_in("Kommune")
    client.force_login(author)
    index = LessonLearnedIndexPage.objects.get()
    client.post(f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
                {**_lesson_post_data("Zu allgemein"), "action-submit": "1"})
    page = LessonLearnedPage.objects.get(title="Zu allgemein")
    task_state = page.current_workflow_state.current_task_state
    client.force_login(user_in("Redaktion"))
    client.post(f"/admin/pages/workflow/action/{page.pk}/reject/{task_state.pk}/",
                {"comment": "Bitte konkreter."})
    page.refresh_from_db()
    assert not page.live
    assert page.current_workflow_state.status == "needs_changes"


def test_admin_is_german(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert 'lang="de"' in response.content.decode()
    assert "Seiten" in response.content.decode()


def test_every_root_child_is_the_home_page():
    assert Page.get_first_root_node().get_children().count() == 1
    assert ProjectPage.objects.count() == 0
