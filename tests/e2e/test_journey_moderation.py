"""Journey: a municipal member submits a lesson learned, the Redaktion approves it, and it shows
up in the related material of a similar page of another municipality.

1. ``kommune.lemgo`` (group Kommune, may only draft under Lessons Learned) writes a lesson about
   a central scanning office for the incoming mail in the Wagtail admin and submits it to the
   workflow "Redaktionelle Freigabe" (label of Wagtail's "Zur Moderation einreichen" item).
2. Before the approval the lesson is not live: anonymous visitors get a 404, the listing does not
   show it, and the similar best practice of Leopoldshöhe does not list it as related material.
3. ``redakteur`` (group Redaktion) approves it with a comment in the page editor's action menu;
   the approval publishes it, and publishing indexes it (immediate task backend).
4. Now the lesson is live and listed, and the page of Leopoldshöhe lists it under
   related material (templates/search/related.html: from stored passage embeddings, cached
   per index generation, so the approval's index write must invalidate the cached list).

The ``search_index`` fixture gives vectors to the target page (and a few neighbours); the new
lesson gets its vectors when the approval publishes it.
"""

import re

import pytest

from tests.e2e.support import (
    admin_field,
    admin_login,
    check_a11y,
    screenshot,
    track_autosave,
    type_rich_text,
    wait_for_autosave,
)

pytestmark = pytest.mark.usefixtures("search_index")

TARGET = "bp-leopoldshoehe-posteingang-buergerbuero"  # Leopoldshöhe: post scanned centrally
TITLE = "Zentrale Scanstelle für die Eingangspost: Trennblätter und Negativliste zuerst"
SUMMARY = (
    "Lemgo hat eine zentrale Scanstelle für die Eingangspost aufgebaut. Die Briefe werden "
    "morgens geöffnet, gescannt und elektronisch in die Postkörbe der Fachbereiche im DMS "
    "verteilt. Barcode-Trennblätter und eine Negativliste hätten wir von Anfang an gebraucht."
)
SITUATION = (
    "Die Eingangspost kam trotz DMS weiter auf Papier in die Fachbereiche; einzelne "
    "Beschäftigte scannten dezentral an den Multifunktionsgeräten in schwankender Qualität."
)
WENT_WELL = (
    "Seit der zentralen Scanstelle liegt die gescannte Post gegen 10 Uhr digital im "
    "elektronischen Postkorb der Fachbereiche, mit Texterkennung und elektronischem "
    "Eingangsstempel."
)
WENT_BADLY = (
    "Das Öffnen, Entklammern und Sortieren der Briefe vor dem Scannen kostete mehr Zeit als "
    "geplant; Post, die nicht gescannt werden darf, war anfangs nicht geregelt."
)
RECOMMENDATION = (
    "Planen Sie das Personal der Scanstelle nach dem gesamten Postaufwand, führen Sie "
    "Barcode-Trennblätter je Fachbereich ein und beschließen Sie vor dem Start eine "
    "Negativliste für Post, die ungeöffnet weitergeht."
)


COMMENT = "Danke, sehr hilfreich für andere Kommunen."


@pytest.fixture
def lesson_cleanup(db_access):
    """Delete the lesson afterwards, so that other tests see the demo content unchanged.

    Requested before the browser fixtures, so it runs after their teardown: no request of a
    still open page may touch the deleted lesson.
    """
    yield
    from knowledge.models import KnowledgePage

    for lesson in KnowledgePage.objects.filter(title=TITLE):
        lesson.delete()


def _related_titles(page):
    aside = page.locator("aside.related-material")
    if not aside.count():
        return []
    return aside.get_by_role("listitem").get_by_role("link").all_inner_texts()


