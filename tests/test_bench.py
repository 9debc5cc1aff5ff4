"""The benchmark's building blocks: synthetic corpus, sentence-mean vectors, resumable growth.

The benchmark itself (``make bench``) runs for tens of minutes and only prints figures; these
tests make sure that what it measures is built correctly: valid, reproducible pages through
the real importer, vectors from the real model, a corpus that survives an interruption.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from knowledge.importing import validate_lines
from search import bench_corpus, benchmark
from search.management.commands.bench_search import _Corpus
from tests.search_fixtures import *  # noqa: F403

DEMO_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "demo_content"
DEMO_QUERIES = DEMO_DIR.parent.parent / "search" / "judgements" / "demo_queries.jsonl"


@pytest.fixture(scope="module")
def pool():
    return bench_corpus.TextPool.from_sources(DEMO_DIR)


def test_sentences_of_drops_markup_tables_and_headings():
    text = ("## Vorgehen\n\n| Kennzahl | Wert |\n|---|---|\n| Seiten | 470 |\n\n"
            "Die **Scanstelle** wurde im [Rathaus](https://example.org) eingerichtet. "
            "Danach kam der Posteingang aller Fachbereiche dazu. Kurz.")
    assert bench_corpus.sentences_of(text) == [
        "Die Scanstelle wurde im Rathaus eingerichtet.",
        "Danach kam der Posteingang aller Fachbereiche dazu.",
    ]
    assert bench_corpus.headings_of(text) == ["Vorgehen"]


@pytest.mark.django_db
def test_synthetic_records_are_valid_reproducible_and_varied(pool):
    records = [bench_corpus.synthetic_record(n, pool, ["Lemgo", "Detmold"], ["E-Akte"])
               for n in range(6)]
    valid, errors = validate_lines([json.dumps(r, ensure_ascii=False) for r in records])
    assert not errors, [str(e) for e in errors]
    assert len(valid) == 6
    assert {r["type"] for r in records} == {"project", "lesson_learned", "best_practice"}
    assert len({r["external_id"] for r in records}) == 6
    again = bench_corpus.synthetic_record(4, pool, ["Lemgo", "Detmold"], ["E-Akte"])
    assert again == records[4]
    assert records[4]["body"] != records[1]["body"]


def test_text_pool_refuses_too_little_text():
    with pytest.raises(ValueError, match="not enough source text"):
        bench_corpus.TextPool(["Ein Satz."], ["Kopf"], ["Titel"])


class _CountingEmbedder:
    model_id = "counting:2:test"
    max_tokens = 512

    def __init__(self):
        self.embedded: list[str] = []

    def count_tokens(self, text):
        return len(text.split())

    def embed_query(self, text):
        return np.array([1.0, 0.0], dtype=np.float32)

    def embed_passages(self, texts):
        self.embedded.extend(texts)
        return np.array([[1.0, 0.0] if "Akte" in t else [0.0, 1.0] for t in texts],
                        dtype=np.float32)


def test_sentence_mean_vectors_average_each_sentence_embedded_once():
    inner = _CountingEmbedder()
    mean = bench_corpus.SentenceMeanEmbedder(inner)
    first = mean.embed_passages(["Titel – Kopf\nDie Akte ist digital. Der Bauhof plant."])
    # Units: "Titel", "Kopf", two sentences; one of four is "Akte" -> (1, 3) normalised.
    np.testing.assert_allclose(first[0], np.array([1, 3]) / np.sqrt(10), rtol=1e-6)
    mean.embed_passages(["Titel – Kopf\nDer Bauhof plant."])
    assert sorted(inner.embedded) == sorted(
        ["Titel", "Kopf", "Die Akte ist digital.", "Der Bauhof plant."])
    mean.prime(["Kopf", "Neu."])
    assert inner.embedded[-1:] == ["Neu."]
    assert mean.model_id == inner.model_id
    assert mean.count_tokens("zwei Wörter") == 2


def test_sentence_vectors_survive_a_restart(tmp_path):
    first = bench_corpus.SentenceMeanEmbedder(_CountingEmbedder())
    first.prime(["Die Akte.", "Der Bauhof."])
    first.save(tmp_path / "sentences.npz")
    inner = _CountingEmbedder()
    second = bench_corpus.SentenceMeanEmbedder(inner)
    second.load(tmp_path / "sentences.npz")
    second.prime(["Die Akte.", "Der Bauhof.", "Neu."])
    assert inner.embedded == ["Neu."]
    np.testing.assert_array_equal(second.sentence_vectors["Die Akte."], [1.0, 0.0])


def test_latency_percentiles_and_warmup():
    calls = []
    latency = benchmark.measure("x", ["a", "b", "c", "d"], calls.append, warmup=2)
    assert calls == ["a", "b", "a", "b", "c", "d"]
    assert len(latency.samples_ms) == 4
    fixed = benchmark.Latency("y", [float(v) for v in range(1, 101)])
    assert fixed.p50 == pytest.approx(50.5)
    assert fixed.p95 == pytest.approx(95.05)


def test_interleaved_calls_take_turns_text_by_text_in_alternating_order():
    calls = []
    turns = benchmark.measure_interleaved(
        ["a", "b"], {"floor": lambda t: calls.append(("floor", t)),
                     "hybrid": lambda t: calls.append(("hybrid", t))}, rounds=2)
    warmup = [("floor", "a"), ("hybrid", "a"), ("floor", "b"), ("hybrid", "b")]
    timed = [("floor", "a"), ("hybrid", "a"), ("hybrid", "b"), ("floor", "b"),  # round 1
             ("hybrid", "a"), ("floor", "a"), ("floor", "b"), ("hybrid", "b")]  # round 2
    assert calls == warmup + timed
    assert {label: len(r.samples_ms) for label, r in turns.items()} == {"floor": 4,
                                                                        "hybrid": 4}

    def pause(_text):  # a measurable duration, so that no per-text ratio divides by zero
        time.sleep(0.001)

    figures = benchmark.interleaved_figures(["a", "b"], pause, pause, rounds=2)
    assert figures["rounds"] == 2
    assert set(figures["floor"]) == set(figures["hybrid"]) == {"p50", "p95"}
    assert figures["median_ratio"] > 0


@pytest.mark.django_db
def test_time_by_statement_counts_each_kind_of_statement():
    def call(text):
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('application_name', %s, true)", [text])
            cursor.execute("SELECT 1")

    spent = benchmark.time_by_statement(["a", "b"], call)
    assert spent["statements"] == 2  # per call
    assert set(spent) == {"set_config", "other SQL", "statements", "total",
                          "rest (query embedding, Python)"}
    measured = spent["set_config"] + spent["other SQL"] + spent[
        "rest (query embedding, Python)"]
    assert measured == pytest.approx(spent["total"])
    assert benchmark.statement_kind("SELECT ts_headline('german', x)") == "snippets (ts_headline)"
    assert benchmark.statement_kind(
        "SELECT p.id FROM search_passage p ORDER BY p.embedding <=> %s::vector LIMIT 5"
    ) == "vector candidates (HNSW) with their full-text scores"


def test_paired_ratio_compares_text_by_text():
    first = benchmark.Latency("matching", [9.0, 20.0, 30.0, 44.0])
    second = benchmark.Latency("search", [10.0, 20.0, 25.0, 40.0])
    paired = benchmark.paired_ratio(first, second)
    # Ratios 0.9, 1.0, 1.2, 1.1: median 1.05, two of four no slower.
    assert paired == {"median_ratio": pytest.approx(1.05), "share_not_slower": 0.5}
    with pytest.raises(ValueError):
        benchmark.paired_ratio(first, benchmark.Latency("short", [1.0]))


def test_query_texts_mix_demo_queries_and_dataset_descriptions(tmp_path):
    (tmp_path / "queries.jsonl").write_text(json.dumps(
        {"id": "q1", "query": "Radwege Stadt X. Der Datensatz enthält Radwege.",
         "relevant": []}) + "\n", encoding="utf-8")
    queries, descriptions = bench_corpus.query_texts(DEMO_QUERIES, tmp_path, 100)
    assert "Radwege Stadt X" in queries
    assert descriptions == ["Radwege Stadt X. Der Datensatz enthält Radwege."]
    assert len(bench_corpus.query_texts(DEMO_QUERIES, None, 10)[0]) == 10


def test_bench_rejects_too_small_sizes():
    with pytest.raises(CommandError, match="at least 1000"):
        call_command("bench_search", "--passages", "10")
    with pytest.raises(CommandError, match="at least 10"):
        call_command("bench_search", "--queries", "3")


@pytest.mark.django_db
def test_corpus_grows_through_the_real_indexer_and_resumes(pool, embedder):
    from search.indexing.state import stale_page_ids
    from search.models import Passage

    corpus = _Corpus(pool)
    corpus.municipalities, corpus.topics = ["Lemgo", "Detmold", "Lage"], ["E-Akte"]
    scale = bench_corpus.SentenceMeanEmbedder(embedder)
    assert corpus.grow_to(200, scale) >= 200
    first = Passage.objects.count()
    assert not stale_page_ids(embedder.model_id)
    assert not Passage.objects.filter(embedding=None).exists()

    # An interrupted run: pages were created, but the process died before indexing them.
    corpus._create(range(corpus.existing(), corpus.existing() + 3), progress=False)
    assert len(stale_page_ids(embedder.model_id)) == 3
    assert corpus.grow_to(first, scale) > first
    assert not stale_page_ids(embedder.model_id)

    # The HNSW floor query is what the benchmark claims it is.
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    assert benchmark.raw_hnsw_uses_index(embedder.embed_query("Posteingang digital"))
    assert len(benchmark.raw_hnsw_query(embedder.embed_query("Posteingang digital"))) == 10


@pytest.mark.django_db
def test_bulk_passages_reach_the_target_resume_and_are_searchable(pool, embedder):
    from search import bench_bulk
    from search.models import Passage

    corpus = _Corpus(pool)
    corpus.municipalities, corpus.topics = ["Lemgo", "Detmold"], ["E-Akte"]
    scale = bench_corpus.SentenceMeanEmbedder(embedder)
    base = corpus.grow_to(30, scale)

    # Deferred indexes (threshold forced low): dropped for the addition, rebuilt at the end.
    assert bench_bulk.extend_to(base + 25, pool, scale, chunk=10,
                                defer_indexes_above=5) == base + 25
    assert all(bench_bulk._index_exists(name) for name in bench_bulk._DEFERRED)
    # Resumed: the next numbers continue where the last run stopped, nothing is duplicated.
    assert bench_bulk.extend_to(base + 40, pool, scale, chunk=7) == base + 40
    assert bench_bulk.bulk_count() == 40
    bulk = Passage.objects.filter(position__gte=bench_bulk.POSITION_BASE).order_by("pk")
    expected = [bench_bulk.synthetic_passage(n, pool) for n in range(40)]
    assert list(bulk.values_list("heading", "text")) == expected
    assert not bulk.filter(embedding=None).exists()
    assert bulk.values("model_id").distinct().count() == 1

    # PostgreSQL computed the German tsvector: a word of a bulk passage finds it in full text.
    _heading, text = expected[-1]
    word = max(text.split(), key=len).strip(".,;:!?„“\"()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM search_passage WHERE position >= %s AND "
                       "search_vector @@ plainto_tsquery('german', %s)",
                       [bench_bulk.POSITION_BASE, word])
        assert cursor.fetchone()[0] >= 1
    # A restart after the indexes were dropped but before they were rebuilt restores them.
    bench_bulk._drop_deferred_indexes()
    assert not bench_bulk._index_exists("passage_embedding_hnsw")
    assert bench_bulk.extend_to(base + 40, pool, scale) == base + 40
    assert all(bench_bulk._index_exists(name) for name in bench_bulk._DEFERRED)


@pytest.mark.django_db
def test_cpu_per_call_counts_this_process_and_the_database_backend():
    def call(_text):
        sum(i * i for i in range(200_000))  # CPU in this process
        with connection.cursor() as cursor:  # CPU in the backend
            cursor.execute("SELECT count(*) FROM generate_series(1, 2000000)")

    cpu = benchmark.cpu_per_call(["a", "b", "c"], call)
    assert cpu["process"] > 5
    assert cpu["database"] is not None and cpu["database"] > 20
    assert cpu["wall"] >= 0.8 * (cpu["process"] + cpu["database"])  # one step after the other
    idle = benchmark.cpu_per_call(["a"], lambda _text: time.sleep(0.05))
    assert idle["wall"] >= 50 and idle["process"] < 15 and idle["database"] < 15
    # A pid that is not a local PostgreSQL process (as a remote server's would be) reads as
    # unknown, never as another process's CPU.
    assert benchmark._backend_cpu_ms(os.getpid()) is None


def test_latency_report_compares_with_the_floor_and_says_where_cpu_goes():
    rows = {"query embedding": {"p50": 7.0, "p95": 9.0},
            "floor: embedding + raw HNSW": {"p50": 9.0, "p95": 10.0},
            "search hybrid": {"p50": 25.0, "p95": 30.0},
            "search hybrid (description)": {"p50": 50.0, "p95": 80.0},
            "matching (description)": {"p50": 60.0, "p95": 90.0}}
    latency = {"latency_ms": rows, "hybrid_breakdown_ms": {"facet counts": 1.5, "total": 26.0},
               "hybrid_cpu_ms": {"wall": 26.0, "process": 40.0, "database": 12.5},
               "matching_vs_search": {"median_ratio": 1.1, "share_not_slower": 0.25},
               "interleaved": {"rounds": 3, "median_ratio": 2.41,
                               "floor": {"p50": 12.0, "p95": 16.0},
                               "hybrid": {"p50": 30.0, "p95": 40.0}}}
    report = benchmark.latency_report(latency)
    assert "| search hybrid | 25.0 | 30.0 | 3.00 |" in report
    assert "| facet counts | 1.50 |" in report
    assert "hybrid p95 / floor p95 = 3.00 (target <= 2: MISSED)" in report
    assert "this process 40.0 ms (model threads included), database backend 12.5 ms, " \
           "wall 26.0 ms" in report
    assert "matching no slower for 25% of them" in report
    assert ("3 rounds): floor 12.0/16.0 ms, hybrid 30.0/40.0 ms, hybrid p95 / floor p95 = "
            "2.50 (target <= 2: MISSED), median ratio per query 2.41") in report
    rows["search hybrid"]["p95"] = 20.0
    latency["hybrid_cpu_ms"]["database"] = None
    report = benchmark.latency_report(latency)
    assert "= 2.00 (target <= 2: met)" in report
    assert "database backend not measurable (remote database)" in report
