"""Text sealed at rest with the server's field key (AES-256-GCM), for free text that must not
be readable from a copy of the database: survivors' answers before and after review, staff
notes about them. The key is the identifiers' field key (``tiplab.keys``), kept outside the
database; the blob names the key generation that sealed it, so answers stay readable after a
key rotation while that generation is kept.

``purpose`` binds a blob to where it belongs (e.g. ``"voice.answer:42"``): a blob copied to
another row does not open there.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from django.conf import settings

from tiplab.config import key_dir
from tiplab.keys import KeyRing, kept_generations, load_keyring

NONCE_BYTES = 12
_KEY_ID_BYTES = 12


class SealError(Exception):
    """A blob that does not open: tampered with, moved to another row, or its key is gone."""


def _keys() -> Path:
    return key_dir(Path(settings.DATA_DIR))


def seal_text(text: str, purpose: str) -> bytes:
    """``key id (12 ASCII) || nonce || AES-GCM(text)``, bound to ``purpose``."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ring = load_keyring(_keys())
    nonce = os.urandom(NONCE_BYTES)
    body = AESGCM(ring.field_key).encrypt(nonce, text.encode("utf-8"), purpose.encode())
    return ring.key_id.encode("ascii") + nonce + body


def open_text(blob: bytes | memoryview | None, purpose: str) -> str:
    """The text sealed by :func:`seal_text` for ``purpose``; raises :class:`SealError`."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if blob is None:
        return ""
    raw = bytes(blob)
    key_id = raw[:_KEY_ID_BYTES].decode("ascii", "replace")
    nonce, body = raw[_KEY_ID_BYTES:_KEY_ID_BYTES + NONCE_BYTES], raw[_KEY_ID_BYTES + NONCE_BYTES:]
    ring = load_keyring(_keys())
    if ring.key_id != key_id:
        old = kept_generations(_keys()).get(key_id)
        if old is None:
            raise SealError(f"sealed with key {key_id}, which is no longer kept")
        ring = old
    try:
        return AESGCM(ring.field_key).decrypt(nonce, body, purpose.encode()).decode("utf-8")
    except InvalidTag:
        raise SealError(f"the sealed text for {purpose} does not open (tampered with or "
                        "moved)") from None


def reseal(blob: bytes | memoryview, purpose: str, old: Mapping[str, KeyRing],
           new: KeyRing) -> bytes:
    """A blob sealed under one of ``old`` (a key rotation's keys: ``""`` the current ring,
    else by key id) sealed again under ``new``, for the same purpose."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    raw = bytes(blob)
    key_id = raw[:_KEY_ID_BYTES].decode("ascii", "replace")
    ring = old[""] if old[""].key_id == key_id else old.get(key_id)
    if ring is None:
        raise SealError(f"sealed with key {key_id}, which the rotation was not given")
    nonce, body = raw[_KEY_ID_BYTES:_KEY_ID_BYTES + NONCE_BYTES], raw[_KEY_ID_BYTES + NONCE_BYTES:]
    try:
        plain = AESGCM(ring.field_key).decrypt(nonce, body, purpose.encode())
    except InvalidTag:
        raise SealError(f"the sealed text for {purpose} does not open") from None
    fresh = os.urandom(NONCE_BYTES)
    return new.key_id.encode("ascii") + fresh + AESGCM(new.field_key).encrypt(
        fresh, plain, purpose.encode())
