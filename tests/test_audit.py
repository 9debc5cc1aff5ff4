"""Logins, failed logins and publishing leave a line in the audit log."""

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


def test_publishing_and_unpublishing_are_logged(make_page, caplog):
    with caplog.at_level(logging.INFO, logger="knowledge.audit"):
        page = make_page("best_practice", title="Digitale Viertelstunde")
        page.unpublish()
    messages = [r.getMessage() for r in caplog.records if r.name == "knowledge.audit"]
    assert any("event=page_published" in m and "Digitale Viertelstunde" in m for m in messages)
    assert any("event=page_unpublished" in m for m in messages)
