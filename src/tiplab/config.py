"""Typed access to tiplab's environment settings, read once.

``TIPLAB_DATA_DIR`` (default ``./tiplab-data``) holds the SQLite system of record, the
analytics snapshot and, unless ``TIPLAB_KEY_DIR`` points elsewhere, the keys that protect
identifiers. In production the keys belong on a separate secrets mount.
"""

from __future__ import annotations

import os
from pathlib import Path

from tiplab.errors import ConfigError

DEFAULT_DATA_DIR = "tiplab-data"


def data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The data directory: the explicit value, else ``TIPLAB_DATA_DIR``, else ./tiplab-data."""
    raw = explicit if explicit is not None else os.environ.get("TIPLAB_DATA_DIR",
                                                                DEFAULT_DATA_DIR)
    path = Path(raw).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"TIPLAB_DATA_DIR={raw!r} exists but is not a directory")
    return path


def key_dir(base: Path | None = None) -> Path:
    """Where the identifier keys live: ``TIPLAB_KEY_DIR`` or ``<data dir>/keys``."""
    raw = os.environ.get("TIPLAB_KEY_DIR")
    if raw:
        return Path(raw).expanduser().resolve()
    return (base or data_dir()) / "keys"
