"""Sealing identifiers: every blob opens to its record's identifiers, pseudonyms are the keyed
HMACs of :func:`tiplab.records.protect.pseudonym`, whichever route computed them (DuckDB for
text, distinct values for dates), and sealing in chunks gives the same records."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa
import pytest

from tiplab.keys import load_keyring
from tiplab.records.protect import (
    SEALED_COLUMN,
    pseudonym,
    seal_chunks,
    seal_identifiers,
    unseal,
)


def _table() -> pa.Table:
    d = dt.date
    return pa.table({
        "_row": pa.array([2, 3, 4, 5, 6, 7], pa.int64()),
        "source_agency": ["Police"] * 6,
        "record_id": ["P-1", "P-2", "P-3", "P-4", "P-5", "P-6"],
        "given_name": ["Ana", None, "Ion", None, "Élise", "Ana"],
        "family_name": ["Popescu", None, "Ionescu", None, "Dupont", "Popescu"],
        "birth_date": pa.array([d(1990, 3, 2), None, d(1990, 3, 2), None, d(2001, 12, 31),
                                d(1990, 3, 2)], pa.date32()),
        "document_number": ["ab-123", None, "XY 9", None, None, "AB123"],
        "phone": [None, None, "+40 711", None, "0711", None],
        "sex": ["Feminine", "Masculine", "Masculine", None, "Feminine", "Feminine"],
    })


@pytest.fixture
def keyring(tmp_path: Path):  # type: ignore[no-untyped-def]
    return load_keyring(tmp_path / "keys")


def _check(out: pa.Table, table: pa.Table, keyring) -> None:  # type: ignore[no-untyped-def]
    assert out.num_rows == table.num_rows
    for name in ("given_name", "family_name", "birth_date", "document_number", "phone"):
        assert name not in out.column_names
    assert out.column("sex").to_pylist() == table.column("sex").to_pylist()
    rows = table.to_pylist()
    sealed = out.column(SEALED_COLUMN).to_pylist()
    for row, blob in zip(rows, sealed, strict=True):
        clear = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in row.items()
                 if k in ("given_name", "family_name", "birth_date", "document_number", "phone")
                 and v is not None}
        if not clear:
            assert blob is None  # nothing to seal
            continue
        assert unseal(blob, keyring, row["source_agency"], row["record_id"]) == clear
    for field in ("birth_date", "document_number", "phone"):
        want = [None if r[field] is None else pseudonym(
            keyring.pseudonym_key, field,
            r[field].isoformat() if isinstance(r[field], dt.date) else r[field]) for r in rows]
        assert out.column(f"{field}_pseudonym").to_pylist() == want, field


def test_sealed_blobs_open_and_pseudonyms_match_the_reference(keyring) -> None:  # type: ignore[no-untyped-def]
    table = _table()
    out = seal_identifiers(table, keyring)
    _check(out, table, keyring)
    # same person, same keyed pseudonym; document numbers compared as normalised
    doc = out.column("document_number_pseudonym").to_pylist()
    assert doc[0] == doc[5]
    assert doc[0] != doc[2]
    born = out.column("birth_date_pseudonym").to_pylist()
    assert born[0] == born[2] == born[5]
    assert born[0] != born[4]
    # a fresh nonce per record: equal identifiers never give equal blobs
    blobs = out.column(SEALED_COLUMN).to_pylist()
    assert blobs[0] != blobs[5]


def test_sealing_in_chunks_gives_the_same_records(keyring) -> None:  # type: ignore[no-untyped-def]
    table = _table()
    chunks = list(seal_chunks(table, keyring, rows=4))
    assert [c.num_rows for c in chunks] == [4, 2]
    _check(pa.concat_tables(chunks), table, keyring)


def test_an_empty_table_still_yields_its_columns(keyring) -> None:  # type: ignore[no-untyped-def]
    table = _table().slice(0, 0)
    chunks = list(seal_chunks(table, keyring))
    assert len(chunks) == 1
    assert chunks[0].num_rows == 0
    assert chunks[0].column_names == seal_identifiers(_table(), keyring).column_names


def test_a_chunk_without_any_birth_date(keyring) -> None:  # type: ignore[no-untyped-def]
    table = _table().slice(3, 1)  # P-4: no identifier at all
    out = seal_identifiers(table, keyring)
    assert out.column(SEALED_COLUMN).to_pylist() == [None]
    assert out.column("birth_date_pseudonym").to_pylist() == [None]
    assert out.column("birth_date_pseudonym").type == pa.string()
