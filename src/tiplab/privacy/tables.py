"""Apply disclosure control to Arrow count tables (the shape analysis results use)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.privacy.disclosure import (
    DisclosureError,
    DisclosureRule,
    Protection,
    suppress_1d,
    suppress_2d,
)


def protect_counts(table: pa.Table, value: str, *, rows: str | None = None,
                   cols: str | Sequence[str] | None = None,
                   rule: DisclosureRule | None = None,
                   also: Sequence[str] = ()) -> tuple[pa.Table, Protection]:
    """Suppress small counts of ``table[value]`` and add a boolean ``suppressed`` column.

    With ``rows`` only (or neither), the table is treated as a 1-D table with a published
    total; with ``rows`` and ``cols`` as a 2-D table ``rows x cols`` with published margins
    (``cols`` may name several columns; their combination is one dimension). Suppressed cells
    get null in ``value`` and in every column listed in ``also`` (rates, intervals).
    """
    rule = rule or DisclosureRule()
    if value not in table.column_names:
        raise DisclosureError(f"no column {value!r} to protect")
    v = np.asarray(table.column(value).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    if cols is None:
        mask, _, prot = suppress_1d(v, rule)
    else:
        col_list = [cols] if isinstance(cols, str) else list(cols)
        if rows is None:
            raise DisclosureError("a 2-D table needs both rows and cols")
        r_codes, r_n = _codes(table, [rows])
        c_codes, c_n = _codes(table, col_list)
        grid = np.zeros((r_n, c_n), dtype=np.int64)
        np.add.at(grid, (r_codes, c_codes), v)
        if (np.bincount(r_codes * c_n + c_codes, minlength=r_n * c_n) > 1).any():
            raise DisclosureError(f"duplicate cells for {rows} x {col_list}: aggregate first")
        m2, prot = suppress_2d(grid, rule)
        mask = m2[r_codes, c_codes]
    return _apply(table, mask, [value, *also]), prot


def _codes(table: pa.Table, columns: list[str]) -> tuple[np.ndarray, int]:
    keys = pa.Table.from_arrays([table.column(c).cast(pa.string()).fill_null("\x00null")
                                 for c in columns], names=columns)
    joined = keys.column(0) if len(columns) == 1 else pc.binary_join_element_wise(
        *[keys.column(c) for c in columns], "\x1f")
    enc = pc.dictionary_encode(joined).combine_chunks()
    idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return idx, len(enc.dictionary)


def _apply(table: pa.Table, mask: np.ndarray, columns: Sequence[str]) -> pa.Table:
    m = pa.array(mask, pa.bool_())
    for name in columns:
        if name not in table.column_names:
            continue
        i = table.column_names.index(name)
        col = table.column(name)
        table = table.set_column(i, name, pc.if_else(m, pa.scalar(None, col.type), col))
    if "suppressed" in table.column_names:
        table = table.drop_columns(["suppressed"])
    return table.append_column("suppressed", m)


def protect_grouped(table: pa.Table, value: str, *, groups: Sequence[str],
                    rule: DisclosureRule | None = None, also: Sequence[str] = ()
                    ) -> tuple[pa.Table, Protection]:
    """1-D suppression within each group (the group's total is published)."""
    rule = rule or DisclosureRule()
    v = np.asarray(table.column(value).fill_null(0).to_numpy(zero_copy_only=False), np.int64)
    mask = np.zeros(v.size, dtype=bool)
    if groups:
        g, n = _codes(table, list(groups))
    else:
        g, n = np.zeros(v.size, dtype=np.int64), 1
    prim = sec = marg = 0
    order = np.argsort(g, kind="stable")
    bounds = np.searchsorted(g[order], np.arange(n + 1))
    for k in range(n):
        idx = order[bounds[k]:bounds[k + 1]]
        m, tot, p = suppress_1d(v[idx], rule)
        mask[idx] = m
        prim, sec, marg = prim + p.primary, sec + p.secondary, marg + int(tot)
    return _apply(table, mask, [value, *also]), Protection(rule, prim, sec, marg)
