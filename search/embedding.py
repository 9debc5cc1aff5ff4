"""The sentence-transformers model: loading, prompts, batching, token counting.

One model per process, loaded lazily on first use (web workers that never search do not pay
for it). Every vector is labelled with :attr:`Embedder.model_id`, so vectors of different
models (or of different passage prompts) are never compared with each other.

Failing to load the model raises :class:`EmbeddingUnavailable`; callers degrade (publishing
still succeeds, search falls back to full text) instead of crashing.
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
    }


class Embedder:
    """A loaded sentence-transformers model plus the prompts it needs."""

    def __init__(self, model_name: str, query_prompt: str, passage_prompt: str,
                 batch_size: int, expected_dimensions: int):
        from sentence_transformers import SentenceTransformer

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

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for a passage, prompt and special tokens included."""
        return len(self.tokenizer(self.passage_prompt + text, add_special_tokens=True,
                                  truncation=False)["input_ids"])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors of passages, encoded in batches."""
        return self._encode([self.passage_prompt + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([self.query_prompt + text])[0]

    def _encode(self, texts: list[str]) -> np.ndarray:
        try:
            vectors = self.model.encode(
                texts, batch_size=self.batch_size, normalize_embeddings=True,
                convert_to_numpy=True, show_progress_bar=False,
            )
        except Exception as exc:
            raise EmbeddingUnavailable(f"Embedding failed: {exc}") from exc
        return vectors.astype(np.float32, copy=False)


@functools.cache
def _load(model_name, query_prompt, passage_prompt, batch_size, dimensions) -> Embedder:
    logger.info("Loading embedding model %s", model_name)
    return Embedder(model_name, query_prompt, passage_prompt, batch_size, dimensions)


def get_embedder() -> Embedder:
    """The process-wide model for the current settings (raises EmbeddingUnavailable)."""
    with _lock:
        return _load(
            settings.KNOWLEDGE_EMBEDDING_MODEL,
            settings.KNOWLEDGE_EMBEDDING_QUERY_PROMPT,
            settings.KNOWLEDGE_EMBEDDING_PASSAGE_PROMPT,
            settings.KNOWLEDGE_EMBEDDING_BATCH_SIZE,
            settings.KNOWLEDGE_EMBEDDING_DIMENSIONS,
        )


def reset_embedder_cache() -> None:
    """Forget loaded models (tests that switch models or simulate failures)."""
    _load.cache_clear()
