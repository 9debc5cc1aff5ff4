"""Ranking: the three modes, filters, permissions, degraded mode and the indexes the SQL uses.

Everything runs against the real embedded PostgreSQL and the configured embedding model; the
assertions avoid depending on which model that is (they use queries whose answer shares words
or is the only plausible match).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from wagtail.models import PageViewRestriction

from search import compounds, fulltext, fusion, retrieval, statistics
from search.fulltext import bm25_term_factor, length_normalisation, title_terms
from search.fusion import aggregate_pages, fuse
from search.params import FusionParams
from search.query import SearchError, SearchFilters, clean_query, resolve_filters, tsquery_text
from search.retrieval import search
from search.vector import hnsw_candidates_sql
from tests.conftest import record
from tests.retrieval_fixtures import import_indexed, index_pages, shared_records, write_passages

pytestmark = pytest.mark.django_db


@pytest.fixture
def corpus(import_lines):
    """Four public pages in three municipalities, indexed."""
    return import_indexed(
        import_lines,
        *shared_records(),
        record("best_practice", external_id="bp-winter", title="Winterdienst mit GPS",
               municipality="Detmold", topics=["Abfallwirtschaft"], date="2021-11-30",
               summary="Streufahrzeuge melden ihre Position; Bürger sehen geräumte Straßen."),
    )


def ids(results):
    return [hit.external_id for hit in results.results]


@pytest.mark.parametrize("mode", ["fulltext", "vector", "hybrid"])
def test_each_mode_finds_the_obvious_page(corpus, mode):
    results = search("Abfallkalender Müllabfuhr", mode=mode)
    assert results.mode == mode
    assert not results.degraded
    assert ids(results)[0] == "bp-abfall"


def test_fulltext_is_tolerant_of_inflection_and_word_order(corpus):
    # "Schulung" (singular) and reversed word order still find "Schulungen ... E-Akte".
    results = search("Schulung Akte elektronisch", mode="fulltext")
    assert ids(results)[0] == "ll-eakte"


def test_fulltext_uses_or_semantics(corpus):
    results = search("Abfallkalender Zauberwürfel Raumfahrt", mode="fulltext")
    assert "bp-abfall" in ids(results)


def test_fulltext_prefix_matches_first_part_of_compounds(corpus):
    assert "bp-abfall" in ids(search("Müllabfuhr", mode="fulltext"))


def test_vector_finds_paraphrase_without_shared_words(corpus):
    # Model-agnostic: only require the answer among the two best of four pages.
    results = search("Kindergartenplatz im Internet beantragen", mode="vector")
    assert "pr-kita" in ids(results)[:2]


def test_snippet_is_highlighted_and_escaped(corpus, import_lines):
    from knowledge.models import KnowledgePage

    import_lines(record("best_practice", external_id="bp-html", title="Sonderzeichen",
                        summary="Vergleich a < b & <script>alert(1)</script> Glasfaser"))
    index_pages([KnowledgePage.objects.get(external_id="bp-html").specific])
    hit = next(h for h in search("Glasfaser", mode="fulltext").results
               if h.external_id == "bp-html")
    assert "<mark>Glasfaser</mark>" in hit.snippet
    assert "<script>" not in hit.snippet
    assert "&lt;" in hit.snippet


def test_snippets_leave_out_the_context_lines_of_the_index(import_lines):
    """Overview passages end with "Projekt: …" and "Themen: …" for search; snippets showed
    them as if they were the page's text, and list dashes as " - "."""
    from knowledge.models import KnowledgePage

    import_lines(record("project", external_id="pr-glas", title="Glasfaser für alle Ortsteile"),
                 record("lesson_learned", external_id="ll-glas", project="pr-glas",
                        title="Ausbau", topics=["Breitband"],
                        summary="Der Ausbau lief gut.\n\n- Trassen früh mit Glasfaser planen"))
    index_pages(list(KnowledgePage.objects.filter(external_id__in=["pr-glas", "ll-glas"])
                     .specific()))
    hit = next(h for h in search("Glasfaser Breitband", mode="fulltext").results
               if h.external_id == "ll-glas")
    assert "<mark>Glasfaser</mark>" in hit.snippet
    assert "Projekt:" not in hit.snippet and "Themen:" not in hit.snippet
    assert "• Trassen" in hit.snippet and "- Trassen" not in hit.snippet


