"""Test settings: a throwaway embedded PostgreSQL in a temporary directory.

Only the database cluster is fresh for each test run (and deleted afterwards); the data
directory that holds the embedding model built by `make test` stays the shared one.
``DATABASE_URL`` still switches the tests to an external PostgreSQL with pgvector.
"""

import os
import tempfile
from pathlib import Path

from knowledge.database import database_config, embedded_database_config

from .base import *  # noqa: F403
from .base import BASE_DIR, KNOWLEDGE_DATA_DIR

if os.environ.get("DATABASE_URL", "").strip():
    DATABASES = {"default": database_config(KNOWLEDGE_DATA_DIR)}
else:
    _pg_parent = Path(tempfile.mkdtemp(prefix="wissensnetz-test-"))
    DATABASES = {
        "default": embedded_database_config(_pg_parent / "pgdata", cleanup_mode="delete")
    }

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production"  # noqa: S105
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="wissensnetz-media-"))
KNOWLEDGE_SERVE_IMAGES = True  # as `make run` (knowledge/settings/dev.py)
WAGTAILADMIN_BASE_URL = "http://testserver"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Keep test output readable; tests that check the audit log raise the level themselves.
LOGGING["loggers"]["knowledge"]["level"] = "WARNING"  # noqa: F405
# Test transactions roll back without running on-commit callbacks, so the anonymous page
# cache would never hear of a change made inside a test; tests/test_page_cache.py switches it
# on and runs the callbacks.
KNOWLEDGE_PAGE_CACHE_SECONDS = 0
# Tests send many API requests from one client; the limit itself is tested with its own value.
KNOWLEDGE_API_RATE_LIMIT = "off"
KNOWLEDGE_MATCH_RATE_LIMIT = "off"
