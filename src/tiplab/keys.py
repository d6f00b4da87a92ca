"""Keys that protect identifiers, kept outside the database.

Two keys protect identifying fields (see ``docs/privacy.md``):

* the **field key** (AES-256-GCM) encrypts each record's identifiers as one sealed blob, so
  that a data steward can reveal one record's identifiers (audited) and an authorised linkage
  run can read them in memory;
* the **pseudonym key** (keyed BLAKE2b) turns exact identifiers (date of birth, document and
  phone numbers) into stable pseudonyms that allow exact matching without revealing them.

Keys are 32 random bytes in files with mode 0600 under ``TIPLAB_KEY_DIR`` (default
``<data dir>/keys``). A stolen database without the key directory reveals no identity.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from tiplab.errors import ConfigError

KEY_BYTES = 32


def _read_or_create(path: Path, nbytes: int) -> bytes:
    if path.exists():
        data = path.read_bytes()
        if len(data) < nbytes:
            raise ConfigError(f"key file {path} holds {len(data)} bytes, expected {nbytes}; "
                              "restore it from backup (identifiers cannot be read without it)")
        return data[:nbytes]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = secrets.token_bytes(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    try:
        os.link(tmp, path)  # fails if another process created the key meanwhile
    except FileExistsError:
        tmp.unlink()
        return path.read_bytes()[:nbytes]
    tmp.unlink()
    return data


def load_or_create_secret(path: Path) -> str:
    """A random secret string (e.g. Django's SECRET_KEY for local runs), created once."""
    return _read_or_create(path, 48).hex()


@dataclass(frozen=True)
class KeyRing:
    field_key: bytes
    pseudonym_key: bytes

    @property
    def key_id(self) -> str:
        """A short public fingerprint of the keys, recorded with each batch."""
        return hashlib.blake2b(self.field_key + self.pseudonym_key, digest_size=6).hexdigest()


def load_keyring(directory: Path) -> KeyRing:
    """Load (creating on first use) the field and pseudonym keys from ``directory``."""
    return KeyRing(
        field_key=_read_or_create(directory / "field.key", KEY_BYTES),
        pseudonym_key=_read_or_create(directory / "pseudonym.key", KEY_BYTES),
    )
