"""The sentence-transformers model: loading, prompts, batching, token counting.

One model per process, loaded lazily on first use (web workers that never search do not pay
for it). Every vector is labelled with :attr:`Embedder.model_id`, so vectors of different
models (or of different passage prompts) are never compared with each other.

Failing to load the model raises :class:`EmbeddingUnavailable`; callers degrade (publishing
still succeeds, search falls back to full text) instead of crashing.

Queries take a faster path than passages: a query encoder of :mod:`search.query_encoders`
(``KNOWLEDGE_QUERY_ENCODER``; its vectors agree with the passage model's at cosine >= 0.999)
behind a bounded LRU cache of recent queries (``KNOWLEDGE_QUERY_EMBEDDING_CACHE_SIZE``), so a
repeated search (paging, facets, the API called twice) does not run the model again.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
from pathlib import Path

import numpy as np
from django.conf import settings

logger = logging.getLogger(__name__)
_lock = threading.Lock()


class EmbeddingUnavailable(RuntimeError):
    """The configured embedding model cannot be loaded or used."""


def model_id_for(model_name: str, dimensions: int, passage_prompt: str) -> str:
    """The label stored with every vector: model, dimension and passage prompt.

    Derivable from settings alone, so that code which only reads stored vectors (related
    content) knows which ones to compare without loading the model.
    """
    path = Path(model_name)
    name = path.name if path.exists() else model_name
    prompt_tag = hashlib.sha256(passage_prompt.encode()).hexdigest()[:8]
    return f"{name}:{dimensions}:{prompt_tag}"


def configured_model_id() -> str:
    return model_id_for(settings.KNOWLEDGE_EMBEDDING_MODEL,
                        settings.KNOWLEDGE_EMBEDDING_DIMENSIONS,
                        settings.KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT)


def model_environment() -> dict[str, str]:
    """The model settings as environment variables, for child processes that must embed with
    exactly the model of this process (evaluation and benchmark databases)."""
    return {
        "KNOWLEDGE_EMBEDDING_MODEL": str(settings.KNOWLEDGE_EMBEDDING_MODEL),
        "KNOWLEDGE_EMBEDDING_QUERY_PROMPT": settings.KNOWLEDGE_EMBEDDING_QUERY_PROMPT,
        "KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT": settings.KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT,
        "KNOWLEDGE_EMBEDDING_DIMENSIONS": str(settings.KNOWLEDGE_EMBEDDING_DIMENSIONS),
        "KNOWLEDGE_EMBEDDING_BATCH_SIZE": str(settings.KNOWLEDGE_EMBEDDING_BATCH_SIZE),
        "KNOWLEDGE_QUERY_ENCODER": settings.KNOWLEDGE_QUERY_ENCODER,
    }


class Embedder:
    """A loaded sentence-transformers model plus the prompts it needs.

    ``query_encoder`` names the engine for queries (``auto``, ``torch``, ...; one that cannot
    run falls back to torch with a warning); ``query_cache_size`` bounds the LRU cache of query
    vectors (0 turns it off). The cache belongs to this instance, so its keys are in effect
    (model id, query prompt, cleaned query text): another model or prompt is another Embedder
    (see :func:`get_embedder`) with an empty cache.
    """

    def __init__(self, model_name: str, query_prompt: str, passage_prompt: str,
                 batch_size: int, expected_dimensions: int, query_encoder: str = "torch",
                 query_cache_size: int = 0):
        import torch
        from sentence_transformers import SentenceTransformer

        from search.query_encoders import query_encoder_or_torch

        path = Path(model_name)
        if path.is_absolute() and not path.exists():
            raise EmbeddingUnavailable(
                f"Embedding model directory {path} does not exist; run "
                "`python manage.py build_embedding_model` (or set KNOWLEDGE_EMBEDDING_MODEL)."
            )
        try:
            self.model = SentenceTransformer(model_name, device="cpu", local_files_only=True)
        except Exception as exc:
            raise EmbeddingUnavailable(
                f"Cannot load embedding model {model_name!r}: {exc}"
            ) from exc
        self.model_name = model_name
        self.query_prompt = query_prompt
        self.passage_prompt = passage_prompt
        self.batch_size = batch_size
        self.dimensions = self.model.get_embedding_dimension()
        if self.dimensions != expected_dimensions:
            raise EmbeddingUnavailable(
                f"Model {model_name!r} produces {self.dimensions}-dimensional vectors, but the "
                f"index column has {expected_dimensions} (KNOWLEDGE_EMBEDDING_DIMENSIONS); see "
                "the README section on switching models."
            )
        self.max_tokens = int(self.model.max_seq_length)
        self.tokenizer = self.model.tokenizer
        self.model_id = model_id_for(model_name, self.dimensions, passage_prompt)
        self.query_encoder = query_encoder_or_torch(
            query_encoder, self.model, query_prompt, path if path.is_dir() else None,
            torch.get_num_threads())
        # functools.lru_cache is bounded and thread-safe (gunicorn threads share the embedder);
        # two threads missing on the same text at once both compute it, which is harmless.
        self._cached_query = functools.lru_cache(maxsize=max(query_cache_size, 0))(
            self._embed_query)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, prompt and special tokens included."""
        return len(self.tokenizer(self.passage_prompt + text, add_special_tokens=True,
                                  truncation=False)["input_ids"])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors of passages, encoded in batches."""
        return self._encode([self.passage_prompt + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        """L2-normalised float32 vector of a cleaned query, from the cache if seen recently.

        The array is read-only: a cached vector is shared by every caller that asks again.
        """
        return self._cached_query(text)

    def clear_query_cache(self) -> None:
        self._cached_query.cache_clear()

    def _embed_query(self, text: str) -> np.ndarray:
        try:
            vector = self.query_encoder.encode(text)
        except Exception as exc:
            if self.query_encoder.name == "torch":
                raise EmbeddingUnavailable(f"Query embedding failed: {exc}") from exc
            logger.warning("Query encoder %s failed, embedding with torch: %s",
                           self.query_encoder.name, exc)
            vector = self._encode([self.query_prompt + text])[0]
        vector = np.array(vector, dtype=np.float32)
        vector.flags.writeable = False
        return vector

    def _encode(self, texts: list[str]) -> np.ndarray:
        try:
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        except Exception as exc:
            raise EmbeddingUnavailable(f"Embedding failed: {exc}") from exc
        return vectors.astype(np.float32, copy=False)


_embedders: dict[tuple, Embedder] = {}


def get_embedder() -> Embedder:
    """The process-wide model for the current settings (raises EmbeddingUnavailable).

    One Embedder per distinct model configuration, so a settings change (tests) gets a fresh
    model and an empty query cache; a failed load is not remembered and is retried next time.
    """
    key = (
        settings.KNOWLEDGE_EMBEDDING_MODEL,
        settings.KNOWLEDGE_EMBEDDING_QUERY_PROMPT,
        settings.KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT,
        settings.KNOWLEDGE_EMBEDDING_BATCH_SIZE,
        settings.KNOWLEDGE_EMBEDDING_DIMENSIONS,
        settings.KNOWLEDGE_QUERY_ENCODER,
        settings.KNOWLEDGE_QUERY_EMBEDDING_CACHE_SIZE,
    )
    with _lock:
        if key not in _embedders:
            logger.info("Loading embedding model %s", key[0])
            model, query_prompt, passage_prompt, batch_size, dimensions, encoder, size = key
            embedder = Embedder(model, query_prompt, passage_prompt, batch_size, dimensions,
                                query_encoder=encoder, query_cache_size=size)
            logger.info("Query encoder: %s", embedder.query_encoder.name)
            _embedders[key] = embedder
        return _embedders[key]


def reset_embedder_cache() -> None:
    """Forget loaded models and their cached query vectors (tests that switch models or
    simulate failures; a model rebuilt under the same path)."""
    with _lock:
        for embedder in _embedders.values():
            embedder.clear_query_cache()
        _embedders.clear()
