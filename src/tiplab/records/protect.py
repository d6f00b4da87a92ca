"""Protect identifying fields before they are stored.

Decision (see ``docs/privacy.md``): identifiers are **encrypted**, not only pseudonymised.
Data stewards must be able to reveal one record's identifiers (linkage review, victim
services), which a one-way pseudonym cannot give; linkage needs the fuzzy text of names, which
exact-match pseudonyms destroy. So each record's identifiers are sealed as one AES-256-GCM blob
bound to its (source, record id) as associated data, with a key held outside the database
(:mod:`tiplab.keys`). In addition, exact identifiers get keyed HMAC-SHA256 pseudonyms so that exact
matches (same document number, same date of birth) can be found without decrypting anything.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import threading
from typing import Any

import pyarrow as pa

from tiplab.keys import KeyRing
from tiplab.records.schema import CASE_SCHEMA

IDENTIFIER_FIELDS: tuple[str, ...] = CASE_SCHEMA.protected
PSEUDONYM_FIELDS: tuple[str, ...] = ("birth_date", "document_number", "phone")
SEALED_COLUMN = "identity_sealed"
NONCE_BYTES = 12


def _aad(source: str, record_id: str) -> bytes:
    return f"{source}\x1f{record_id}".encode()


def _field_key(key: bytes, field: str) -> bytes:
    """A per-field key, so equal values in different fields get unrelated pseudonyms."""
    return hmac.new(key, b"tiplab-pseudonym:" + field.encode(), hashlib.sha256).digest()


def _normalise_exact(field: str, value: str) -> str:
    if field in ("document_number", "phone"):
        return re.sub(r"[^A-Z0-9]", "", value.upper())
    return value


def pseudonym(key: bytes, field: str, value: str) -> str:
    """Keyed HMAC-SHA256 pseudonym of one exact identifier (hex, first 128 bits).

    Equal to what :func:`seal_identifiers` computes in DuckDB for the same key and value.
    """
    mac = hmac.new(_field_key(key, field), _normalise_exact(field, value).encode(),
                   hashlib.sha256)
    return mac.hexdigest()[:32]


def _blob_literal(data: bytes) -> str:
    return "'" + "".join(f"\\x{b:02X}" for b in data) + "'::BLOB"


def _hmac_sql(key: bytes, expr: str) -> str:
    """HMAC-SHA256 of a VARCHAR expression, in DuckDB SQL (RFC 2104, key < 64 bytes)."""
    padded = key.ljust(64, b"\0")
    ipad = bytes(b ^ 0x36 for b in padded)
    opad = bytes(b ^ 0x5C for b in padded)
    inner = f"unhex(sha256({_blob_literal(ipad)} || encode({expr})))"
    return f"left(sha256({_blob_literal(opad)} || {inner}), 32)"


def _normalise_sql(field: str, col: str) -> str:
    if field in ("document_number", "phone"):
        return f"regexp_replace(upper({col}), '[^A-Z0-9]', '', 'g')"
    return col


def seal_identifiers(table: pa.Table, keyring: KeyRing) -> pa.Table:
    """Replace the identifier columns of ``table`` by a sealed blob and pseudonyms.

    The identifiers of each record are gathered as JSON and the pseudonyms computed in DuckDB
    (vectorised, in a second thread); only the AES-GCM call runs per record, with nonces
    drawn in one call.
    Rows with no identifier at all get a NULL blob.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from tiplab import duck

    present = [f for f in IDENTIFIER_FIELDS if f in table.column_names]
    texts = {f: (f"strftime(\"{f}\", '%Y-%m-%d')" if pa.types.is_date(
        table.schema.field(f).type) else f'"{f}"') for f in present}
    if present:
        obj = ", ".join(f"'{f}', {texts[f]}" for f in present)
        anyv = " OR ".join(f'"{f}" IS NOT NULL' for f in present)
        body = f"CASE WHEN {anyv} THEN CAST(json_object({obj}) AS VARCHAR) END"
    else:
        body = "CAST(NULL AS VARCHAR)"
    pseud = []
    for f in PSEUDONYM_FIELDS:
        if f in present:
            fk = _field_key(keyring.pseudonym_key, f)
            pseud.append(f"CASE WHEN \"{f}\" IS NOT NULL THEN "
                         f"{_hmac_sql(fk, _normalise_sql(f, texts[f]))} END "
                         f"AS {f}_pseudonym")
        else:
            pseud.append(f"CAST(NULL AS VARCHAR) AS {f}_pseudonym")
    bodies_q = (f"SELECT encode({body}) AS body, encode(source_agency || chr(31) || "
                f"record_id) AS aad FROM t")
    pseud_q = f"SELECT {', '.join(pseud)} FROM t"
    # The pseudonyms (DuckDB, which releases the GIL) are computed in a second thread while
    # this one runs the per-record AES-GCM loop: the two together take the longer of the two.
    pseudonyms: list[pa.Table] = []
    failure: list[BaseException] = []

    def compute_pseudonyms() -> None:
        c = duck.cursor()
        try:
            c.register("t", table)
            pseudonyms.append(c.sql(pseud_q).to_arrow_table())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)
        finally:
            c.close()

    worker = threading.Thread(target=compute_pseudonyms, name="tiplab-pseudonyms")
    worker.start()
    try:
        con = duck.cursor()
        try:
            con.register("t", table)
            prepared = con.sql(bodies_q).to_arrow_table()
        finally:
            con.close()
        bodies = prepared.column("body").to_pylist()
        aads = prepared.column("aad").to_pylist()
        n = len(bodies)
        pool = os.urandom(NONCE_BYTES * n)
        nonces = [pool[i:i + NONCE_BYTES] for i in range(0, NONCE_BYTES * n, NONCE_BYTES)]
        encrypt = AESGCM(keyring.field_key).encrypt
        # One comprehension, bytes straight from DuckDB: the only per-record Python.
        sealed = [None if b is None else nonce + encrypt(nonce, b, a)
                  for nonce, b, a in zip(nonces, bodies, aads, strict=True)]
    finally:
        worker.join()
    if failure:
        raise failure[0]
    pseud_table = pseudonyms[0]
    out = table.drop_columns(present)
    out = out.append_column(SEALED_COLUMN, pa.array(sealed, pa.binary()))
    for f in PSEUDONYM_FIELDS:
        out = out.append_column(f"{f}_pseudonym", pseud_table.column(f"{f}_pseudonym"))
    return out




def unseal(blob: bytes | None, keyring: KeyRing, source: str, record_id: str) -> dict[str, Any]:
    """Decrypt one record's identifiers. Raises if the blob was tampered with or moved."""
    if not blob:
        return {}
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce, body = blob[:NONCE_BYTES], blob[NONCE_BYTES:]
    plain = AESGCM(keyring.field_key).decrypt(nonce, body, _aad(source, record_id))
    data: dict[str, Any] = json.loads(plain)
    return {k: v for k, v in data.items() if v is not None}


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
