"""What the Wagtail admin shows a Kommune member of other people's pages (knowledge.admin_access).

Found in a review: the explorer and the page choosers listed other municipalities'
unpublished drafts and pages restricted to other groups, and the site history and the
page-types report named them and their editors.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from knowledge.models import KnowledgePage, LessonLearnedIndexPage

pytestmark = pytest.mark.django_db


@pytest.fixture
def pages(make_page, user_in):
    author, other = user_in("Kommune"), user_in("Kommune")
    draft = make_page("lesson_learned", title="Entwurf Stellenabbau Lemgo")
    draft.owner = author
    draft.save()
    draft.unpublish()
    own = make_page("lesson_learned", title="Eigene Notiz zur Terminvergabe")
    own.owner = other
    own.save()
    own.unpublish()
    make_page("lesson_learned", title="Öffentliche Erfahrung mit der E-Akte")
    secret = make_page("lesson_learned", title="Vertraulich Haushaltssperre")
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Beratung"))
    return {"author": author, "other": other}


def _admin_views(client):
    index = LessonLearnedIndexPage.objects.get().pk
    ids = [page.pk for page in KnowledgePage.objects.filter(
        title__in=["Entwurf Stellenabbau Lemgo", "Vertraulich Haushaltssperre"])]
    urls = [f"/admin/pages/{index}/", f"/admin/choose-page/{index}/",
            "/admin/choose-page/search/?q=Entwurf", "/admin/choose-page/search/?q=Vertraulich",
            f"/admin/api/main/pages/?child_of={index}&for_explorer=1",
            f"/admin/api/main/pages/?child_of={index}", "/admin/api/main/pages/?search=Entwurf",
            "/admin/pages/search/?q=Entwurf", "/admin/pages/search/?q=Vertraulich",
            *(f"/admin/api/main/pages/{pk}/" for pk in ids),
            *(f"/admin/pages/{pk}/" for pk in ids)]
    return "".join(client.get(url).content.decode() for url in urls)


def test_kommune_member_sees_public_and_own_pages_only(client, pages):
    client.force_login(pages["other"])
    seen = _admin_views(client)
    assert "Öffentliche Erfahrung mit der E-Akte" in seen
    assert "Eigene Notiz zur Terminvergabe" in seen
    assert "Entwurf Stellenabbau Lemgo" not in seen
    assert "Vertraulich Haushaltssperre" not in seen
    client.force_login(pages["author"])
    assert "Entwurf Stellenabbau Lemgo" in _admin_views(client)


def test_redaktion_still_sees_every_page(client, pages, user_in):
    client.force_login(user_in("Redaktion"))
    seen = _admin_views(client)
    for title in ("Entwurf Stellenabbau Lemgo", "Eigene Notiz zur Terminvergabe",
                  "Vertraulich Haushaltssperre"):
        assert title in seen


@pytest.mark.parametrize("url", ["/admin/reports/site-history/",
                                 "/admin/reports/site-history/results/",
                                 "/admin/reports/page-types-usage/",
                                 "/admin/reports/page-types-usage/results/"])
def test_reports_naming_other_peoples_pages_are_for_editors(client, pages, user_in, url):
    client.force_login(pages["other"])
    response = client.get(url)
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert "Entwurf Stellenabbau" not in client.get("/admin/").content.decode()
    client.force_login(user_in("Redaktion"))
    assert client.get(url).status_code == 200


def test_aging_pages_report_names_no_publisher_as_a_dash(client, make_page, user_in):
    """Pages the importer published have no publishing account: Wagtail's report wrote
    "None" in the column "Zuletzt veröffentlicht durch"."""
    make_page("lesson_learned", title="Importierte Erfahrung")
    client.force_login(user_in("Redaktion"))
    html = client.get("/admin/reports/aging-pages/").content.decode()
    row = html.split("Importierte Erfahrung")[1].split("</tr>")[0]
    assert "None" not in row and '<span class="w-sr-only">unbekannt</span>' in row


def test_reports_menu_hides_them_from_members(client, pages):
    client.force_login(pages["other"])
    menu = client.get("/admin/").content.decode()
    assert "/admin/reports/site-history/" not in menu
    assert "/admin/reports/page-types-usage/" not in menu