def test_vector_snippet_marks_query_terms(corpus):
    # Whatever the model ranks first: the page containing the word has it marked.
    hit = next(h for h in search("Schulungen", mode="vector").results
               if h.external_id == "ll-eakte")
    assert "<mark>Schulungen</mark>" in hit.snippet


def test_result_fields(corpus):
    hit = search("Abfallkalender", mode="hybrid").results[0]
    assert hit.title == "Digitaler Abfallkalender"
    assert hit.knowledge_type == "best_practice"
    assert hit.municipality == "Lemgo"
    assert hit.date == dt.date(2023, 5, 1)
    assert hit.topics == ["Abfallwirtschaft"]
    assert hit.url.startswith("/best-practices/")
    assert hit.score > 0
    data = hit.as_dict()
    assert set(data) >= {"title", "url", "type", "municipality", "external_id", "score",
                         "snippet"}


# --- Filters -------------------------------------------------------------------------------


def test_filters(corpus):
    def run(**kwargs):
        return set(ids(search("Abfall Akte Kita Winter", mode="hybrid",
                              filters=resolve_filters(**kwargs), limit=50)))

    assert run(types="best_practice") == {"bp-abfall", "bp-winter"}
    assert run(types=["project", "lesson_learned"]) == {"pr-kita", "ll-eakte"}
    assert run(municipality="Detmold") == {"ll-eakte", "bp-winter"}
    assert run(municipality="detmold") == {"ll-eakte", "bp-winter"}  # slug works too
    assert "ll-eakte" not in run(exclude_municipality="Detmold")
    assert "bp-winter" not in run(exclude_municipality="Detmold")
    assert run(topic="Abfallwirtschaft") == {"bp-abfall", "bp-winter"}
    assert run(date_from="2023-01-01") == {"bp-abfall", "pr-kita"}
    assert run(date_to="2022-01-15") == {"ll-eakte", "bp-winter"}
    assert run(date_from="2022-01-01", date_to="2023-12-31") == {"ll-eakte", "bp-abfall"}


def test_facets_count_result_pages(corpus):
    results = search("Abfall Akte Kita Winter", mode="hybrid", limit=1)
    assert len(results.results) == 1
    assert results.total == 4
    types = {f.value: f.count for f in results.facets["types"]}
    assert types == {"best_practice": 2, "lesson_learned": 1, "project": 1}
    municipalities = {f.label: f.count for f in results.facets["municipalities"]}
    assert municipalities == {"Detmold": 2, "Lemgo": 1, "Bielefeld": 1}
    topics = {f.label: f.count for f in results.facets["topics"]}
    assert topics["Abfallwirtschaft"] == 2


def test_vector_search_fills_a_page_under_selective_filters(corpus, import_lines):
    """Iterative HNSW scan: a filter that only few passages pass still returns all of them."""
    from knowledge.models import KnowledgePage

    import_lines(*[record("lesson_learned", external_id=f"ll-bulk-{n}", municipality="Bulkstadt",
                          title=f"Erfahrung Nummer {n}", summary=f"Allgemeiner Bericht {n}.")
                   for n in range(40)])
    index_pages([p.specific for p in KnowledgePage.objects.filter(
        external_id__startswith="ll-bulk-")])
    params = FusionParams.from_settings(ef_search=10, candidates=10)
    results = search("Abfallkalender", mode="vector", params=params, limit=10,
                     filters=resolve_filters(municipality="Lemgo"))
    assert ids(results) == ["bp-abfall"]
    results = search("Bericht", mode="vector", params=params, limit=10,
                     filters=resolve_filters(types="best_practice"))
    assert set(ids(results)) == {"bp-abfall", "bp-winter"}


@pytest.mark.parametrize("kwargs, message", [
    ({"types": "blog"}, "Unbekannter Inhaltstyp"),
    ({"municipality": "Atlantis"}, "Kommune „Atlantis“ ist unbekannt"),
    ({"exclude_municipality": "Atlantis"}, "ist unbekannt"),
    ({"topic": "Raumfahrt"}, "Thema „Raumfahrt“ ist unbekannt"),
    ({"date_from": "2024-13-01"}, "kein gültiges Kalenderdatum"),
    ({"date_to": "gestern"}, "Format JJJJ-MM-TT"),
    ({"date_from": "2024-02-01", "date_to": "2023-01-01"}, "liegt nach"),
    ({"municipality": "Lemgo\x00'; DROP TABLE x; --"}, "ist unbekannt"),
])
def test_bad_filters_raise_german_errors(corpus, kwargs, message):
    with pytest.raises(SearchError, match=message):
        resolve_filters(**kwargs)


