"""A Kommune account writes for its own municipality (knowledge.page_forms).

Found in a review: the page editor offered a Kommune member all municipalities, so a lesson
learned could be filed as any of them until the Redaktion noticed.
"""

from __future__ import annotations

import io

import pytest

from knowledge.models import (
    LessonLearnedIndexPage,
    LessonLearnedPage,
    Municipality,
    MunicipalityMember,
)
from tests.test_roles import _lesson_post_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def lage_member(user_in):
    lage = Municipality.objects.create(name="Lage")
    Municipality.objects.create(name="Lemgo")
    user = user_in("Kommune")
    MunicipalityMember.objects.create(user=user, municipality=lage)
    return user


def _add_url():
    index = LessonLearnedIndexPage.objects.get()
    return f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/"


def test_kommune_member_is_offered_only_their_municipality(client, lage_member):
    client.force_login(lage_member)
    response = client.get(_add_url())
    form = response.context["form"]
    field = form.fields["municipality"]
    assert [m.name for m in field.queryset] == ["Lage"]
    assert form.initial["municipality"] == Municipality.objects.get(name="Lage").pk
    # Not the snippet chooser, whose picker would list every municipality.
    html = response.content.decode()
    assert '<select name="municipality"' in html and ">Lemgo<" not in html


def test_kommune_member_cannot_file_a_page_for_another_municipality(client, lage_member):
    client.force_login(lage_member)
    data = _lesson_post_data("Für Lemgo eingereicht")  # the helper picks Lemgo
    response = client.post(_add_url(), {**data, "action-submit": "1"})
    assert response.status_code == 200  # the form again, with the error
    assert "municipality" in response.context["form"].errors
    assert not LessonLearnedPage.objects.filter(title="Für Lemgo eingereicht").exists()
    data["municipality"] = Municipality.objects.get(name="Lage").pk
    assert client.post(_add_url(), {**data, "action-submit": "1"}).status_code == 302
    assert LessonLearnedPage.objects.get(title="Für Lemgo eingereicht").municipality.name == "Lage"


def test_redaktion_and_unassigned_accounts_choose_freely(client, lage_member, user_in):
    for user in (user_in("Redaktion"), user_in("Kommune")):
        client.force_login(user)
        field = client.get(_add_url()).context["form"].fields["municipality"]
        assert {m.name for m in field.queryset} >= {"Lage", "Lemgo"}


def test_redaktion_maintains_the_assignments(client, user_in):
    client.force_login(user_in("Redaktion"))
    assert client.get("/admin/snippets/knowledge/municipalitymember/").status_code == 200
    client.force_login(user_in("Kommune"))
    assert client.get("/admin/snippets/knowledge/municipalitymember/").status_code == 302


def test_demo_kommune_account_writes_for_lage(tmp_path, settings):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    settings.KNOWLEDGE_DATA_DIR = tmp_path
    Municipality.objects.create(name="Lage")
    for _ in range(2):  # idempotent
        call_command("ensure_admin", stdout=io.StringIO())
    kommune = get_user_model().objects.get(username="kommune")
    assert kommune.member_municipality.municipality.name == "Lage"
    assert (tmp_path / "admin_password").stat().st_mode & 0o077 == 0


def test_matching_form_preselects_the_members_municipality(client, lage_member, user_in):
    """"Eigene Inhalte Ihrer Kommune werden nicht vorgeschlagen" held only for those who
    chose it: a member of Lage was offered Lage's own pages unless they picked Lage."""
    lage = Municipality.objects.get(name="Lage")
    client.force_login(lage_member)
    html = client.get("/lernen/").content.decode()
    assert f'<option value="{lage.slug}" selected>' in html
    for visitor in (None, user_in("Kommune"), user_in("Redaktion")):  # no membership
        client.logout()
        if visitor is not None:
            client.force_login(visitor)
        assert '<option value="" selected>' in client.get("/lernen/").content.decode()
