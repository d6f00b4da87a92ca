"""Receipt codes: how a reporter comes back without an account.

A code is 20 characters of Crockford's base32 alphabet (32 symbols, 5 bits each: 100 bits of
entropy, drawn with ``secrets``), shown as four groups of five (``7K3QD-…``). Reading it back
forgives what people mistype: case, spaces and hyphens, O for 0, I and L for 1.

Only ``HMAC-SHA256(receipt key, normalised code)`` is stored. The receipt key is a 32-byte file
``report-receipt.key`` in the key directory, so a copy of the database cannot be searched for
codes offline: without the key there is nothing to test guesses against, and with 100 bits
there is nothing to guess online either (the receipt page is rate-limited besides).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import secrets
from pathlib import Path

from tiplab.keys import write_key_file

from .sealing import keys_dir

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUPS = 4
GROUP_LENGTH = 5
LENGTH = GROUPS * GROUP_LENGTH
ENTROPY_BITS = LENGTH * 5
KEY_FILE = "report-receipt.key"
_FORGIVE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i:i + GROUP_LENGTH] for i in range(0, LENGTH, GROUP_LENGTH))


def normalise(code: str) -> str | None:
    """The code's 20 symbols, or None when it cannot be a code."""
    text = "".join(code.split()).replace("-", "").upper().translate(_FORGIVE)
    if len(text) != LENGTH or any(c not in ALPHABET for c in text):
        return None
    return text


def _key() -> bytes:
    path: Path = keys_dir() / KEY_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        with contextlib.suppress(FileExistsError):  # another process made it first
            write_key_file(path, secrets.token_bytes(32))
        data = path.read_bytes()
    if len(data) < 32:
        raise RuntimeError(f"{path} holds {len(data)} bytes, expected 32; restore it from the "
                           "key backup (receipt codes cannot be checked without it)")
    return data[:32]


def digest(code: str) -> str | None:
    """The stored form of a code (None when it cannot be a code)."""
    text = normalise(code)
    if text is None:
        return None
    return hmac.new(_key(), text.encode("ascii"), hashlib.sha256).hexdigest()