# --- Bad query input -----------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "   ", "\t\n", "\x00", "\x00\x01\x7f"])
def test_empty_queries_are_rejected(query):
    with pytest.raises(SearchError, match="Suchbegriff"):
        clean_query(query)


def test_overlong_query_is_rejected():
    with pytest.raises(SearchError, match="zu lang"):
        clean_query("a" * 1001)
    assert clean_query("a" * 1000 + "    ") == "a" * 1000


def test_unknown_mode_is_rejected():
    with pytest.raises(SearchError, match="Unbekannter Suchmodus"):
        search("Abfall", mode="semantic")


NASTY = [
    "\"Abfall", "Abfall\\", "\\\\", "'", "''", "a & b | !c", "Abfall:*", "(Akte <-> E)",
    "!!!", "& | ! : * ( ) < - >", "<->", "' OR 1=1; --", "Robert'); DROP TABLE search_passage;--",
    "Müll 🗑️♻️", "🗑️", "Abfall\x00kalender", "Akte\x1b[31m", "\u200b\u200e", "%_%", "$$ $1",
    "E'\\x00'", "ü" * 999,
]


@pytest.mark.parametrize("mode", ["fulltext", "vector", "hybrid"])
def test_hostile_input_never_errors(corpus, mode):
    for query in NASTY:
        try:
            results = search(query, mode=mode)
        except SearchError as exc:  # only the cases that are empty after cleaning
            assert "Suchbegriff" in str(exc), query
            continue
        for hit in results.results:
            assert "<script" not in hit.snippet


def test_tsquery_text_only_contains_words_and_operators():
    assert tsquery_text("a & b | !c 'd' \\e :* (f) <-> g", prefix_min_length=0) == \
        "a | b | c | d | e | f | g"
    # The parts of a compound follow the query's own words (search.compounds).
    assert tsquery_text("Abfallkalender Müll", prefix_min_length=5) == \
        "Abfallkalender:* | Müll | Abfall:* | Kalender:*"
    assert tsquery_text("2019 Jahr", prefix_min_length=4) == "2019 | Jahr:*"


# --- Permissions ---------------------------------------------------------------------------


@pytest.fixture
def restricted(corpus, import_lines):
    """A page under a group restriction, a login-only page and a draft (unpublished) page."""
    from knowledge.models import KnowledgePage

    import_lines(
        record("best_practice", external_id="bp-secret", title="Geheimer Abfallkalender",
               municipality="Geheimstadt", topics=["Verschlusssache"],
               summary="Vertrauliche Müllabfuhrtermine der Geheimstadt."),
        record("best_practice", external_id="bp-login", title="Abfallkalender intern",
               municipality="Loginstadt", summary="Nur für angemeldete Müllabfuhr-Fans."),
        record("best_practice", external_id="bp-draft", title="Abfallkalender Entwurf",
               municipality="Entwurfstadt", summary="Unveröffentlichte Müllabfuhrtermine."),
    )
    secret = KnowledgePage.objects.get(external_id="bp-secret").specific
    login = KnowledgePage.objects.get(external_id="bp-login").specific
    draft = KnowledgePage.objects.get(external_id="bp-draft").specific
    restriction = PageViewRestriction.objects.create(
        page=secret, restriction_type=PageViewRestriction.GROUPS)
    restriction.groups.add(Group.objects.get(name="Beratung"))
    PageViewRestriction.objects.create(page=login, restriction_type=PageViewRestriction.LOGIN)
    index_pages([secret, login])
    draft.unpublish()
    write_passages([draft])  # stale passages of an unpublished page must not leak either
    return {"secret": secret, "login": login, "draft": draft}


HIDDEN_STRINGS = ("Geheim", "Vertraulich", "Entwurf", "Unveröffentlicht")


def _visible(results):
    return set(ids(results))


