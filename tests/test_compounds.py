"""German decompounding in full text: the splitter, index time, query time, existing rows.

Real embedded PostgreSQL and the real importer and indexer; full-text mode, so the assertions
do not depend on the embedding model.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from search import compounds
from search.models import Passage
from search.query import tsquery_text
from search.retrieval import search
from tests.conftest import record
from tests.retrieval_fixtures import import_indexed


def test_splits_compounds_and_keeps_ordinary_words_whole():
    assert compounds.split_word("Bürgerbeteiligung") == ("Bürger", "Beteiligung")
    assert compounds.split_word("Aktenscannen") == ("Akten", "Scannen")
    assert compounds.split_word("Terminvergabe") == ("Termin", "Vergabe")
    for word in ("Verwaltung", "Präsentation", "Digitalisierung", "Termin", "Rat"):
        assert compounds.split_word(word) == (), word


def test_short_parts_are_not_kept():
    # CharSplit also likes "Technik" + "Pau" + "Schale"; parts under MIN_PART letters go.
    for part in compounds.split_word("Technikpauschale"):
        assert len(part) >= compounds.MIN_PART


def test_passage_parts_follow_the_title_weight():
    overview = compounds.passage_parts("overview", "Bürgerbeteiligung online",
                                       "Wir planen die Dorfentwicklung.")
    assert overview["title_parts"] == "Bürger Beteiligung"
    assert "Entwicklung" in overview["compound_parts"].split()
    section = compounds.passage_parts("section", "Aktenscannen", "Text")
    assert section == {"title_parts": "", "compound_parts": "Akten Scannen"}


def test_query_parts_follow_the_query_words():
    assert compounds.expand_query_tokens(["Aktenscannen", "Akten"]) == \
        ["Aktenscannen", "Akten", "Scannen"]
    assert tsquery_text("Bürgerbeteiligung", prefix_min_length=0) == \
        "Bürgerbeteiligung | Bürger | Beteiligung"



@pytest.fixture
def corpus(import_lines):
    return import_indexed(
        import_lines,
        record("best_practice", external_id="bp-beteiligung", title="Bürgerbeteiligung im Dorf",
               summary="Eine Plattform im Internet sammelt Ideen der Einwohnerschaft."),
        record("best_practice", external_id="bp-scan", title="Posteingang am Morgen",
               summary="Das Aktenscannen übernimmt das Bürgerbüro vor der Öffnung."),
        record("lesson_learned", external_id="ll-manuell", title="Akten von Hand ablegen",
               summary="Wir scannen nichts und legen die Akten in Ordnern ab."),
        record("project", external_id="pr-other", title="Winterdienst mit GPS",
               summary="Streufahrzeuge melden ihre Position."),
    )


def ids(results):
    return [hit.external_id for hit in results.results]


@pytest.mark.django_db
def test_index_time_a_part_finds_the_compound(corpus):
    """'Beteiligung' is no prefix of 'Bürgerbeteiligung': only the stored part matches it."""
    assert ids(search("Beteiligung", mode="fulltext")) == ["bp-beteiligung"]
    assert "bp-scan" in ids(search("scannen", mode="fulltext"))
    passage = Passage.objects.get(page__external_id="bp-beteiligung",
                                  kind="overview")
    assert passage.title_parts == "Bürger Beteiligung"
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM search_passage WHERE id = %s",
                       [passage.pk])
        assert "'beteil':" in cursor.fetchone()[0]


@pytest.mark.django_db
def test_index_time_title_parts_count_as_title(corpus):
    """The part of a title compound carries weight A, so it gets the title boost."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_passage WHERE search_vector @@ "
                       "'beteil:A'::tsquery")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_query_time_a_compound_finds_its_parts(corpus):
    """'Aktenscannen' in the query also asks for 'Akten' and 'Scannen' (written apart)."""
    found = ids(search("Aktenscannen", mode="fulltext"))
    assert found[0] == "bp-scan"  # the compound itself still ranks first
    assert "ll-manuell" in found
    assert "pr-other" not in found


@pytest.mark.django_db
def test_migration_fills_parts_of_existing_passages(corpus):
    """Rows indexed before decompounding (empty parts) get them from the migration step."""
    fill_parts = __import__("search.migrations.0007_compound_parts",
                            fromlist=["fill_parts"]).fill_parts
    Passage.objects.update(title_parts="", compound_parts="")
    assert "bp-beteiligung" not in ids(search("Beteiligung", mode="fulltext"))
    fill_parts(apps, None)
    assert ids(search("Beteiligung", mode="fulltext")) == ["bp-beteiligung"]


def test_split_quality_on_real_compounds_of_the_demo_content():
    """The measured quality (docs/search-ranking.md, fifth round) holds: at least 40 of the
    60 judged words split as expected (parts compared by their first four letters, so
    "Wissens" = "Wissen"), and no ordinary word is split at all."""
    from django.conf import settings

    path = settings.BASE_DIR / "search" / "judgements" / "compound_splits.txt"
    rows = [line.split() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    assert len(rows) >= 50
    correct = 0
    for word, *expected in rows:
        got = list(compounds.split_word(word)) or [word]
        if not expected:
            assert got == [word], word
        correct += [p.lower()[:4] for p in got] == [p.lower()[:4] for p in expected or [word]]
    assert correct >= 40


@pytest.mark.django_db
def test_rebuild_search_index_recomputes_missing_parts(corpus):
    """An existing database with empty parts is repaired by a plain rebuild (no re-embedding
    needed: the passages' texts are unchanged, only the parts are written)."""
    from django.core.management import call_command

    Passage.objects.update(title_parts="", compound_parts="")
    call_command("rebuild_search_index", "--no-progress")
    assert ids(search("Beteiligung", mode="fulltext")) == ["bp-beteiligung"]
