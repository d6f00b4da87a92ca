"""Protect identifying fields before they are stored.

Decision (see ``docs/privacy.md``): identifiers are **encrypted**, not only pseudonymised.
Data stewards must be able to reveal one record's identifiers (linkage review, victim
services), which a one-way pseudonym cannot give; linkage needs the fuzzy text of names, which
exact-match pseudonyms destroy. So each record's identifiers are sealed as one AES-256-GCM blob
bound to its (source, record id) as associated data, with a key held outside the database
(:mod:`tiplab.keys`). In addition, exact identifiers get keyed BLAKE2b pseudonyms so that exact
matches (same document number, same date of birth) can be found without decrypting anything.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tiplab.keys import KeyRing
from tiplab.records.schema import CASE_SCHEMA

IDENTIFIER_FIELDS: tuple[str, ...] = CASE_SCHEMA.protected
PSEUDONYM_FIELDS: tuple[str, ...] = ("birth_date", "document_number", "phone")
SEALED_COLUMN = "identity_sealed"
NONCE_BYTES = 12


def _aad(source: str, record_id: str) -> bytes:
    return f"{source}\x1f{record_id}".encode()


def _normalise_exact(field: str, value: str) -> str:
    if field in ("document_number", "phone"):
        return "".join(ch for ch in value.upper() if ch.isalnum())
    return value


def pseudonym(key: bytes, field: str, value: str) -> str:
    """Keyed BLAKE2b pseudonym of one exact identifier (hex, 128 bits)."""
    h = hashlib.blake2b(_normalise_exact(field, value).encode(), key=key, digest_size=16,
                        person=field.encode()[:16])
    return h.hexdigest()


def seal_identifiers(table: pa.Table, keyring: KeyRing) -> pa.Table:
    """Replace the identifier columns of ``table`` by a sealed blob and pseudonyms.

    Rows with no identifier at all get a NULL blob. The loop is per record because each
    record's blob has its own nonce; it runs only at import time.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aes = AESGCM(keyring.field_key)
    present = [f for f in IDENTIFIER_FIELDS if f in table.column_names]
    cols = {f: _as_text(table.column(f)) for f in present}
    sources = table.column("source_agency").to_pylist()
    record_ids = table.column("record_id").to_pylist()
    sealed: list[bytes | None] = []
    n = table.num_rows
    values_by_row = zip(*[cols[f] for f in present], strict=True) if present else \
        iter([()] * n)
    for source, rid, values in zip(sources, record_ids, values_by_row, strict=True):
        ident = {f: v for f, v in zip(present, values, strict=True) if v is not None}
        if not ident:
            sealed.append(None)
            continue
        nonce = os.urandom(NONCE_BYTES)
        body = json.dumps(ident, ensure_ascii=False, separators=(",", ":")).encode()
        sealed.append(nonce + aes.encrypt(nonce, body, _aad(str(source), str(rid))))
    out = table.drop_columns(present)
    out = out.append_column(SEALED_COLUMN, pa.array(sealed, pa.binary()))
    for f in PSEUDONYM_FIELDS:
        if f in cols:
            out = out.append_column(
                f"{f}_pseudonym",
                pa.array([pseudonym(keyring.pseudonym_key, f, v) if v is not None else None
                          for v in cols[f]], pa.string()))
        else:
            out = out.append_column(f"{f}_pseudonym", pa.nulls(n, pa.string()))
    return out


def _as_text(column: pa.ChunkedArray) -> list[str | None]:
    if pa.types.is_date(column.type):
        column = pc.strftime(column.cast(pa.timestamp("s")), format="%Y-%m-%d")
    return [None if v is None else str(v) for v in column.to_pylist()]


def unseal(blob: bytes | None, keyring: KeyRing, source: str, record_id: str) -> dict[str, Any]:
    """Decrypt one record's identifiers. Raises if the blob was tampered with or moved."""
    if not blob:
        return {}
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    plain = AESGCM(keyring.field_key).decrypt(nonce, body, _aad(source, record_id))
    data: dict[str, Any] = json.loads(plain)
    return data


REDACTED = "\u2022\u2022\u2022"


def seal_raw_rows(raw_json: list[str], row_numbers: list[int], protected_columns: set[str],
                  keyring: KeyRing, batch_key: str) -> tuple[list[str], list[bytes | None]]:
    """Redact identifier columns from rejected rows' raw text and seal the full rows.

    Returns the redacted JSON (shown to analysts) and the sealed originals (for a data steward
    who needs the full row to correct it). Rows without identifier columns are not sealed.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aes = AESGCM(keyring.field_key)
    redacted: list[str] = []
    sealed: list[bytes | None] = []
    for text, row in zip(raw_json, row_numbers, strict=True):
        data = json.loads(text)
        hit = [c for c in data if c in protected_columns and data[c] not in (None, "")]
        if not hit and "_line" not in data:
            redacted.append(text)
            sealed.append(None)
            continue
        for c in hit:
            data[c] = REDACTED
        if "_line" in data and protected_columns:
            data["_line"] = REDACTED  # an unparsed line may hold anything
        redacted.append(json.dumps(data, ensure_ascii=False))
        nonce = os.urandom(NONCE_BYTES)
        sealed.append(nonce + aes.encrypt(nonce, text.encode(), f"{batch_key}\x1f{row}".encode()))
    return redacted, sealed


def unseal_raw_row(blob: bytes, keyring: KeyRing, batch_key: str, row: int) -> str:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    return AESGCM(keyring.field_key).decrypt(nonce, body, f"{batch_key}\x1f{row}".encode()).decode()