def _assert_hidden(results, external_ids, strings=HIDDEN_STRINGS):
    assert not (_visible(results) & set(external_ids))
    for hit in results.results:
        for s in strings:
            assert s not in hit.snippet and s not in hit.title
    for facet in results.facets.values():
        for item in facet:
            assert item.label not in ("Geheimstadt", "Entwurfstadt", "Verschlusssache")


@pytest.mark.parametrize("mode", ["fulltext", "vector", "hybrid"])
def test_anonymous_never_sees_restricted_or_draft_pages(restricted, mode):
    results = search("Geheimer Abfallkalender Müllabfuhrtermine Entwurf", mode=mode, limit=50)
    _assert_hidden(results, {"bp-secret", "bp-login", "bp-draft"})
    assert "bp-abfall" in _visible(results)
    assert results.total == len(_visible(results))


@pytest.mark.parametrize("mode", ["fulltext", "vector", "hybrid"])
def test_logged_in_users_see_what_they_may(restricted, user_in, mode):
    query = "Geheimer Abfallkalender Müllabfuhrtermine"
    plain = search(query, mode=mode, user=user_in(), limit=50)
    _assert_hidden(plain, {"bp-secret", "bp-draft"}, strings=("Geheim", "Entwurf"))
    assert "bp-login" in _visible(plain)

    beratung = search(query, mode=mode, user=user_in("Beratung"), limit=50)
    assert {"bp-secret", "bp-login"} <= _visible(beratung)
    assert "bp-draft" not in _visible(beratung)
    assert any(f.label == "Geheimstadt" for f in beratung.facets["municipalities"])


# --- Degraded mode and model mismatch ------------------------------------------------------


def test_unavailable_model_degrades_to_fulltext(corpus, monkeypatch):
    from search.embedding import EmbeddingUnavailable

    def broken():
        raise EmbeddingUnavailable("kaputt")

    monkeypatch.setattr("search.embedding.get_embedder", broken)
    for mode in ("vector", "hybrid"):
        results = search("Abfallkalender", mode=mode)
        assert results.degraded
        assert results.mode == "fulltext"
        assert results.requested_mode == mode
        assert "nicht verfügbar" in results.notice
        assert ids(results)[0] == "bp-abfall"
    assert not search("Abfallkalender", mode="fulltext").degraded


def test_failed_query_embedding_degrades_to_fulltext(corpus, monkeypatch):
    """The model loaded, but embedding this query fails."""
    from search.embedding import Embedder, EmbeddingUnavailable

    def failing(self, text):
        raise EmbeddingUnavailable("kaputt")

    monkeypatch.setattr(Embedder, "embed_query", failing)
    for mode in ("vector", "hybrid"):
        results = search("Abfallkalender", mode=mode)
        assert results.degraded and results.mode == "fulltext"
        assert "nicht verfügbar" in results.notice
        assert ids(results)[0] == "bp-abfall"


def test_passages_of_another_model_are_never_compared(corpus):
    from search.models import Passage

    Passage.objects.update(model_id="some-other-model:384:deadbeef")
    results = search("Abfallkalender", mode="vector")
    assert results.degraded
    assert "rebuild_search_index" in results.notice
    assert ids(results)[0] == "bp-abfall"  # full-text fallback still answers


# --- Fusion math ---------------------------------------------------------------------------


def test_fuse_normalises_and_weights():
    fused = fuse({1: 0.2, 2: 0.1}, {1: 0.80, 2: 0.90, 3: 0.85}, vector_weight=0.5)
    assert fused[1] == pytest.approx(0.5 * 0.0 + 0.5 * 1.0)
    assert fused[2] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)
    assert fused[3] == pytest.approx(0.5 * 0.5)


def test_vector_weight_follows_the_query_length_ramp():
    ramp = FusionParams.from_settings(vector_weight=0.8, vector_weight_short=0.6,
                                      bm25_short_query_terms=2, bm25_long_query_terms=6)
    assert fusion.vector_weight_for(1, ramp) == pytest.approx(0.6)
    assert fusion.vector_weight_for(2, ramp) == pytest.approx(0.6)
    assert fusion.vector_weight_for(4, ramp) == pytest.approx(0.7)
    assert fusion.vector_weight_for(6, ramp) == pytest.approx(0.8)
    assert fusion.vector_weight_for(30, ramp) == pytest.approx(0.8)
    flat = FusionParams.from_settings(vector_weight=0.8, vector_weight_short=None)
    assert {fusion.vector_weight_for(n, flat) for n in (1, 4, 30)} == {0.8}


