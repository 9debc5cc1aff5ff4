"""The embedded PostgreSQL keeps its data across restarts and ships pgvector."""

import subprocess
import sys
import textwrap

import pytest
from django.db import connection

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
