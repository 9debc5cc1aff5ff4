"""A per-installation secret key for development, kept in the data directory."""

import secrets
from pathlib import Path


def load_or_create_secret_key(data_dir: Path) -> str:
    """Return the key stored in ``data_dir``; create it on first use (file mode 0600)."""
    path = data_dir / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()
