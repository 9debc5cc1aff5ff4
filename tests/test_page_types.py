"""Page tree rules: which page type may live where."""

import pytest

from knowledge.models import (
    BestPracticeIndexPage,
    BestPracticePage,
    HomePage,
    KnowledgePage,
    LessonLearnedIndexPage,
    LessonLearnedPage,
    ProjectIndexPage,
    ProjectPage,
    SessionProtocolPage,
)

pytestmark = pytest.mark.django_db


def test_site_skeleton_exists_after_migrate():
    home = HomePage.objects.get()
    assert home.live and home.url == "/"
    children = {type(p.specific) for p in home.get_children()}
    assert children == {ProjectIndexPage, LessonLearnedIndexPage, BestPracticeIndexPage}


def test_protocols_only_under_projects():
    assert SessionProtocolPage.can_create_at(ProjectPage(title="x"))
    assert not SessionProtocolPage.can_create_at(ProjectIndexPage.objects.get())
    assert not SessionProtocolPage.can_create_at(LessonLearnedIndexPage.objects.get())


def test_lessons_under_projects_or_lesson_index():
    assert LessonLearnedPage.can_create_at(ProjectPage(title="x"))
    assert LessonLearnedPage.can_create_at(LessonLearnedIndexPage.objects.get())
    assert not LessonLearnedPage.can_create_at(BestPracticeIndexPage.objects.get())


def test_projects_and_best_practices_only_in_their_section():
    assert ProjectPage.can_create_at(ProjectIndexPage.objects.get())
    assert not ProjectPage.can_create_at(HomePage.objects.get())
    assert BestPracticePage.can_create_at(BestPracticeIndexPage.objects.get())
    assert not BestPracticePage.can_create_at(ProjectPage(title="x"))


def test_section_pages_are_singletons_and_base_is_not_creatable():
    assert not ProjectIndexPage.can_create_at(HomePage.objects.get())  # max_count = 1
    assert not KnowledgePage.is_creatable


def test_external_id_is_unique_across_types(make_page):
    from django.core.exceptions import ValidationError
    from django.db import IntegrityError, transaction

    make_page("best_practice", external_id="same-id")
    lesson = LessonLearnedPage(
        title="Doppelt", slug="doppelt", external_id="same-id",
        municipality=BestPracticePage.objects.get().municipality, date="2024-01-01",
        summary="x", situation="<p>x</p>", recommendation="<p>y</p>",
    )
    with pytest.raises(ValidationError), transaction.atomic():
        LessonLearnedIndexPage.objects.get().add_child(instance=lesson)
    # The database enforces it too, not only the form validation.
    with pytest.raises(IntegrityError), transaction.atomic():
        KnowledgePage.objects.filter(pk=lesson_pk_of_other(make_page)).update(
            external_id="same-id"
        )


def lesson_pk_of_other(make_page):
    return make_page("lesson_learned").pk