def test_aggregate_pages_best_passage_plus_capped_bonus():
    scores = {1: 0.9, 2: 0.5, 3: 0.8, 4: 0.8, 5: 0.8, 6: 0.8}
    pages = {1: 10, 2: 10, 3: 20, 4: 20, 5: 20, 6: 20}
    ranked = aggregate_pages(scores, pages, bonus=0.1)
    # Page 20's three extra passages add at most one best score times the bonus.
    assert ranked[0] == (10, pytest.approx(0.9 + 0.1 * 0.5), 1)
    assert ranked[1] == (20, pytest.approx(0.8 + 0.1 * 0.8), 3)


def test_bm25_term_factor_hand_computed():
    # Average length: norm = 1, factor (1.2 + 1) / (1 + 1.2) = 1.
    assert bm25_term_factor(10, 10, k1=1.2, b=0.75) == pytest.approx(1.0)
    # Twice the average: norm = 0.25 + 0.75 * 2 = 1.75, factor 2.2 / (1 + 2.1).
    assert bm25_term_factor(20, 10, k1=1.2, b=0.75) == pytest.approx(2.2 / 3.1)
    # Half the average: norm = 0.25 + 0.375 = 0.625, factor 2.2 / 1.75 (short passages gain).
    assert bm25_term_factor(5, 10, k1=1.2, b=0.75) == pytest.approx(2.2 / 1.75)
    # b = 0 switches length normalisation off.
    assert bm25_term_factor(50, 10, k1=1.2, b=0.0) == pytest.approx(1.0)
    # A title term (tf 1 + 2) gains, but saturates: 2.2 · 3 / (3 + 1.2), not 3.
    assert bm25_term_factor(10, 10, k1=1.2, b=0.75, tf=3) == pytest.approx(6.6 / 4.2)


def test_length_normalisation_grows_with_the_query():
    params = FusionParams.from_settings(bm25_b=0.75, bm25_short_query_terms=2,
                                        bm25_long_query_terms=6)
    assert [length_normalisation(n, params) for n in (1, 2, 3, 4, 6, 30)] == pytest.approx(
        [0.0, 0.0, 0.1875, 0.375, 0.75, 0.75])
    # Short and long thresholds may coincide: a step at that length.
    step = FusionParams.from_settings(bm25_b=0.5, bm25_short_query_terms=3,
                                      bm25_long_query_terms=3)
    assert [length_normalisation(n, step) for n in (2, 3, 4)] == [0.0, 0.5, 0.5]


def test_title_terms_restrict_each_lexeme_to_weight_a():
    assert title_terms(["'abfal':*", "'akt'", "'foo' <-> 'bar'", "'o''neil'"]) == [
        "'abfal':*A", "'akt':A", "'foo':A <-> 'bar':A", "'o''neil':A"]


def test_only_the_page_title_has_weight_a(corpus):
    from search.models import Passage

    page = corpus["ll-eakte"]
    overview = Passage.objects.get(page=page, kind="overview")
    title = Passage.objects.filter(pk=overview.pk, search_vector=SearchQuery(
        "Einführung:A", search_type="raw", config="german"))
    assert title.exists()
    # Body words and headings of other passages carry weight B.
    for query in ("elektronisch:A", "Schulung:A"):
        assert not Passage.objects.filter(page=page, search_vector=SearchQuery(
            query, search_type="raw", config="german")).exists()
        assert Passage.objects.filter(page=page, search_vector=SearchQuery(
            query.replace(":A", ":B"), search_type="raw", config="german")).exists()


