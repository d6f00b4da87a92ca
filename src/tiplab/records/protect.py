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
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from tiplab.keys import KeyRing
from tiplab.records.schema import CASE_SCHEMA
from tiplab.streams import read_ahead

IDENTIFIER_FIELDS: tuple[str, ...] = CASE_SCHEMA.protected
PSEUDONYM_FIELDS: tuple[str, ...] = ("birth_date", "document_number", "phone")
SEALED_COLUMN = "identity_sealed"
NONCE_BYTES = 12
#: Records sealed per chunk by :func:`seal_chunks` (a store writes one while the next is sealed).
SEAL_CHUNK_ROWS = 65_536


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


def _date_pseudonyms(column: pa.ChunkedArray, key: bytes, field: str) -> pa.Array:
    """Pseudonyms of a date column, one HMAC per distinct date (a few thousand) not per row."""
    import pyarrow.compute as pc

    distinct = pc.unique(column.drop_null()) if column.null_count < len(column) else \
        pa.array([], column.type)
    macs = pa.array([pseudonym(key, field, d.isoformat()) for d in distinct.to_pylist()],
                    pa.string())
    return pc.take(macs, pc.index_in(column, value_set=distinct)).combine_chunks() \
        if len(distinct) else pa.nulls(len(column), pa.string())


def _sealed_array(bodies: pa.Array, aads: list[bytes], key: bytes) -> pa.Array:
    """AES-256-GCM of each non-null body, bound to its associated data: nonce || ciphertext.

    The only per-record Python in the import: one comprehension over bytes straight from
    DuckDB with nonces drawn in one call; the result is assembled as one buffer (a list of a
    million ``bytes`` converted by ``pa.array`` cost as much as the encryption).
    """
    import numpy as np
    import pyarrow.compute as pc
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if bodies.offset:  # a slice: the validity bitmap below must start at the first row
        bodies = pa.concat_arrays([bodies])
    n = len(bodies)
    pool = os.urandom(NONCE_BYTES * n)
    nonces = [pool[i:i + NONCE_BYTES] for i in range(0, NONCE_BYTES * n, NONCE_BYTES)]
    encrypt = AESGCM(key).encrypt
    sealed = [nonce + encrypt(nonce, b, a)
              for nonce, b, a in zip(nonces, bodies.to_pylist(), aads, strict=True)
              if b is not None]
    data = b"".join(sealed)
    if len(data) >= 2**31:  # past 32-bit offsets (32 KB a record in one chunk): let Arrow split
        it = iter(sealed)
        return pa.array([None if not v else next(it) for v in bodies.is_valid().to_pylist()],
                        pa.binary())
    overhead = NONCE_BYTES + 16  # nonce + GCM tag
    lengths = pc.add(pc.binary_length(bodies), overhead).fill_null(0).to_numpy()
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    return pa.Array.from_buffers(pa.binary(), n, [bodies.buffers()[0], pa.py_buffer(offsets),
                                                  pa.py_buffer(data)],
                                 null_count=bodies.null_count)


def seal_identifiers(table: pa.Table, keyring: KeyRing) -> pa.Table:
    """Replace the identifier columns of ``table`` by a sealed blob and pseudonyms.

    Rows with no identifier at all get a NULL blob. See :func:`seal_chunks`.
    """
    return pa.concat_tables(seal_chunks(table, keyring))


