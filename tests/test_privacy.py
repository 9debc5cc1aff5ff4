"""Page privacy: restricted protocols are invisible to anonymous visitors everywhere."""

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

pytestmark = pytest.mark.django_db


@pytest.fixture
def restricted_protocol(make_page):
    project = make_page("project", title="Digitalisierungsstrategie Rahden")
    public = make_page("session_protocol", project=project.external_id,
                       title="Erste Sitzung öffentlich", session_number=1)
    secret = make_page("session_protocol", project=project.external_id,
                       title="Interne Haushaltsrunde", session_number=2)
    PageViewRestriction.objects.create(page=secret, restriction_type=PageViewRestriction.LOGIN)
    return project, public, secret


SURFACES = ["/", "/projekte/", "/inhalte/", "/inhalte/?typ=session_protocol", "/sitemap.xml"]


def test_anonymous_cannot_see_restricted_protocol_anywhere(client, restricted_protocol):
    project, public, secret = restricted_protocol
    response = client.get(secret.url)
    assert response.status_code == 302 and "/anmelden/" in response["Location"]
    for url in [*SURFACES, project.url, public.url]:
        body = client.get(url).content.decode()
        assert "Interne Haushaltsrunde" not in body, url
        assert secret.url not in body, url
    assert "Erste Sitzung öffentlich" in client.get(project.url).content.decode()


def test_counts_do_not_reveal_restricted_pages(client, restricted_protocol):
    body = client.get("/inhalte/?typ=session_protocol").content.decode()
    assert "1 Eintrag" in body


def test_logged_in_member_sees_restricted_protocol(client, restricted_protocol, user_in):
    project, _, secret = restricted_protocol
    client.force_login(user_in("Kommune"))
    assert client.get(secret.url).status_code == 200
    assert "Interne Haushaltsrunde" in client.get(project.url).content.decode()
    assert "Interne Haushaltsrunde" in client.get("/inhalte/").content.decode()


def test_group_restriction_only_opens_for_that_group(client, make_page, user_in):
    page = make_page("best_practice", title="Nur für die Redaktion")
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(Group.objects.get(name="Redaktion"))
    client.force_login(user_in("Kommune"))
    assert "Nur für die Redaktion" not in client.get("/best-practices/").content.decode()
    client.force_login(user_in("Redaktion"))
    assert "Nur für die Redaktion" in client.get("/best-practices/").content.decode()


def test_password_restricted_pages_stay_out_of_listings(client, make_page, user_in):
    page = make_page("lesson_learned", title="Passwortgeschützt")
    PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="geheim123"
    )
    client.force_login(user_in("Kommune"))
    assert "Passwortgeschützt" not in client.get("/lessons-learned/").content.decode()


def test_restriction_on_project_hides_its_children(client, make_page):
    project = make_page("project", title="Vertrauliches Projekt")
    child = make_page("lesson_learned", project=project.external_id, title="Kind des Projekts")
    PageViewRestriction.objects.create(page=project, restriction_type=PageViewRestriction.LOGIN)
    for url in ["/lessons-learned/", "/inhalte/", "/sitemap.xml"]:
        body = client.get(url).content.decode()
        assert "Kind des Projekts" not in body and child.url not in body


def test_drafts_are_not_listed(client, make_page):
    page = make_page("best_practice", title="Bald veröffentlicht")
    page.unpublish()
    assert "Bald veröffentlicht" not in client.get("/best-practices/").content.decode()
    assert client.get(page.url or "/best-practices/bald-veroeffentlicht/").status_code == 404


def test_remembered_access_reads_restrictions_once_and_only_for_its_block(make_page):
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge.access import denied_path_prefixes, remembered_access

    page = make_page("best_practice", title="Später geschützt")
    visitor, other = AnonymousUser(), AnonymousUser()
    with remembered_access(visitor):
        with CaptureQueriesContext(connection) as queries:
            assert denied_path_prefixes(visitor) == []
            with remembered_access(visitor):  # nested: still the same memo
                assert denied_path_prefixes(visitor) == []
        assert len(queries) == 0
        PageViewRestriction.objects.create(page=page,
                                           restriction_type=PageViewRestriction.LOGIN)
        # Another user object is not served from the memo.
        assert denied_path_prefixes(other) == [page.path]
    # After the block (the next search) the new restriction applies.
    assert denied_path_prefixes(visitor) == [page.path]


def test_restrictions_are_read_in_one_statement_per_viewer(make_page, user_in):
    """Every search and listing builds this filter: one query, however many restrictions."""
    from django.contrib.auth.models import AnonymousUser, Group
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from knowledge.access import denied_path_prefixes

    staff, other = Group.objects.get_or_create(name="Redaktion Nord")[0], Group.objects.create(
        name="Nur Süd")
    pages = [make_page("best_practice", title=f"Geschützt {n}") for n in range(3)]
    PageViewRestriction.objects.create(page=pages[0], restriction_type=PageViewRestriction.LOGIN)
    for page, group in ((pages[1], staff), (pages[2], other)):
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.GROUPS)
        restriction.groups.add(group)
    member = user_in("Kommune")
    member.groups.add(staff)
    with CaptureQueriesContext(connection) as queries:
        assert denied_path_prefixes(AnonymousUser()) == sorted(p.path for p in pages)
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        assert denied_path_prefixes(member) == [pages[2].path]
    assert len(queries) == 2  # the restrictions, then the member's groups once


def test_two_group_restrictions_on_one_page_must_both_admit(make_page, user_in):
    """Wagtail admits a viewer only if every restriction of the page does: the groups of two
    restrictions on one page must not be merged into one list."""
    from django.contrib.auth.models import Group

    from knowledge.access import denied_path_prefixes

    page = make_page("best_practice", title="Doppelt geschützt")
    north, south = Group.objects.create(name="Nord"), Group.objects.create(name="Süd")
    for group in (north, south):
        restriction = PageViewRestriction.objects.create(
            page=page, restriction_type=PageViewRestriction.GROUPS)
        restriction.groups.add(group)
    member = user_in("Kommune")
    member.groups.add(north)
    assert denied_path_prefixes(member) == [page.path]
    member.groups.add(south)
    assert denied_path_prefixes(member) == []
