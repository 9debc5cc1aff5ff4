"""Browser tests of the network pages: feedback, "Benachrichtigungen", unsubscribe, and the
dashboard report with its chart; axe-core finds zero WCAG 2.1 A/AA violations on each."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.support import admin_login, check_a11y, login, screenshot


def test_feedback_on_a_knowledge_page(page, page_url, db_access):
    from network.models import Feedback

    url = page_url("lesson-oerlinghausen-1")
    page.goto(url)
    form = page.locator("form[data-feedback]")
    expect(form.get_by_role("group", name="War das hilfreich?")).to_be_visible()
    check_a11y(page, "Wissensseite mit Rückmeldung")
    form.get_by_text("Kommentar hinzufügen (optional)").click()
    form.get_by_label("Ihr Kommentar").fill("Die Kosten fehlen.")
    form.get_by_role("button", name="Nein").click()
    expect(form.get_by_role("status")).to_have_text("Danke für Ihre Rückmeldung!")
    assert page.url.endswith(url)  # stayed on the page (script), nothing lost
    feedback = Feedback.objects.filter(comment="Die Kosten fehlen.").get()
    assert feedback.helpful is False
    check_a11y(page, "Wissensseite nach der Rückmeldung")
    Feedback.objects.filter(pk=feedback.pk).delete()


def test_subscriptions_page(page, db_access):
    from network.models import Subscription

    login(page, "kommune.lemgo", next_url="/netz/benachrichtigungen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Benachrichtigungen")
    check_a11y(page, "Benachrichtigungen (leer)")
    page.get_by_label("Thema").select_option(index=1)
    page.get_by_role("button", name="Folgen").click()
    expect(page.get_by_role("status").first).to_contain_text("Sie folgen jetzt")
    page.get_by_label("wöchentlich").check()
    page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Ihre Einstellung wurde gespeichert.")).to_be_visible()
    screenshot(page, "benachrichtigungen")
    check_a11y(page, "Benachrichtigungen (mit Abonnement)")
    Subscription.objects.filter(user__username="kommune.lemgo").delete()


def test_unsubscribe_pages(page, db_access):
    from django.contrib.auth import get_user_model

    from network.models import DigestSettings
    from network.tokens import make_token

    user = get_user_model().objects.get(username="beraterin")
    prefs, _ = DigestSettings.objects.get_or_create(user=user)
    page.goto(f"/netz/abmelden/{make_token(prefs)}/")
    check_a11y(page, "Abmelden: Rückfrage")
    page.get_by_role("button", name="Ja, abbestellen").click()
    expect(page.get_by_role("status")).to_contain_text("Sie sind abgemeldet")
    check_a11y(page, "Abmelden: erledigt")
    response = page.goto("/netz/abmelden/gefaelscht/")
    assert response.status == 400
    expect(page.get_by_role("alert")).to_contain_text("ungültig")
    check_a11y(page, "Abmelden: ungültiger Link")
    prefs.delete()


def test_queries_report_with_chart(page, db_access):
    from network.models import QueryLog

    for query, results in (("E-Akte", 4), ("E-Akte", 0), ("Friedhof", 0)):
        QueryLog.objects.create(query=query, normalized=query.lower(), surface="suche",
                                result_count=results)
    admin_login(page, "redakteur")
    page.goto("/admin/netz/suchanfragen/")
    chart = page.locator(".network-chart")
    expect(chart.get_by_role("img", name="Suchen pro Woche")).to_be_visible()
    chart.get_by_text("Zahlen als Tabelle").click()
    expect(chart.get_by_role("table")).to_be_visible()
    expect(page.get_by_role("cell", name="friedhof")).to_be_visible()
    screenshot(page, "dashboard-suchanfragen")
    check_a11y(page, "Bericht Suchanfragen")
    QueryLog.objects.all().delete()


@pytest.mark.parametrize("path", ["rueckmeldungen/", "aktualitaet/", "luecken/"])
def test_other_reports(page, path):
    admin_login(page, "redakteur")
    response = page.goto(f"/admin/netz/{path}")
    assert response.status == 200
    check_a11y(page, f"Bericht {path}")