def seal_chunks(table: pa.Table, keyring: KeyRing,
                rows: int | None = None) -> Iterator[pa.Table]:
    """:func:`seal_identifiers` over consecutive slices of ``rows`` records (default
    :data:`SEAL_CHUNK_ROWS`), one at a time.

    One DuckDB query gathers each record's identifiers as JSON and computes the text
    pseudonyms (vectorised), streamed in slices; a date's pseudonyms are computed on its
    distinct values. Only the AES-GCM call runs per record. A store can write each chunk while
    the next one is sealed (the SQLite loader runs in a process of its own, so the two use
    both cores) and never holds every sealed record at once. Always yields at least one
    chunk, so an empty table still gives its columns.
    """
    from tiplab import duck

    present = [f for f in IDENTIFIER_FIELDS if f in table.column_names]
    texts = {f: (f"strftime(\"{f}\", '%Y-%m-%d')" if pa.types.is_date(
        table.schema.field(f).type) else f'"{f}"') for f in present}
    # A field empty in every record (a profile that maps no full name) is left out of the
    # sealed JSON rather than written as null a million times; unsealing gives the same.
    sealed_fields = [f for f in present if table.column(f).null_count < table.num_rows]
    if sealed_fields:
        obj = ", ".join(f"'{f}', {texts[f]}" for f in sealed_fields)
        anyv = " OR ".join(f'"{f}" IS NOT NULL' for f in sealed_fields)
        body = f"CASE WHEN {anyv} THEN encode(CAST(json_object({obj}) AS VARCHAR)) END"
    else:
        body = "CAST(NULL AS BLOB)"
    by_date = [f for f in PSEUDONYM_FIELDS
               if f in present and pa.types.is_date(table.schema.field(f).type)]
    dated = {f: _date_pseudonyms(table.column(f), keyring.pseudonym_key, f) for f in by_date}
    cols = [f"{body} AS body", "encode(source_agency || chr(31) || record_id) AS aad"]
    for f in PSEUDONYM_FIELDS:
        if f in present and f not in by_date:
            fk = _field_key(keyring.pseudonym_key, f)
            cols.append(f"CASE WHEN \"{f}\" IS NOT NULL THEN "
                        f"{_hmac_sql(fk, _normalise_sql(f, texts[f]))} END AS {f}_pseudonym")
        elif f not in by_date:
            cols.append(f"CAST(NULL AS VARCHAR) AS {f}_pseudonym")
    check = "_row" in table.column_names
    if check:
        cols.append('"_row"')
    con = duck.cursor()
    try:
        con.register("t", table)
        # A projection of one registered table: DuckDB streams it in the table's row order
        # (preserve_insertion_order); ``_row`` is compared below all the same.
        reader = con.sql(f"SELECT {', '.join(cols)} FROM t").to_arrow_reader(
            rows or SEAL_CHUNK_ROWS)
        start = 0
        # DuckDB hashes the next slice while this thread encrypts the current one
        for batch in read_ahead(reader, depth=1, name="tiplab-seal-ahead"):
            n = batch.num_rows
            part = table.slice(start, n)
            if check and not batch.column("_row").equals(part.column("_row").combine_chunks()):
                raise RuntimeError("sealing lost the records' order")  # never expected
            out = part.drop_columns(present)
            out = out.append_column(SEALED_COLUMN, _sealed_array(
                batch.column("body"), batch.column("aad").to_pylist(), keyring.field_key))
            for f in PSEUDONYM_FIELDS:
                out = out.append_column(f"{f}_pseudonym", dated[f].slice(start, n)
                                        if f in dated else batch.column(f"{f}_pseudonym"))
            start += n
            yield out
        if start != table.num_rows:
            raise RuntimeError(f"sealed {start} of {table.num_rows} records")  # never expected
        if start == 0:
            empty = table.drop_columns(present).append_column(
                SEALED_COLUMN, pa.array([], pa.binary()))
            for f in PSEUDONYM_FIELDS:
                empty = empty.append_column(f"{f}_pseudonym", pa.array([], pa.string()))
            yield empty
    finally:
        con.close()


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


# -- key rotation ---------------------------------------------------------------------------
class UnsealError(ValueError):
    """A sealed value does not open with the key given for it (wrong key, or tampered)."""

    def __init__(self, index: int) -> None:
        super().__init__(f"sealed value {index} does not open with its key")
        self.index = index


