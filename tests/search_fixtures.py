"""Fixtures for the search index: pages whose passages exist, and a model that fails.

Import into a test module with ``from tests.search_fixtures import *  # noqa: F403``.

Index updates wait for the commit (``transaction.on_commit``); pytest-django's ``db`` fixture
never commits, so ``synced`` runs the captured callbacks the way a commit would. The embedding
model is whatever ``KNOWLEDGE_EMBEDDING_MODEL`` configures; tests must not depend on which.
"""

from __future__ import annotations

import contextlib

import pytest

from search import embedding

__all__ = ["embedder", "indexed_page", "model_unavailable", "synced"]


@pytest.fixture(scope="session")
def embedder():
    """The configured model, loaded once per test run."""
    return embedding.get_embedder()


@pytest.fixture
def synced(django_capture_on_commit_callbacks):
    """``with synced(): ...`` runs the index updates the block enqueued, as a commit would."""

    @contextlib.contextmanager
    def _synced():
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            yield callbacks

    return _synced


@pytest.fixture
def indexed_page(make_page, synced):
    """Create (publish) a page like ``make_page`` and run its indexing task."""

    def _make(kind: str, **overrides):
        with synced():
            page = make_page(kind, **overrides)
        return page

    return _make


@pytest.fixture
def model_unavailable(monkeypatch):
    """Simulate a model that cannot be loaded (degraded mode)."""

    def _raise():
        raise embedding.EmbeddingUnavailable("simulated: model not available")

    monkeypatch.setattr(embedding, "get_embedder", _raise)
    yield
