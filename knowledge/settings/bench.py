"""Settings of ``bench_search``: its own embedded PostgreSQL, never the user's database.

The cluster lives in ``KNOWLEDGE_BENCH_DATA_DIR`` (set by the command to
``KNOWLEDGE_DATA_DIR/bench/<model>``: one corpus per model) and is kept between runs, so that an
interrupted benchmark resumes with the corpus it had built (``--fresh`` starts over).
``KNOWLEDGE_BENCH_DATABASE_URL`` points the benchmark at an external PostgreSQL with pgvector
instead; it must be a database used for nothing else.
"""

import os
from pathlib import Path

import dj_database_url

from knowledge.database import embedded_database_config

from .base import *  # noqa: F403
from .base import KNOWLEDGE_DATA_DIR

_url = os.environ.get("KNOWLEDGE_BENCH_DATABASE_URL", "").strip()
DATABASES = {
    "default": dj_database_url.parse(_url) if _url
    else embedded_database_config(Path(os.environ.get(
        "KNOWLEDGE_BENCH_DATA_DIR", KNOWLEDGE_DATA_DIR / "bench" / "default")) / "pgdata")
}

DEBUG = False
SECRET_KEY = "bench-only-secret-key-never-served"  # noqa: S105
ALLOWED_HOSTS = ["*"]
# Pages are indexed explicitly by the benchmark (with a progress bar), not by publish signals.
TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
# Thousands of imported pages would each write an audit line.
LOGGING["loggers"]["knowledge"]["level"] = "WARNING"  # noqa: F405
LOGGING["loggers"]["knowledge.audit"] = {"level": "WARNING"}  # noqa: F405
# Every latency row runs an untimed pass over its queries first; with the query cache on, the
# timed pass would measure cache hits instead of the model.
KNOWLEDGE_QUERY_EMBEDDING_CACHE_SIZE = 0
