"""make backup / make restore: a fresh installation comes back with the same content, search
results and media. Runs the real management commands in separate processes, each installation
with its own embedded PostgreSQL."""

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from search.embedding import model_environment

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    {"external_id": "p-1", "type": "project", "title": "Digitaler Posteingang Vlotho",
     "municipality": "Vlotho", "topics": ["E-Akte und Dokumentenmanagement"],
     "date": "2024-02-01", "summary": "Vlotho scannt die Briefpost zentral.", "project": None},
    {"external_id": "l-1", "type": "lesson_learned", "title": "Scanstelle braucht Vorbereitung",
     "municipality": "Vlotho", "topics": [], "date": "2024-06-01", "project": "p-1",
     "summary": "Das Vorbereiten der Post dauert länger als das Scannen.",
     "situation": "Wir haben zentral gescannt.", "recommendation": "Personal einplanen."},
]


TOKEN = ("from knowledge.models import PageCacheGeneration; "
         "print(PageCacheGeneration.objects.get(pk=1).token)")


def manage(data_dir: Path, *args: str, fails: bool = False) -> str:
    """Run a management command of the installation in ``data_dir``; its output (stdout, or
    stderr of a command expected to fail)."""
    env = {**os.environ, **model_environment(), "KNOWLEDGE_DATA_DIR": str(data_dir),
           "DJANGO_SETTINGS_MODULE": "knowledge.settings.dev"}
    env.pop("DATABASE_URL", None)
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    assert (result.returncode != 0) == fails, result.stderr[-3000:]
    return result.stderr if fails else result.stdout


def _truncated_copy(archive: Path, target: Path) -> Path:
    """The same backup with its database dump cut in half (an interrupted copy)."""
    with tarfile.open(archive, "r:gz") as source, tarfile.open(target, "w:gz") as copy:
        for member in source.getmembers():
            data = source.extractfile(member) if member.isfile() else None
            if member.name == "database.dump":
                content = data.read()[:member.size // 2]
                member.size = len(content)
                data = io.BytesIO(content)
            copy.addfile(member, data)
    return target


def test_backup_and_restore_into_a_fresh_installation(tmp_path):
    source, target = tmp_path / "a", tmp_path / "b"
    source.mkdir()
    target.mkdir()
    data = tmp_path / "pages.jsonl"
    data.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in PAGES))
    manage(source, "migrate", "-v0")
    manage(source, "import_knowledge", str(data), "-v0")
    (source / "media" / "documents").mkdir(parents=True)
    (source / "media" / "documents" / "protokoll.txt").write_text("Anlage zur Sitzung")
    results_before = manage(source, "search_knowledge", "Briefe scannen", "--json")
    export_before = manage(source, "export_knowledge", "-")
    archive = tmp_path / "backup.tar.gz"
    manage(source, "backup_data", "--output", str(archive))
    archived_token = manage(source, "shell", "-c", TOKEN)

    manage(target, "migrate", "-v0")
    manage(target, "restore_data", "--yes", str(archive))
    # Running processes may hold pages and search facts under the archive's content token.
    assert manage(target, "shell", "-c", TOKEN) not in ("", archived_token)
    assert manage(target, "export_knowledge", "-") == export_before
    assert manage(target, "search_knowledge", "Briefe scannen", "--json") == results_before
    assert json.loads(results_before), "the search should find the imported pages"
    assert (target / "media" / "documents" / "protokoll.txt").read_text() == \
        "Anlage zur Sitzung"
    assert archive.stat().st_mode & 0o077 == 0  # password hashes, sessions: owner only

    # A damaged backup changes nothing: the restore fails before or inside one transaction.
    damaged = _truncated_copy(archive, tmp_path / "abgebrochen.tar.gz")
    message = manage(target, "restore_data", "--yes", str(damaged), fails=True)
    assert "pg_restore failed" in message
    assert manage(target, "export_knowledge", "-") == export_before
    assert (target / "media" / "documents" / "protokoll.txt").exists()


def test_restore_rejects_a_file_that_is_no_backup(tmp_path):
    bogus = tmp_path / "kein-backup.tar.gz"
    bogus.write_text("nope")
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a readable backup archive"):
        call_command("restore_data", "--yes", str(bogus))