def _opened(blobs: Sequence[bytes | None], aads: Sequence[bytes],
            old_keys: Sequence[bytes]) -> list[bytes | None]:
    """AES-256-GCM decryption of each blob with its own (old) key: the plaintexts.

    Raises :class:`UnsealError` naming the first blob that does not open.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    ciphers: dict[bytes, AESGCM] = {}
    out: list[bytes | None] = []
    for blob, aad, key in zip(blobs, aads, old_keys, strict=True):
        if not blob:
            out.append(None)
            continue
        aes = ciphers.get(key)
        if aes is None:
            aes = ciphers[key] = AESGCM(key)
        try:
            out.append(aes.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], aad))
        except InvalidTag:
            raise UnsealError(len(out)) from None
    return out


def reseal_identities(blobs: Sequence[bytes | None], sources: Sequence[str],
                      record_ids: Sequence[str], old_field_keys: Sequence[bytes],
                      new: KeyRing) -> pa.Table:
    """Records' sealed identifiers re-sealed under ``new`` keys, with their pseudonyms recomputed.

    For a key rotation. Each blob opens with its own old field key (the key of its batch) and
    its ``(source, record id)``; the plaintext (the import's JSON, unchanged) is sealed again
    with a fresh nonce by the import's own function, and the pseudonyms are computed from it
    as the import computes them: text identifiers by the same DuckDB HMAC over the JSON value,
    dates once per distinct date. So a rotated record equals a record imported with the new
    keys. Raises :class:`UnsealError` for a blob its key does not open.

    Returns one row per record: ``identity_sealed`` and the ``<field>_pseudonym`` columns.
    """
    aads = [_aad(s, r) for s, r in zip(sources, record_ids, strict=True)]
    bodies = pa.array(_opened(blobs, aads, old_field_keys), pa.binary())
    out = {SEALED_COLUMN: _sealed_array(bodies, aads, new.field_key)}
    out.update(_pseudonyms_of(bodies, new.pseudonym_key))
    return pa.table(out)


def _pseudonyms_of(bodies: pa.Array, key: bytes) -> dict[str, pa.Array]:
    """The pseudonym columns of sealed-identifier plaintexts (JSON), as the import makes them."""
    from tiplab import duck

    cols = []
    for f in PSEUDONYM_FIELDS:
        text = f"json_extract_string(decode(body), '$.{f}')"
        if f == "birth_date":  # dates: per distinct date in Python, like the import
            cols += [f"TRY_CAST({text} AS DATE) AS {f}", f"{text} AS {f}_text"]
        else:
            cols.append(f"CASE WHEN {text} IS NOT NULL THEN "
                        f"{_hmac_sql(_field_key(key, f), _normalise_sql(f, text))} END "
                        f"AS {f}_pseudonym")
    con = duck.cursor()
    try:
        con.register("b", pa.table({"body": bodies}))
        t = con.sql(f"SELECT {', '.join(cols)} FROM b").to_arrow_table()
    finally:
        con.close()
    dates = t.column("birth_date")
    if dates.null_count != t.column("birth_date_text").null_count:
        raise ValueError("a sealed birth date is not an ISO date")  # never written so
    out = {}
    for f in PSEUDONYM_FIELDS:
        out[f"{f}_pseudonym"] = (_date_pseudonyms(dates, key, f) if f == "birth_date"
                                 else t.column(f"{f}_pseudonym").combine_chunks())
    return out


def reseal_raw_rows(blobs: Sequence[bytes | None], batch_keys: Sequence[str],
                    rows: Sequence[int], old_field_keys: Sequence[bytes],
                    new: KeyRing) -> list[bytes | None]:
    """Rejected rows' sealed originals (:func:`seal_raw_rows`) re-sealed under ``new`` keys."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aads = [f"{k}\x1f{r}".encode() for k, r in zip(batch_keys, rows, strict=True)]
    aes = AESGCM(new.field_key)
    out: list[bytes | None] = []
    for text in _opened(blobs, aads, old_field_keys):
        if text is None:
            out.append(None)
            continue
        nonce = os.urandom(NONCE_BYTES)
        out.append(nonce + aes.encrypt(nonce, text, aads[len(out)]))
    return out
