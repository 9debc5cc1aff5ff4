"""Chunking: page structure -> passages with heading context, within the model's token limit."""

from __future__ import annotations

import re

import pytest

from search.indexing.chunking import CharBudget, TokenBudget, split_to_budget
from search.indexing.page_chunks import chunk_page
from tests.search_fixtures import *  # noqa: F403

pytestmark = pytest.mark.django_db

LONG_TEXT = " ".join(
    f"Satz {n}: Die Kommune prüfte im Schritt {n} die Übergabe der Akten an das "
    f"Dokumentenmanagement und stellte fest, dass die Zuständigkeiten im Fachbereich {n} "
    "unklar blieben."
    for n in range(1, 121)
)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


def test_protocol_structure(make_page, embedder):
    project = make_page("project", title="E-Akte in Lemgo", goals="Papierlose Verwaltung bis 2026.")
    protocol = make_page(
        "session_protocol",
        title="3. Sitzung Projektgruppe E-Akte",
        project=project.external_id,
        summary="Abstimmung zum Scanverfahren.",
        participants=[{"role": "Projektleitung", "organisation": "Stadt Lemgo"}],
        agenda_items=[
            {"title": "Scanstrategie", "discussion": "Ersetzendes Scannen wird geprüft."},
            {"title": "Schulungen", "discussion": ""},
        ],
        decisions=["Die Posteingangsstelle scannt ab Juli zentral."],
        action_items=[{"task": "Schulungskonzept erstellen", "owner_role": "Personalamt",
                       "due_date": "2024-06-30", "status": "in_arbeit"}],
    )
    chunks = chunk_page(protocol, TokenBudget(embedder))
    kinds = [c.kind for c in chunks]
    assert kinds[0] == "overview"
    assert chunks[0].heading == "3. Sitzung Projektgruppe E-Akte"
    assert "Abstimmung zum Scanverfahren." in chunks[0].text
    assert "Projekt: E-Akte in Lemgo" in chunks[0].text
    assert kinds.count("agenda_item") == 2
    assert kinds.count("decision") == 1
    assert kinds.count("action_item") == 1
    agenda = [c for c in chunks if c.kind == "agenda_item"]
    assert agenda[0].heading == "TOP 1: Scanstrategie"
    assert "Ersetzendes Scannen" in agenda[0].text
    assert agenda[1].text == "Schulungen"  # no discussion: the title is the text
    action = next(c for c in chunks if c.kind == "action_item")
    assert "Schulungskonzept erstellen" in action.text
    assert "Verantwortlich: Personalamt" in action.text
    assert "Fällig am: 30.06.2024" in action.text
    assert "Status: in Arbeit" in action.text
    # Every passage except the overview carries the page title as embedded context.
    assert all(c.embedding_text.startswith("3. Sitzung") for c in chunks)
    assert any(c.heading == "Teilnehmende" and "Projektleitung" in c.text for c in chunks)


def test_project_overview_has_goals_and_topics(make_page, embedder):
    project = make_page("project", title="Digitalstrategie", summary="Strategie für 2030.",
                        goals="Alle Leistungen online.", topics=["Onlinezugangsgesetz"],
                        body="## Vorgehen\n\nWorkshops mit allen Ämtern.")
    chunks = chunk_page(project, TokenBudget(embedder))
    overview = chunks[0]
    assert overview.kind == "overview"
    assert "Strategie für 2030." in overview.text
    assert "Alle Leistungen online." in overview.text
    assert "Themen: Onlinezugangsgesetz" in overview.text
    assert [(c.heading, c.text) for c in chunks[1:]] == [
        ("Vorgehen", "Workshops mit allen Ämtern.")]


def test_lesson_sections_use_german_labels_and_nested_headings(make_page, embedder):
    lesson = make_page(
        "lesson_learned", title="Lehren aus der E-Rechnung",
        situation="Die Rechnungen kamen auf Papier.\n\n## Personal\n\nZu wenig Leute.\n\n"
                  "### Schulung\n\nNiemand war geschult.",
        went_well="Die Software lief stabil.",
        went_badly="Die Schnittstelle zur Finanzsoftware fehlte.",
        recommendation="Früh mit der Kämmerei sprechen.",
    )
    headings = [(c.kind, c.heading) for c in chunk_page(lesson, TokenBudget(embedder))]
    assert headings == [
        ("overview", "Lehren aus der E-Rechnung"),
        ("section", "Ausgangslage"),
        ("section", "Ausgangslage › Personal"),
        ("section", "Ausgangslage › Personal › Schulung"),
        ("section", "Was gut lief"),
        ("section", "Was nicht gut lief"),
        ("section", "Empfehlung"),
    ]