def test_a_query_word_in_the_title_outweighs_the_same_word_in_the_body(import_lines):
    from knowledge.models import KnowledgePage

    # The body page comes first, so it would win a tie on passage id.
    import_lines(
        record("best_practice", external_id="bp-body", title="Förderanträge im Kreis",
               summary="Wie wir Fördermittel für den Glasfaserausbau beantragt haben."),
        record("best_practice", external_id="bp-title", title="Glasfaserausbau im Kreis",
               summary="Wie wir Fördermittel beantragt und Trassen geplant haben."),
    )
    pages = {p.external_id: p.pk for p in KnowledgePage.objects.filter(
        external_id__in=["bp-title", "bp-body"])}
    index_pages([KnowledgePage.objects.get(pk=pk).specific for pk in pages.values()])

    def scores(title_boost):
        params = FusionParams.from_settings(title_boost=title_boost)
        rows = fulltext.fulltext_candidates("Glasfaserausbau", None, SearchFilters(), params, 10)
        return {page: score for _pid, page, score in rows}

    plain, boosted = scores(0.0), scores(2.0)
    assert plain[pages["bp-title"]] == pytest.approx(plain[pages["bp-body"]], rel=0.05)
    assert boosted[pages["bp-title"]] > 1.3 * boosted[pages["bp-body"]]
    assert ids(search("Glasfaserausbau", mode="fulltext"))[:2] == ["bp-title", "bp-body"]


def test_bm25_sql_score_matches_the_python_formula(corpus):
    """The SQL score is Σ IDF · term factor (title terms tf 3) + 0.1 · ts_rank/(1 + it)."""
    query = "Abfuhrtermine Schulungen Abfallkalender"
    params = FusionParams.from_settings(fulltext_scoring="bm25", bm25_k1=1.2, bm25_b=0.75,
                                        bm25_short_query_terms=0, bm25_long_query_terms=1,
                                        title_boost=2.0)
    query_terms = statistics.term_weights(query, params)
    terms, weights, average = query_terms.terms, query_terms.weights, query_terms.average_length
    # The three words plus their compound parts (Abfuhr, Termine, Abfall, Kalender).
    assert len(terms) == 3 + len(compounds.parts_of(query.split())) == 7 and average > 0
    rows = fulltext.fulltext_candidates(query, None, SearchFilters(), params, 10)
    assert rows
    in_title_seen = False
    with connection.cursor() as cursor:
        for passage_id, _page, score in rows:
            cursor.execute(
                "SELECT length(search_vector), ts_rank('{0.1,0.1,0.1,0.1}', search_vector, "
                "to_tsquery('german', %s), %s | 32), "
                "ARRAY(SELECT t FROM unnest(%s::text[]) t WHERE search_vector @@ t::tsquery), "
                "ARRAY(SELECT t FROM unnest(%s::text[], %s::text[]) u(t, a) "
                "      WHERE search_vector @@ a::tsquery) "
                "FROM search_passage WHERE id = %s",
                [tsquery_text(query, params.prefix_min_length),
                 params.rank_normalization, terms, terms, title_terms(terms), passage_id])
            length, rank_cd, contained, in_title = cursor.fetchone()
            in_title_seen = in_title_seen or bool(in_title)
            expected = sum(
                w * bm25_term_factor(length, average, 1.2, 0.75, tf=3 if t in in_title else 1)
                for t, w in zip(terms, weights, strict=True) if t in contained
            ) + 0.1 * rank_cd
            assert score == pytest.approx(expected, rel=1e-6)
    assert in_title_seen  # "Abfallkalender" is in a title: the boost was exercised
    # Without length normalisation the same passages match (only the order may differ).
    idf_rows = fulltext.fulltext_candidates(
        query, None, SearchFilters(), FusionParams.from_settings(fulltext_scoring="idf"), 10)
    assert {pid for pid, _p, _s in idf_rows} == {pid for pid, _p, _s in rows}


def test_essential_terms_drop_the_cheapest_terms_below_the_threshold():
    bounds = [0.5, 3.0, 0.3, 2.0]
    # 0.1 (tie-breaker) + 0.3 + 0.5 = 0.9 < 1.0; adding 2.0 would reach it.
    assert fulltext.essential_terms(bounds, 1.0) == {1, 3}
    assert fulltext.essential_terms(bounds, 0.0) == {0, 1, 2, 3}
    assert fulltext.essential_terms(bounds, 100.0) == set()


@pytest.fixture
def common_word_corpus(import_lines):
    """Twelve pages that all say "Stadt"; four also "Glasfaser", two "Förderbescheid"."""
    from knowledge.models import KnowledgePage

    lines = []
    for n in range(12):
        words = ["Die Stadt berichtet über Vorhaben Nummer", str(n)]
        if n % 3 == 0:
            words.append("zum Glasfaser Ausbau")
        if n in (0, 5):
            words.append("mit Förderbescheid")
        lines.append(record("lesson_learned", external_id=f"ll-stadt-{n}",
                            title=f"Bericht {n}", summary=" ".join(words) + "."))
    import_lines(*lines)
    index_pages([p.specific for p in KnowledgePage.objects.filter(
        external_id__startswith="ll-stadt-")])


