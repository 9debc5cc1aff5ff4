"""Logins, failed logins and page events (publishing, approval, privacy, deletion) leave a line
in the audit log, naming the user who acted and their address."""

import logging

import pytest

pytestmark = pytest.mark.django_db


def test_login_and_failed_login_are_logged(client, user_in, caplog):
    user = user_in("Kommune", username="amtsleitung")
    with caplog.at_level(logging.INFO, logger="knowledge.audit"):
        client.post("/anmelden/", {"username": "amtsleitung", "password": "falsch"})
        client.post("/anmelden/", {"username": "amtsleitung", "password": "pw-123456"})
    messages = [r.getMessage() for r in caplog.records if r.name == "knowledge.audit"]
    assert any("event=login_failed user=amtsleitung" in m for m in messages)
    assert any("event=login user=amtsleitung" in m for m in messages)
    assert not any("pw-123456" in m or "falsch" in m for m in messages)
    assert user.is_authenticated


def test_publishing_and_unpublishing_are_logged(make_page, caplog,
                                                django_capture_on_commit_callbacks):
    with caplog.at_level(logging.INFO, logger="knowledge.audit"), \
            django_capture_on_commit_callbacks(execute=True):
        page = make_page("best_practice", title="Digitale Viertelstunde")
        page.unpublish()
    messages = [r.getMessage() for r in caplog.records if r.name == "knowledge.audit"]
    assert any("event=page_published" in m and "Digitale Viertelstunde" in m for m in messages)
    assert any("event=page_unpublished" in m for m in messages)


def _audit_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "knowledge.audit"]


def test_approval_names_the_approver_and_privacy_and_deletion_are_logged_once(
        client, user_in, caplog, django_capture_on_commit_callbacks):
    """Publishing was logged with the revision's author (a Kommune member who may not
    publish) instead of the approving Redaktion; deleting wrote two "page_deleted" lines
    (one per table of the page) and one without user; privacy changes left no line."""
    from wagtail.models import PageViewRestriction

    from knowledge.models import LessonLearnedIndexPage, LessonLearnedPage
    from tests.test_roles import _lesson_post_data

    author, reviewer = user_in("Kommune", username="autorin"), user_in(
        "Redaktion", username="redakteurin")
    index = LessonLearnedIndexPage.objects.get()
    client.force_login(author)
    client.post(f"/admin/pages/add/knowledge/lessonlearnedpage/{index.pk}/",
                {**_lesson_post_data("Personalrat früh einbinden"), "action-submit": "1"})
    page = LessonLearnedPage.objects.get(title="Personalrat früh einbinden")
    task_state = page.current_workflow_state.current_task_state
    client.force_login(reviewer)
    with caplog.at_level(logging.INFO, logger="knowledge.audit"), \
            django_capture_on_commit_callbacks(execute=True):
        client.post(f"/admin/pages/workflow/action/{page.pk}/approve/{task_state.pk}/",
                    {"comment": "Passt."}, REMOTE_ADDR="198.51.100.4")
        client.post(f"/admin/pages/{page.pk}/privacy/",
                    {"restriction_type": PageViewRestriction.LOGIN},
                    REMOTE_ADDR="198.51.100.4")
        client.post(f"/admin/pages/{page.pk}/delete/", REMOTE_ADDR="198.51.100.4")
    lines = _audit_lines(caplog)
    published = [m for m in lines if "event=page_published" in m]
    assert len(published) == 1 and "user=redakteurin ip=198.51.100.4" in published[0]
    assert any("event=page_approved user=redakteurin" in m for m in lines)
    assert any("event=page_privacy_changed user=redakteurin ip=198.51.100.4" in m
               for m in lines)
    deleted = [m for m in lines if "event=page_deleted" in m]
    assert len(deleted) == 1 and "user=redakteurin" in deleted[0]
    assert f"page={page.pk} type=LessonLearnedPage" in deleted[0]
    assert not any("user=autorin" in m for m in lines)


def test_rows_loaded_as_they_are_are_not_events(make_page, caplog,
                                                django_capture_on_commit_callbacks):
    """Restoring a database snapshot (deserialised rows, ``raw`` saves) wrote audit lines
    for old events and crashed when a row's content type was not loaded yet."""
    from django.core import serializers
    from wagtail.models import PageLogEntry

    make_page("best_practice", title="Digitale Viertelstunde")
    dump = serializers.serialize("json", PageLogEntry.objects.all())
    PageLogEntry.objects.all().delete()
    with caplog.at_level(logging.INFO, logger="knowledge.audit"), \
            django_capture_on_commit_callbacks(execute=True):
        for row in serializers.deserialize("json", dump):
            row.save()
    assert PageLogEntry.objects.exists()
    assert not [r for r in caplog.records if r.name == "knowledge.audit"]
