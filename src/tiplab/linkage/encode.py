"""Privacy-preserving encodings: keyed Bloom filters of names, keyed hashes of exact fields.

Run at the agency (``tiplab encode``). Names and place become Bloom filters: every padded
q-gram (bigrams by default) is hashed with HMAC-SHA256 under a key derived from the shared
secret *and the field name* (so "ana" as a given name and as a family name set different
bits), and k bit positions come from double hashing ``h1 + i*h2 mod m``. Exact fields
(phonetic codes, birth date and its variants, sex, citizenship, phone, document, region)
become truncated HMAC-SHA256 digests. The birth year (or the two years an age at
registration allows) is hashed as ``by_lo``/``by_hi`` under one key, so the ranges of two
records can be compared for a shared year. The registration date is never encoded as a
date: only the windows it falls in (``reg_w30a`` = 30-day window number, ``reg_w30b`` = the
same on a grid shifted by 15 days; also 180 and 730 days) are hashed, each under its own
key, so the central office learns only whether two records were registered in a common
window. The output keeps the record id and the declared
non-identifying attributes, and no clear identifier.

Options against frequency attacks: ``flip_probability`` (BLIP: randomised response on each
bit, drawn per record) and ``fold`` (XOR-folding the two halves). See docs/linkage.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tiplab.linkage.errors import EncodingError
from tiplab.linkage.io import ENCODING_METADATA_KEY
from tiplab.linkage.model import REG_WINDOWS
from tiplab.linkage.roles import LinkInput
from tiplab.linkage.settings import EncodingSettings
from tiplab.linkage.standardise import standardise

FORMAT = "tiplab-bloom-v1"
BF_FIELDS: tuple[str, ...] = ("given", "family", "place")
HASH_FIELDS: tuple[str, ...] = (
    "given_ph",
    "family_ph",
    "dob",
    "dob_swap",
    "dob_ym",
    "dob_year",
    "sex",
    "citizenship",
    "phone8",
    "doc",
    "region",
    "by_lo",
    "by_hi",
    "form",
    "recruiter",
    "means",
    *(f"reg_w{w}{g}" for w in REG_WINDOWS for g in "ab"),
)
MIN_KEY_BYTES = 32

#: Fields compared with each other share a key: given/family (name-order swaps) and
#: dob/dob_swap (day-month swaps). Every other field has its own key.
KEY_GROUP: dict[str, str] = {
    "given": "name",
    "family": "name",
    "given_ph": "name_ph",
    "family_ph": "name_ph",
    "dob_swap": "dob",
    "by_lo": "birth_year",
    "by_hi": "birth_year",
}


def generate_key() -> str:
    """A new random 256-bit key, hex-encoded (write it to a file readable by you only)."""
    return secrets.token_hex(32)


def load_key(path: str | Path) -> bytes:
    """Read a key file: hex or base64 text, or raw bytes; at least 32 bytes of key."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise EncodingError(f"{p}: cannot read the key file: {e}") from e
    text = raw.strip()
    key: bytes = raw
    try:
        key = binascii.unhexlify(text)
    except (binascii.Error, ValueError):
        try:
            key = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            key = raw
    if len(key) < MIN_KEY_BYTES:
        raise EncodingError(
            f"{p}: the key has {len(key)} bytes; at least {MIN_KEY_BYTES} are "
            "needed. Make one with `tiplab encode-key KEYFILE`"
        )
    return key


def key_fingerprint(key: bytes) -> str:
    """A short keyed digest that tells whether two files used the same key (reveals no key)."""
    return hmac.new(key, b"tiplab/key-fingerprint", hashlib.sha256).hexdigest()[:16]


def _subkey(key: bytes, purpose: str) -> bytes:
    return hmac.new(key, f"tiplab/{purpose}".encode(), hashlib.sha256).digest()


def qgrams(value: str, q: int = 2) -> list[str]:
    """Padded q-grams of a clean string ("ana" -> _a an na a_ for q=2)."""
    pad = "_" * (q - 1)
    s = f"{pad}{value}{pad}"
    return [s[i : i + q] for i in range(len(s) - q + 1)]