def test_best_practice_sections_include_effort_and_contact_role(make_page, embedder):
    practice = make_page(
        "best_practice", title="Digitale Bauakte", problem="Akten im Keller.",
        solution="Scannen und verschlagworten.", result="Auskunft in Minuten.",
        transferability="Für jede Bauaufsicht geeignet.", effort="zwei Personenjahre",
        contact_role="Leitung Bauaufsicht", contact_email="bau@example.org",
    )
    chunks = chunk_page(practice, TokenBudget(embedder))
    by_heading = {c.heading: c.text for c in chunks}
    assert by_heading["Problem"] == "Akten im Keller."
    assert by_heading["Lösung"] == "Scannen und verschlagworten."
    assert by_heading["Ergebnis"] == "Auskunft in Minuten."
    assert by_heading["Übertragbarkeit"] == "Für jede Bauaufsicht geeignet."
    details = by_heading["Aufwand und Ansprechpartner"]
    assert "Aufwand: zwei Personenjahre" in details
    assert "Ansprechpartner (Rolle): Leitung Bauaufsicht" in details
    assert not any("bau@example.org" in c.text for c in chunks)  # no addresses in the index


@pytest.mark.parametrize("limit", [None, 64])
def test_long_section_is_split_within_token_limit_without_losing_words(make_page, embedder,
                                                                       limit):
    lesson = make_page("lesson_learned", title="Lange Erfahrung", situation=LONG_TEXT,
                       recommendation="Kurz.")
    budget = TokenBudget(embedder, limit=limit)
    assert budget.limit <= embedder.max_tokens
    chunks = chunk_page(lesson, budget)
    situation = [c for c in chunks if c.heading == "Ausgangslage"]
    assert len(situation) > 1, "a section this long must be split"
    for chunk in chunks:
        assert embedder.count_tokens(chunk.embedding_text) <= budget.limit
        assert chunk.embedding_text.startswith("Lange Erfahrung – Ausgangslage") or (
            chunk.heading != "Ausgangslage")
    # No silent truncation: the section's words, in order, are exactly the passages' words.
    assert _words(" ".join(c.text for c in situation)) == _words(LONG_TEXT)


def test_unbreakable_text_is_split_by_characters(embedder):
    word = "Verwaltungsdigitalisierungsbeschleunigungsgesetz" * 40
    budget = TokenBudget(embedder, limit=32)
    pieces = split_to_budget("Titel", "Abschnitt", [f"Anfang {word} Ende"], budget)
    assert "".join(pieces).replace(" ", "") == f"Anfang{word}Ende"
    assert all(embedder.count_tokens(f"Titel – Abschnitt\n{p}") <= 32 for p in pieces)


def test_character_budget_without_model_keeps_all_text(make_page):
    lesson = make_page("lesson_learned", title="Ohne Modell", situation=LONG_TEXT,
                       recommendation="Kurz.")
    budget = CharBudget(limit=500)
    chunks = chunk_page(lesson, budget)
    situation = [c for c in chunks if c.heading == "Ausgangslage"]
    assert all(len(c.embedding_text) <= 500 for c in chunks)
    assert _words(" ".join(c.text for c in situation)) == _words(LONG_TEXT)


def test_umlauts_and_sharp_s_survive(make_page, embedder):
    practice = make_page("best_practice", title="Überörtliche Zusammenarbeit",
                         problem="Größere Gemeinden übernehmen Aufgaben für kleinere.",
                         solution="Gemeinsame Straßenbeleuchtung mit Öko-Strom.")
    chunks = chunk_page(practice, TokenBudget(embedder))
    texts = " ".join(c.embedding_text for c in chunks)
    for word in ("Überörtliche", "Größere", "übernehmen", "Straßenbeleuchtung", "Öko-Strom"):
        assert word in texts


def test_hash_depends_only_on_embedded_text(make_page, embedder):
    lesson = make_page("lesson_learned", title="Stabil", situation="A.", recommendation="B.")
    first = chunk_page(lesson, TokenBudget(embedder))
    second = chunk_page(type(lesson).objects.get(pk=lesson.pk), TokenBudget(embedder))
    assert [c.content_hash for c in first] == [c.content_hash for c in second]
    assert len({c.content_hash for c in first}) == len(first)


def test_overlong_heading_is_kept_as_text(make_page, embedder):
    heading = "Sehr lange Überschrift " * 30
    lesson = make_page("lesson_learned", title="Überschrift", recommendation="Kurz.",
                       situation=f"## {heading}\n\nInhalt des Abschnitts.")
    chunks = chunk_page(lesson, TokenBudget(embedder))
    section = [c for c in chunks if c.heading.startswith("Ausgangslage › Sehr lange")]
    assert section and all(len(c.heading) <= 200 for c in section)
    assert _words(" ".join(c.text for c in section)) == _words(
        f"Ausgangslage {heading} Inhalt des Abschnitts.")
    assert all(embedder.count_tokens(c.embedding_text) <= embedder.max_tokens for c in chunks)
