"""Colleagues of one municipality edit each other's drafts (knowledge.colleague_editing).

Before, a Kommune account could edit only the pages it owned: the lesson a colleague had
begun stayed closed to the member who took the project over until the Redaktion stepped in.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from wagtail.models import Page, PageViewRestriction
from wagtail.permissions import policy_registry

from knowledge.models import LessonLearnedIndexPage, Municipality, MunicipalityMember
from tests.test_roles import _lesson_post_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def lemgo(make_page, user_in):
    """A Lemgo lesson drafted by one Lemgo member, and accounts around it."""

    def member(place: str | None):
        user = user_in("Kommune")
        if place is not None:
            MunicipalityMember.objects.create(
                user=user, municipality=Municipality.objects.get_or_create(name=place)[0])
        return user

    author, colleague, neighbour, unassigned = (
        member("Lemgo"), member("Lemgo"), member("Detmold"), member(None))
    draft = make_page("lesson_learned", title="Entwurf Ratsinformationssystem Lemgo")
    draft.owner = author
    draft.save()
    draft.unpublish()
    return {"draft": draft, "author": author, "colleague": colleague,
            "neighbour": neighbour, "unassigned": unassigned}


def _edit_url(page) -> str:
    return f"/admin/pages/{page.pk}/edit/"


def _policy():
    """The page permission policy as Wagtail's admin views look it up."""
    return policy_registry.get_by_type(Page)


def _tester(page, user):
    return Page.objects.get(pk=page.pk).permissions_for_user(user)  # as listings ask


def test_a_colleague_edits_and_submits_the_draft(client, lemgo):
    draft = lemgo["draft"]
    client.force_login(lemgo["colleague"])
    assert client.get(_edit_url(draft)).status_code == 200
    data = _lesson_post_data("Ratsinformationssystem: Schulung vor dem Start")
    data["municipality"] = draft.municipality_id
    data["slug"] = draft.slug
    response = client.post(_edit_url(draft), {**data, "action-submit": "1"})
    assert response.status_code == 302, response.content[:2000]
    draft.refresh_from_db()
    assert draft.get_latest_revision().user == lemgo["colleague"]
    assert draft.get_latest_revision_as_object().title == (
        "Ratsinformationssystem: Schulung vor dem Start")
    assert draft.current_workflow_state.status == "in_progress"
    assert not draft.live  # publishing stays with the Redaktion
    assert draft.owner == lemgo["author"]


def test_other_municipalities_and_unassigned_accounts_may_not(client, lemgo):
    for user in (lemgo["neighbour"], lemgo["unassigned"]):
        client.force_login(user)
        response = client.get(_edit_url(lemgo["draft"]))
        assert response.status_code == 302 and "/edit/" not in response["Location"]
        assert not _tester(lemgo["draft"], user).can_edit()


def test_a_colleague_may_not_publish_or_delete_it(lemgo):
    tester = _tester(lemgo["draft"], lemgo["colleague"])
    assert tester.can_edit()
    assert not tester.can_publish() and not tester.can_delete()
    assert _tester(lemgo["draft"], lemgo["author"]).can_delete()  # the owner still may


def test_not_where_the_member_may_not_draft(make_page, lemgo):
    """A Lemgo project (the Beratung's section) stays closed to Lemgo's members."""
    project = make_page("project", title="Digitalstrategie Lemgo")
    assert not _tester(project, lemgo["colleague"]).can_edit()
    policy = _policy()
    assert not policy.user_has_permission_for_instance(lemgo["colleague"], "change", project)
    assert not policy.instances_user_has_permission_for(
        lemgo["colleague"], "change").filter(pk=project.pk).exists()


def test_not_a_page_restricted_to_groups_the_colleague_is_not_in(lemgo):
    restriction = PageViewRestriction.objects.create(
        page=lemgo["draft"], restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    assert not _tester(lemgo["draft"], lemgo["colleague"]).can_edit()
    assert not _policy().instances_user_has_permission_for(
        lemgo["colleague"], "change").filter(pk=lemgo["draft"].pk).exists()
    assert _tester(lemgo["draft"], lemgo["author"]).can_edit()  # Wagtail's owner rule
    restriction.groups.add(Group.objects.get(name="Kommune"))
    assert _tester(lemgo["draft"], lemgo["colleague"]).can_edit()


def test_the_policy_agrees_with_the_tester(lemgo):
    """The explorer, the reports and the editing sessions ask the policy, not the tester."""
    draft, policy = lemgo["draft"], _policy()
    for user, allowed in ((lemgo["colleague"], True), (lemgo["neighbour"], False),
                          (lemgo["unassigned"], False)):
        assert policy.user_has_permission_for_instance(
            user, "change", draft) is allowed
        editable = policy.instances_user_has_permission_for(user, "change")
        assert editable.filter(pk=draft.pk).exists() is allowed
    assert not policy.user_has_permission_for_instance(
        lemgo["colleague"], "publish", draft)


def test_the_colleague_finds_the_draft_in_the_explorer(client, lemgo):
    index = LessonLearnedIndexPage.objects.get().pk
    for user, shown in ((lemgo["colleague"], True), (lemgo["neighbour"], False)):
        client.force_login(user)
        html = client.get(f"/admin/pages/{index}/").content.decode()
        assert ("Entwurf Ratsinformationssystem Lemgo" in html) is shown
        assert (_edit_url(lemgo["draft"]) in html) is shown