def bloom_filters(
    values: pa.Array | pa.ChunkedArray,
    key: bytes,
    field: str,
    es: EncodingSettings,
    rng: np.random.Generator | None = None,
) -> pa.Array:
    """Bloom filters (binary, bits/8 bytes; half with ``fold``) of clean strings; null stays null.

    The filter of each *distinct* value is built once; BLIP bit flips are drawn per record.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    uniq = pc.unique(values).drop_null()
    sub = _subkey(key, f"bf/{KEY_GROUP.get(field, field)}")
    m, k = es.bits, es.hashes
    positions: dict[str, list[int]] = {}
    rows: list[int] = []
    cols: list[int] = []
    for i, v in enumerate(uniq.to_pylist()):
        for g in set(qgrams(v, es.q)):
            pos = positions.get(g)
            if pos is None:
                d = hmac.new(sub, g.encode(), hashlib.sha256).digest()
                h1 = int.from_bytes(d[:8], "little")
                h2 = int.from_bytes(d[8:16], "little") | 1
                pos = [(h1 + j * h2) % m for j in range(k)]
                positions[g] = pos
            rows.extend([i] * k)
            cols.extend(pos)
    mat = np.zeros((len(uniq), m), dtype=bool)
    if rows:
        mat[np.asarray(rows), np.asarray(cols)] = True
    if es.fold:
        mat = mat[:, : m // 2] ^ mat[:, m // 2 :]
    packed = np.packbits(mat, axis=1, bitorder="little")
    width = packed.shape[1]
    idx = pc.index_in(values, value_set=uniq).to_numpy(zero_copy_only=False)
    valid = ~np.isnan(idx) if idx.dtype.kind == "f" else np.ones(len(idx), bool)
    safe = np.where(valid, np.nan_to_num(idx, nan=0), 0).astype(np.int64)
    per_record = packed[safe] if len(uniq) else np.zeros((len(values), width), np.uint8)
    if es.flip_probability > 0:
        if rng is None:
            rng = np.random.default_rng(secrets.randbits(64))
        for start in range(0, len(per_record), 100_000):
            block = per_record[start : start + 100_000]
            flips = rng.random((len(block), width * 8)) < es.flip_probability
            block ^= np.packbits(flips, axis=1, bitorder="little")
    flat = pa.py_buffer(np.ascontiguousarray(per_record).tobytes())
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(values), [None, flat])
    out = fixed.cast(pa.binary())
    return pc.if_else(pa.array(valid), out, pa.scalar(None, pa.binary()))


def keyed_hashes(values: pa.Array | pa.ChunkedArray, key: bytes, field: str) -> pa.Array:
    """HMAC-SHA256 (128 bits, hex) of each value under a field-specific key; null stays null."""
    from tiplab.linkage.standardise import map_unique

    sub = _subkey(key, f"hash/{KEY_GROUP.get(field, field)}")

    def h(v: str | None) -> str | None:
        if v is None or v == "":
            return None
        return hmac.new(sub, v.encode(), hashlib.sha256).hexdigest()[:32]

    return map_unique(values, h, pa.string())


def encode(
    inp: LinkInput,
    key: bytes,
    es: EncodingSettings | None = None,
    rng: np.random.Generator | None = None,
) -> pa.Table:
    """Encode one clear-text input; the result carries no clear identifier."""
    es = es or EncodingSettings()
    if inp.encoded:
        raise EncodingError(f"input '{inp.source}' is already encoded")
    std = with_registration_windows(standardise(inp))
    cols: dict[str, pa.Array] = {"record_id": std.column("record_id").combine_chunks()}
    for f in BF_FIELDS:
        cols[f"{f}_bf"] = bloom_filters(std.column(f), key, f, es, rng)
    for f in HASH_FIELDS:
        col = std.column(f)
        if not pa.types.is_string(col.type):
            col = pc.cast(col, pa.string())
        cols[f] = keyed_hashes(col, key, f)
    for a in inp.attributes:
        cols[f"attr_{a}"] = std.column(f"attr_{a}").combine_chunks()
    meta = {
        "format": FORMAT,
        "source": inp.source,
        "key_fingerprint": key_fingerprint(key),
        "settings": es.model_dump(),
        "bf_fields": list(BF_FIELDS),
        "hash_fields": list(HASH_FIELDS),
        "attributes": list(inp.attributes),
    }
    table = pa.table(cols)
    return table.replace_schema_metadata({ENCODING_METADATA_KEY: json.dumps(meta).encode()})


def with_registration_windows(std: pa.Table) -> pa.Table:
    """Add ``reg_w<W>a`` (window number ``floor(day / W)``) and ``reg_w<W>b`` (the same on a
    grid shifted by half a window) for each W of :data:`REG_WINDOWS`: two dates at most W/2
    days apart always share one of the two windows, and dates more than W apart never do."""
    day = std.column("reg_day").combine_chunks()
    for w in REG_WINDOWS:
        for g, shift in (("a", 0), ("b", w // 2)):
            num = pc.floor(pc.divide(pc.cast(pc.add(day, shift), pa.float64()), float(w)))
            std = std.append_column(f"reg_w{w}{g}", pc.cast(pc.cast(num, pa.int64()), pa.string()))
    return std


def write_encoded(table: pa.Table, path: str | Path) -> None:
    """Parquet (Bloom filters as bytes, metadata kept) or CSV (filters as base64)."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        import duckdb

        con = duckdb.connect()
        try:
            con.register("t", table)
            sel = ", ".join(
                f"to_base64({c}) AS {c}" if c.endswith("_bf") else c for c in table.column_names
            )
            con.execute(f"COPY (SELECT {sel} FROM t) TO '{p.as_posix()}' (HEADER, DELIMITER ',')")
        finally:
            con.close()
        return
    pq.write_table(table, p)