@pytest.mark.parametrize("scoring", ["bm25", "idf"])
@pytest.mark.parametrize("limit", [1, 2, 3, 5, 50])
def test_pruned_fulltext_candidates_equal_exhaustive_scoring(common_word_corpus, monkeypatch,
                                                             scoring, limit):
    passes = []
    real_sql = fulltext.fulltext_sql

    def spy(terms, user, filters, params, limit, matching=None):
        passes.append({terms.terms[i] for i in matching} if matching is not None
                      else set(terms.terms))
        return real_sql(terms, user, filters, params, limit, matching)

    monkeypatch.setattr(fulltext, "fulltext_sql", spy)
    # A tiny first pass, so that the pruning really has to decide on the common word.
    params = FusionParams.from_settings(fulltext_scoring=scoring, fulltext_budget=1)
    for query in ("Stadt Glasfaser Förderbescheid", "Förderbescheid Stadt",
                  "Stadt Vorhaben Glasfaser"):
        passes.clear()
        pruned = fulltext.fulltext_candidates(query, None, SearchFilters(), params, limit)
        terms = statistics.term_weights(query, params)
        exhaustive = fulltext.run_fulltext(real_sql(terms, None, SearchFilters(), params, limit))
        assert pruned == exhaustive, query
        if query.startswith("Stadt Glasfaser") and limit <= 2:
            assert "'stadt':*" in terms.terms
            # The two Förderbescheid pages are the answer; no pass looked at "Stadt" alone.
            assert not any("'stadt':*" in matched for matched in passes), passes


def test_budgeted_fulltext_candidates_stop_after_the_rarest_terms(common_word_corpus):
    """exact=False (hybrid's nominations) scores only the passages with the rarest terms."""
    params = FusionParams.from_settings(fulltext_budget=1)
    query = "Stadt Glasfaser Förderbescheid"
    exact = fulltext.fulltext_candidates(query, None, SearchFilters(), params, 3)
    # Budget 1 · 3 passages: "Förderbescheid" (2 passages) fits, "Glasfaser" (4) does not.
    budgeted = fulltext.fulltext_candidates(query, None, SearchFilters(), params, 3, exact=False)
    assert len(exact) == 3
    assert budgeted == exact[:2]  # same passages, same full scores (all terms counted)


# --- Index usage (EXPLAIN) -----------------------------------------------------------------


def _explain(sql, params, bitmap_only=False, no_sort=False):
    """The plan with sequential scans (and, for GIN, plain index scans) made unattractive.

    The test tables are tiny, so the planner would rightly prefer other paths; what matters is
    that the query's shape lets PostgreSQL use the index at all.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if bitmap_only:
            cursor.execute("SET LOCAL enable_indexscan = off")
        if no_sort:  # an explicit sort of a handful of rows is cheaper than any index
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_vector_query_uses_hnsw_index(corpus, user_in):
    from search.embedding import get_embedder

    embedder = get_embedder()
    vector = embedder.embed_query("Abfallkalender")
    for user, filters in [(None, SearchFilters()), (user_in(), resolve_filters(
            types="best_practice", exclude_municipality="Detmold", date_from="2020-01-01"))]:
        sql, params = hnsw_candidates_sql(vector, embedder.model_id, user, filters, 10)
        plan = _explain(sql, params, no_sort=True)
        assert "passage_embedding_hnsw" in plan, plan
        sql, params = retrieval.vector_side_sql(
            vector, embedder.model_id, user, filters, FusionParams.from_settings(),
            statistics.term_weights("Abfallkalender", FusionParams.from_settings(), user),
            [1, 2, 3])
        plan = _explain(sql, params, no_sort=True)
        assert "passage_embedding_hnsw" in plan, plan


def test_fulltext_query_uses_gin_index(corpus):
    params = FusionParams.from_settings()
    # (A very selective topic filter may rightly start from the topic table instead.)
    for filters in [SearchFilters(), resolve_filters(types="best_practice",
                                                     date_from="2020-01-01")]:
        terms = statistics.term_weights("Abfallkalender Müllabfuhr", params)
        sql, sql_params = fulltext.fulltext_sql(terms, None, filters, params, 100)
        plan = _explain(sql, sql_params, bitmap_only=True)
        assert "passage_search_vector_gin" in plan, plan


def test_fulltext_candidates_run_without_parallel_workers(corpus):
    """Parallel workers cost more than they saved at a million passages
    (docs/speed-history.md, eleventh round). With ``debug_parallel_query`` PostgreSQL puts a
    Gather on top of every plan that may run in parallel, whatever the tiny test table's
    estimates: the plain statement gets one, the candidates' settings keep it serial."""
    from search.planner import fetch_with_settings

    params = FusionParams.from_settings()
    terms = statistics.term_weights("Abfallkalender Müllabfuhr", params)
    sql, sql_params = fulltext.fulltext_sql(terms, None, SearchFilters(), params, 100)
    plans = {}
    for label, settings in (("plain", {"enable_seqscan": "off"}),
                            ("candidates", fulltext.FULLTEXT_PLANNER_SETTINGS)):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL debug_parallel_query = on")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
            plans[label] = "\n".join(row[0] for row in fetch_with_settings(
                "EXPLAIN " + sql, sql_params, settings))
    assert "Gather" in plans["plain"], plans["plain"]
    assert "Gather" not in plans["candidates"], plans["candidates"]


