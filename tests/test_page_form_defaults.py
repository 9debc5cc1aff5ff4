"""A new page below a project starts from the project (knowledge/page_forms.py).

Found in a review: a consultant adding the protocol of a project's sixth session got an empty
municipality, no topics and session number 1, and had to type what the project already says.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def project(make_page):
    project = make_page("project", title="Digitalisierungsstrategie Lage", municipality="Lage",
                        topics=["Digitalisierungsstrategie", "Personal"])
    for number in (1, 2, 4):
        make_page("session_protocol", project=project.external_id, municipality="Lage",
                  title=f"{number}. Sitzung", session_number=number)
    return project


def _form(client, user, kind, parent):
    client.force_login(user)
    response = client.get(f"/admin/pages/add/knowledge/{kind}/{parent.pk}/")
    assert response.status_code == 200
    return response.context["form"]


def test_a_protocol_starts_with_the_projects_facts_and_the_next_session(client, user_in,
                                                                         project):
    form = _form(client, user_in("Beratung"), "sessionprotocolpage", project)
    assert form.initial["municipality"] == project.municipality_id
    assert sorted(form.initial["topics"]) == sorted(project.topics.values_list("pk", flat=True))
    assert form.initial["session_number"] == 5


def test_a_lesson_below_the_project_starts_with_its_municipality(client, user_in, project):
    form = _form(client, user_in("Redaktion"), "lessonlearnedpage", project)
    assert form.initial["municipality"] == project.municipality_id
    assert "session_number" not in form.initial


def test_a_page_elsewhere_starts_empty(client, user_in, project):
    from knowledge.models import LessonLearnedIndexPage

    form = _form(client, user_in("Redaktion"), "lessonlearnedpage",
                 LessonLearnedIndexPage.objects.get())
    assert form.initial.get("municipality") is None and not form.initial.get("topics")