def test_member_submits_lesson_redaktion_approves_it_appears_as_related(
    lesson_cleanup, page, new_context, db_access
):
    from wagtail.models import TaskState

    from knowledge.models import KnowledgePage, LessonLearnedIndexPage, LessonLearnedPage

    target = KnowledgePage.objects.get(external_id=TARGET)
    lessons_index = LessonLearnedIndexPage.objects.get()
    assert target.municipality.name != "Lemgo"
    assert target.passages.exclude(embedding=None).exists(), "target page has no vectors"

    # --- 1. the member drafts the lesson and submits it for moderation ---------------------
    admin_login(page, "kommune.lemgo")
    page.goto(f"/admin/pages/{lessons_index.pk}/")
    page.get_by_role("link", name="Unterseite hinzufügen").first.click()
    # one allowed page type: Wagtail goes straight to the form
    page.wait_for_url(re.compile(r".*/admin/pages/add/knowledge/lessonlearnedpage/\d+/"))
    track_autosave(page)

    page.get_by_placeholder("Seitentitel*").fill(TITLE)
    page.get_by_role("button", name="Kommune auswählen").click()
    modal = page.get_by_role("dialog")
    modal.get_by_label("Suchbegriff").fill("Lemgo")
    modal.get_by_role("link", name="Lemgo", exact=True).click()
    admin_field(page, "Themen").select_option(label="E-Akte und Dokumentenmanagement")
    admin_field(page, "Datum").fill("2025-03-10")
    page.keyboard.press("Escape")  # close the date picker
    admin_field(page, "Zusammenfassung").fill(SUMMARY)
    type_rich_text(page, "Ausgangslage", SITUATION)
    type_rich_text(page, "Was gut lief", WENT_WELL)
    type_rich_text(page, "Was nicht gut lief", WENT_BADLY)
    type_rich_text(page, "Empfehlung", RECOMMENDATION)
    # Wagtail autosaves the draft (and switches to its edit view); submitting while an
    # autosave is in flight would end in a version conflict
    wait_for_autosave(page)
    page.wait_for_url(re.compile(r".*/admin/pages/\d+/edit/$"))
    screenshot(page, "admin-lesson-learned-formular")

    # a member cannot publish; the footer offers the workflow instead ("Zur Moderation
    # einreichen", labelled with the workflow's name when one applies)
    footer = page.locator("footer")
    assert not footer.get_by_role("button", name="Veröffentlichen").count()
    footer.get_by_role("button", name="Mehr Aktionen").click()
    submit = footer.get_by_role(
        "button", name=re.compile(r"Zur Moderation einreichen|In Redaktionelle Freigabe einreichen")
    )
    submit.click()
    # back to the explorer of Lessons Learned, the lesson marked "In Moderation"
    page.wait_for_url(re.compile(rf".*/admin/pages/{lessons_index.pk}/$"))
    assert "zur Moderation eingereicht" in page.locator(".messages").inner_text()
    row = page.get_by_role("row").filter(has_text=TITLE)
    assert "in moderation" in row.inner_text().lower()  # the status tag is upper case

    lesson = LessonLearnedPage.objects.get(title=TITLE)
    assert lesson.get_parent().pk == lessons_index.pk
    assert not lesson.live
    assert lesson.municipality.name == "Lemgo"
    state = lesson.current_workflow_state
    assert state is not None and state.workflow.name == "Redaktionelle Freigabe"
    assert state.current_task_state.task.name == "Prüfung durch die Redaktion"
    assert not lesson.passages.exists(), "a draft must not be indexed"
    lesson_path = f"/lessons-learned/{lesson.slug}/"
    screenshot(page, "admin-lesson-learned-eingereicht")

    # --- 2. before the approval: invisible to anonymous visitors ----------------------------
    visitor = new_context().new_page()
    response = visitor.goto(lesson_path)
    assert response.status == 404
    visitor.goto("/lessons-learned/?kommune=lemgo")
    assert TITLE not in visitor.content()
    visitor.goto(target.url)
    assert visitor.locator("h1").inner_text() == target.title
    related_before = _related_titles(visitor)
    assert related_before, "the target page shows no related material at all"
    assert TITLE not in related_before

    # --- 3. the Redaktion approves it with a comment in the page editor ---------------------
    reviewer = new_context().new_page()
    reviewer_errors: list[str] = []
    reviewer.on("pageerror", lambda exc: reviewer_errors.append(str(exc)))
    admin_login(reviewer, "redakteur")
    reviewer.goto(f"/admin/pages/{lesson.pk}/edit/")
    assert "Prüfung durch die Redaktion" in reviewer.content()
    footer = reviewer.locator("footer")
    footer.get_by_role("button", name="Mehr Aktionen").click()
    # Wagtail labels the last task's approval "... und Veröffentlichen" for a publisher
    footer.get_by_role("button", name=re.compile(r"^\s*Mit Kommentar genehmigen")).click()
    dialog = reviewer.get_by_role("dialog")
    dialog.get_by_label("Kommentar").fill(COMMENT)
    screenshot(reviewer, "admin-lesson-learned-freigabe")
    # approving the last task publishes, and publishing indexes in the request
    with reviewer.expect_navigation(timeout=120_000):
        dialog.get_by_role("button", name="Mit Kommentar genehmigen").click(no_wait_after=True)
    # Wagtail reports a workflow action as "updated"; back in the explorer, now published
    reviewer.wait_for_url(re.compile(rf".*/admin/pages/{lessons_index.pk}/$"))
    assert "wurde aktualisiert" in reviewer.locator(".messages").inner_text()
    row = reviewer.get_by_role("row").filter(has_text=TITLE)
    assert "veröffentlicht" in row.inner_text().lower()
    assert not reviewer_errors, f"JavaScript errors in the admin: {reviewer_errors}"

    lesson.refresh_from_db()
    assert lesson.live
    assert lesson.current_workflow_state is None
    task_state = TaskState.objects.get(workflow_state__in=lesson.workflow_states)
    assert task_state.status == TaskState.STATUS_APPROVED
    assert task_state.finished_by.username == "redakteur" and task_state.comment == COMMENT
    assert lesson.passages.exclude(embedding=None).exists(), "approved lesson has no vectors"

    # --- 4. live, listed, and related material of the other municipality's page ------------
    response = visitor.goto(lesson_path)
    assert response.status == 200
    assert visitor.locator("h1").inner_text() == TITLE
    visitor.goto("/lessons-learned/?kommune=lemgo")
    visitor.get_by_role("link", name=TITLE).click()
    assert visitor.locator("h1").inner_text() == TITLE
    screenshot(visitor, "lesson-learned-nach-freigabe")

    visitor.goto(target.url)
    # the box of templates/search/related.html, labelled by its heading (the wording of the
    # heading is the template's business, not this journey's)
    related = visitor.locator("aside.related-material")
    heading = related.get_by_role("heading", level=2)
    assert heading.is_visible() and heading.inner_text().strip()
    assert related.get_attribute("aria-labelledby") == heading.get_attribute("id")
    link = related.get_by_role("link", name=TITLE)
    assert link.is_visible(), _related_titles(visitor)
    item = related.get_by_role("listitem").filter(
        has=visitor.get_by_role("link", name=TITLE)
    )
    assert "Lesson Learned, Lemgo" in item.inner_text()
    screenshot(visitor, "verwandtes-material-mit-neuer-lesson")
    check_a11y(visitor, "Best Practice mit verwandtem Material")
    link.click()
    assert visitor.locator("h1").inner_text() == TITLE