def test_page_level_fusion_combines_evidence_of_different_passages():
    """Page 1's title matches the words, its body the meaning: it beats one-sided pages."""
    params = FusionParams.from_settings(vector_weight=0.5, passage_bonus=0.0)
    pages = {11: 1, 12: 1, 21: 2, 31: 3}
    fulltext = {11: 1.0, 21: 0.9, 31: 0.0}
    vector = {12: 0.9, 21: 0.5, 31: 0.88, 11: 0.5}
    ranked = fusion.fuse_pages(fulltext, vector, pages, params)
    assert ranked[0][0] == 1
    passage_level = aggregate_pages(fuse(fulltext, vector, 0.5), pages, 0.0)
    assert passage_level[0][1] < ranked[0][1]


def test_reciprocal_rank_fusion_baseline():
    params = FusionParams.from_settings(passage_bonus=0.0)
    pages = {1: 10, 2: 20, 3: 30}
    ranked = fusion.reciprocal_rank_fusion({1: 1.0, 2: 0.5}, {2: 0.9, 3: 0.8, 1: 0.1},
                                            pages, params)
    scores = {page: score for page, score, _p in ranked}
    assert scores[20] == pytest.approx(1 / 62 + 1 / 61)
    assert scores[10] == pytest.approx(1 / 61 + 1 / 63)
    assert ranked[0][0] == 20


# --- Query embedding beside the full-text nominations --------------------------------------


def _embedding_threads(monkeypatch) -> list[str]:
    """Record the thread each query embedding runs on."""
    import threading

    from search.embedding import Embedder

    names: list[str] = []
    original = Embedder.embed_query

    def recording(self, text):
        names.append(threading.current_thread().name)
        return original(self, text)

    monkeypatch.setattr(Embedder, "embed_query", recording)
    return names


def test_hybrid_embeds_the_query_on_a_helper_thread(corpus, monkeypatch):
    import threading

    names = _embedding_threads(monkeypatch)
    search("Abfallkalender Müllabfuhr", mode="hybrid")
    search("Abfallkalender Müllabfuhr", mode="vector")
    assert names[0].startswith("query-embedding")
    assert names[1] == threading.current_thread().name  # nothing to overlap with
    off = FusionParams.from_settings(embed_in_background=False)
    search("Abfallkalender Müllabfuhr", mode="hybrid", params=off)
    assert names[2] == threading.current_thread().name


@pytest.mark.parametrize("query", ["Abfallkalender Müllabfuhr", "Schulung Akte elektronisch",
                                   "Wie melden Bürger Schäden an Straßen?"])
def test_background_embedding_ranks_exactly_like_embedding_first(corpus, query):
    def ranking(background: bool):
        params = FusionParams.from_settings(embed_in_background=background)
        results = search(query, mode="hybrid", params=params)
        return [(hit.external_id, hit.score, hit.snippet) for hit in results.results]

    assert ranking(True) == ranking(False)
    assert ranking(True)  # the corpus answers each query
