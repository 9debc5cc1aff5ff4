"""The embedded PostgreSQL keeps its data across restarts, ships pgvector and runs with our
settings file (shared_buffers sized for the HNSW index)."""

import logging
import os
import subprocess
import sys
import textwrap

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from knowledge import database

WRITE = textwrap.dedent("""
    import sys
    from pathlib import Path
    from knowledge.database import embedded_database_config
    import psycopg
    cfg = embedded_database_config(Path(sys.argv[1]))
    with psycopg.connect(host=cfg["HOST"], dbname="postgres", user="postgres",
                         autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS survival (note text)")
        conn.execute("INSERT INTO survival VALUES ('Protokoll der 3. Sitzung')")
""")

READ = textwrap.dedent("""
    import sys
    from pathlib import Path
    from knowledge.database import embedded_database_config
    import psycopg
    cfg = embedded_database_config(Path(sys.argv[1]))
    with psycopg.connect(host=cfg["HOST"], dbname="postgres", user="postgres") as conn:
        print(conn.execute("SELECT note FROM survival").fetchone()[0])
""")


def test_data_survives_a_restart_of_the_embedded_server(tmp_path):
    pgdata = tmp_path / "pgdata"
    # Each process starts the server and stops it when it exits (it is the last user).
    subprocess.run([sys.executable, "-c", WRITE, str(pgdata)], check=True, timeout=120)
    assert not (pgdata / "postmaster.pid").exists(), "server should stop with its last user"
    result = subprocess.run([sys.executable, "-c", READ, str(pgdata)], check=True,
                            capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "Protokoll der 3. Sitzung"


@pytest.mark.django_db
def test_pgvector_and_german_text_search_are_available():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        assert cursor.fetchone()[0] >= "0.8"
        cursor.execute("SELECT to_tsvector('german', 'Digitalisierungsstrategien der Kommunen')")
        assert "kommun" in cursor.fetchone()[0]


@pytest.fixture
def pgdata(tmp_path):
    """A stand-in data directory with initdb's ``postgresql.conf`` (no running server)."""
    (tmp_path / "postgresql.conf").write_text("max_connections = 100\nshared_buffers = 128MB")
    return tmp_path


def include_lines(pgdata):
    return (pgdata / "postgresql.conf").read_text().splitlines().count(database.INCLUDE_LINE)


def test_config_writer_includes_its_file_once_and_rewrites_it_only_on_change(
    pgdata, monkeypatch
):
    monkeypatch.setenv("KNOWLEDGE_PG_SHARED_BUFFERS", "512MB")
    assert database.write_server_config(pgdata) is True
    assert database.write_server_config(pgdata) is False
    assert include_lines(pgdata) == 1
    assert "shared_buffers = 128MB\n" in (pgdata / "postgresql.conf").read_text()
    assert "shared_buffers = '512MB'" in (pgdata / "wissensnetz.conf").read_text()

    monkeypatch.setenv("KNOWLEDGE_PG_SHARED_BUFFERS", "1GB")
    assert database.write_server_config(pgdata) is True
    assert include_lines(pgdata) == 1
    assert "shared_buffers = '1GB'" in (pgdata / "wissensnetz.conf").read_text()


@pytest.mark.parametrize("value", ["viel", "512", "512mb", "1.5GB", "512 MB", "0MB", "64kB"])
def test_config_writer_rejects_a_bad_value_naming_the_variable(pgdata, monkeypatch, value):
    monkeypatch.setenv("KNOWLEDGE_PG_SHARED_BUFFERS", value)
    with pytest.raises(ImproperlyConfigured, match="KNOWLEDGE_PG_SHARED_BUFFERS"):
        database.write_server_config(pgdata)
    assert include_lines(pgdata) == 0
    assert not (pgdata / "wissensnetz.conf").exists()


def test_a_change_while_a_server_runs_is_logged_for_its_next_start(pgdata, monkeypatch, caplog):
    # postmaster.pid naming this (running) process: to pgserver, a server is running.
    (pgdata / "postmaster.pid").write_text(
        f"{os.getpid()}\n{pgdata}\n1700000000\n\n{pgdata}\n\n0 0\nready\n"
    )
    monkeypatch.setenv("KNOWLEDGE_PG_SHARED_BUFFERS", "256MB")
    with caplog.at_level(logging.INFO, logger="knowledge.database"):
        database.write_server_config(pgdata)
    assert "next start" in caplog.text


@pytest.mark.parametrize(
    ("physical", "expected"),
    [(2 * 1024**3, "512MB"), (64 * 1024**3, "2048MB"), (256 * 1024**2, "128MB")],
)
def test_default_is_a_quarter_of_memory_between_128mb_and_2gb(monkeypatch, physical, expected):
    page_size = 4096
    sizes = {"SC_PAGE_SIZE": page_size, "SC_PHYS_PAGES": physical // page_size}
    monkeypatch.setattr(os, "sysconf", sizes.__getitem__)
    monkeypatch.delenv("KNOWLEDGE_PG_SHARED_BUFFERS", raising=False)
    assert database.shared_buffers() == expected


@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL", "").strip()),
    reason="DATABASE_URL: an external PostgreSQL, configured by its operator",
)
@pytest.mark.django_db
def test_the_embedded_test_database_runs_with_the_configured_shared_buffers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_bytes(current_setting('shared_buffers')), pg_size_bytes(%s)",
            [database.shared_buffers()],
        )
        running, configured = cursor.fetchone()
    assert running == configured
