"""Colleagues of one municipality edit each other's drafts (knowledge.colleague_editing).

Before, a Kommune account could edit only the pages it owned: the lesson a colleague had
begun stayed closed to the member who took the project over until the Redaktion stepped in.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from wagtail.models import Page, PageViewRestriction
from wagtail.permissions import policy_registry

from knowledge.colleague_editing import ColleaguePagePermissionTester
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
    """A Lemgo project and its lessons (the Beratung's section, without moderation) and the
    section page itself stay closed to Lemgo's members."""
    project = make_page("project", title="Digitalstrategie Lemgo")
    lesson = make_page("lesson_learned", title="Lehre aus dem Projekt",
                       project=project.external_id)
    section = LessonLearnedIndexPage.objects.get()
    policy = _policy()
    for page in (project, lesson, section):
        assert not _tester(page, lemgo["colleague"]).can_edit()
        assert not policy.user_has_permission_for_instance(lemgo["colleague"], "change", page)
        assert not policy.instances_user_has_permission_for(
            lemgo["colleague"], "change").filter(pk=page.pk).exists()


def test_an_old_revision_does_not_reopen_a_page_refiled_elsewhere(client, lemgo):
    """The municipality is decided by the page's row: a revision from before the Redaktion
    refiled the page under Detmold still says Lemgo, and restoring it would take the page
    back."""
    draft = lemgo["draft"]
    old = draft.save_revision(user=lemgo["author"])
    draft.municipality = Municipality.objects.get(name="Detmold")
    draft.save()
    draft.save_revision()
    client.force_login(lemgo["colleague"])
    url = f"/admin/pages/{draft.pk}/revisions/{old.pk}/revert/"
    assert client.get(url).status_code != 200
    data = {**_lesson_post_data(draft.title), "municipality": old.as_object().municipality_id,
            "slug": draft.slug}
    client.post(url, data)
    draft.refresh_from_db()
    assert draft.municipality.name == "Detmold"
    assert not _tester(draft, lemgo["colleague"]).can_edit()


def test_the_latest_version_must_belong_to_the_municipality_too(lemgo):
    draft = lemgo["draft"]
    draft.municipality = Municipality.objects.get(name="Detmold")
    assert not ColleaguePagePermissionTester(lemgo["colleague"], draft).can_edit()


def test_copies_and_aliases_stay_with_the_owner(client, lemgo):
    draft = lemgo["draft"]
    assert not _tester(draft, lemgo["colleague"]).can_copy()
    assert _tester(draft, lemgo["author"]).can_copy()
    client.force_login(lemgo["colleague"])
    assert client.get(f"/admin/pages/{draft.pk}/copy/").status_code != 200
    draft.external_id = None  # as for a page made in the admin (the key is unique)
    draft.save()
    alias = draft.create_alias(update_slug="alias-ratsinformationssystem")
    assert not _tester(alias, lemgo["colleague"]).can_edit()


def test_not_a_password_protected_page(lemgo):
    PageViewRestriction.objects.create(page=lemgo["draft"], password="kiebitz",
                                       restriction_type=PageViewRestriction.PASSWORD)
    assert not _tester(lemgo["draft"], lemgo["colleague"]).can_edit()


def test_not_a_page_restricted_to_groups_the_colleague_is_not_in(lemgo):
    restriction = PageViewRestriction.objects.create(
        page=lemgo["draft"], restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    assert not _tester(lemgo["draft"], lemgo["colleague"]).can_edit()
    assert not _policy().instances_user_has_permission_for(
        lemgo["colleague"], "change").filter(pk=lemgo["draft"].pk).exists()
    assert _tester(lemgo["draft"], lemgo["author"]).can_edit()  # Wagtail's owner rule
    restriction.groups.add(Group.objects.get(name="Kommune"))
    colleague = type(lemgo["colleague"]).objects.get(pk=lemgo["colleague"].pk)  # next request
    assert _tester(lemgo["draft"], colleague).can_edit()


def test_the_policy_agrees_with_the_tester(lemgo):
    """The explorer, the choosers and the reports ask the policy, not the tester."""
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


def test_listed_plain_pages_cost_no_query_for_their_municipality(lemgo, make_page):
    """A listing of plain pages asks each one's tester through ``specific_deferred``, whose
    municipality is not loaded: the colleague check must not read it page by page (the
    page's row is already decided by the id set of the request)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for n in range(3):
        make_page("lesson_learned", title=f"Entwurf Nummer {n}")
    pages = list(Page.objects.filter(title__startswith="Entwurf"))
    colleague = lemgo["colleague"]
    assert pages[0].permissions_for_user(colleague).can_edit()  # fills the request's caches
    with CaptureQueriesContext(connection) as captured:
        assert all(page.permissions_for_user(colleague).can_edit() for page in pages)
    assert not [query for query in captured.captured_queries
                if '"knowledge_' in query["sql"]]


def test_a_colleague_opens_the_files_of_the_draft(client, lemgo, make_page,
                                                  django_capture_on_commit_callbacks):
    """Files no live page uses were open only to who manages them (their uploader); the
    colleague who took the draft over got 404 for them."""
    from tests.attachment_files import make_document

    def upload(name, user, page):
        document = make_document(name, b"# Anlage\n\nNur im Entwurf.\n")
        document.uploaded_by_user = user
        document.save()
        with django_capture_on_commit_callbacks(execute=True):
            page.body = [("document", {"document": document, "description": ""})]
            page.save()
        return document

    draft = lemgo["draft"]
    own = upload("anlage-lemgo.md", lemgo["author"], draft)
    client.force_login(lemgo["colleague"])
    response = client.get(own.url)
    assert response.status_code == 200
    assert b"Nur im Entwurf." in b"".join(response.streaming_content)
    client.force_login(lemgo["neighbour"])
    assert client.get(own.url).status_code == 404

    # A Detmold draft's file, referred to from a Lemgo draft as well, stays closed.
    detmold = make_page("lesson_learned", title="Entwurf Detmold", municipality="Detmold")
    detmold.owner = lemgo["neighbour"]
    detmold.save()
    detmold.unpublish()
    foreign = upload("anlage-detmold.md", lemgo["neighbour"], detmold)
    with django_capture_on_commit_callbacks(execute=True):
        draft.body = [("document", {"document": foreign, "description": ""})]
        draft.save()
    client.force_login(lemgo["colleague"])
    assert client.get(foreign.url).status_code == 404
