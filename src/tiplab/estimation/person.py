"""Capture tables from a linked person table, per stratum (DuckDB, vectorised).

Contract (from linkage): one row per person; ``person_id`` (string), ``sources``
(list<string>: the lists/agencies that saw the person) and optional stratum columns
(``year``, ``region_of_exploitation``, ``sex``, ``age_band``, ``exploitation_form``...).
Read from Parquet, CSV (``sources`` joined with ``;``) or an Arrow table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tiplab.estimation.errors import EstimationError
from tiplab.estimation.table import CaptureTable

OTHER = "other"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class StratifiedTables:
    """Capture tables keyed by stratum values (a tuple, in the order of ``by``)."""

    by: list[str]
    tables: dict[tuple[Any, ...], CaptureTable]
    lists: list[str]
    notes: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def items(self) -> Iterator[tuple[tuple[Any, ...], CaptureTable]]:
        return iter(self.tables.items())

    def __len__(self) -> int:
        return len(self.tables)

    def total(self) -> CaptureTable:
        """All strata pooled."""
        first = next(iter(self.tables.values()))
        counts = np.sum([t.counts for t in self.tables.values()], axis=0)
        return first.with_counts(counts)


def _load(con: Any, table: Any) -> None:
    import pyarrow as pa

    if isinstance(table, pa.Table):
        con.register("persons_in", table)
        return
    p = Path(str(table))
    if not p.exists():
        raise EstimationError(f"{p}: file not found.")
    if p.suffix.lower() in (".parquet", ".pq"):
        # DuckDB 2 refuses bound parameters in a view's definition: quote the path instead.
        con.execute(f"CREATE VIEW persons_in AS SELECT * FROM read_parquet({_quote(p)})")
    elif p.suffix.lower() in (".csv", ".txt"):
        con.execute(
            "CREATE VIEW persons_in AS SELECT * REPLACE "
            "(string_split(CAST(sources AS VARCHAR), ';') AS sources) "
            f"FROM read_csv({_quote(p)}, header = true, all_varchar = false)")
    else:
        raise EstimationError(
            f"{p}: unknown file type; give a .parquet or .csv person table.")


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def capture_tables_from_persons(
    table: Any,
    by: Sequence[str] = (),
    pool_below: int = 0,
    merge_lists: Sequence[str] = (),
    omit_lists: Sequence[str] = (),
) -> StratifiedTables:
    """Build one completed capture table per stratum.

    Parameters
    ----------
    table : path or pyarrow.Table
        The person table (see module docstring).
    by : sequence of str
        Stratum columns (none = one table).
    pool_below : int
        Strata with fewer observed persons are merged into one ``"other"`` stratum.
    merge_lists : sequence of str
        Groups such as ``"A+B"``: a person is on the merged list if on any of them.
    omit_lists : sequence of str
        Lists to drop (persons seen only there disappear).

    Raises
    ------
    EstimationError
        Missing columns, duplicate ``person_id``, or persons with no source.
    """
    import duckdb

    for col in by:
        if not _IDENT.match(col):
            raise EstimationError(f"stratum column {col!r} is not a plain column name.")
    where = "person table" if not isinstance(table, (str, Path)) else str(table)
    con = duckdb.connect()
    try:
        _load(con, table)
        cols = [r[0] for r in con.execute("DESCRIBE persons_in").fetchall()]
        for need in ("person_id", "sources", *by):
            if need not in cols:
                raise EstimationError(
                    f"{where}: no column '{need}' (has {', '.join(cols)}); the contract "
                    "is person_id, sources (list of list names) and optional stratum columns.")
        dup = con.execute(
            "SELECT CAST(person_id AS VARCHAR), count(*) FROM persons_in GROUP BY 1 "
            "HAVING count(*) > 1 LIMIT 3").fetchall()
        if dup:
            raise EstimationError(
                f"{where}: person_id not unique (e.g. {dup[0][0]!r} x{dup[0][1]}); link "
                "records to one row per person first.")
        empty = con.execute(
            "SELECT CAST(person_id AS VARCHAR) FROM persons_in "
            "WHERE sources IS NULL OR len(list_filter(sources, lambda s: s IS NOT NULL "
            "AND trim(s) <> '')) = 0 LIMIT 3").fetchall()
        if empty:
            raise EstimationError(
                f"{where}: person(s) on no list, e.g. {empty[0][0]!r}; every person "
                "must have at least one source.")
        # list edits, applied to the source names before the patterns are built
        rename: dict[str, str] = {}
        for grp in merge_lists:
            parts = [p.strip() for p in grp.split("+") if p.strip()]
            if len(parts) < 2:
                raise EstimationError(f"--merge-lists {grp!r}: give two or more lists as A+B.")
            for p in parts:
                rename[p] = "+".join(parts)
        omit = {o.strip() for o in omit_lists}
        con.execute("CREATE TEMP TABLE rename_map (src VARCHAR, dst VARCHAR)")
        if rename:
            con.executemany("INSERT INTO rename_map VALUES (?, ?)", list(rename.items()))
        con.execute("CREATE TEMP TABLE omit_set (src VARCHAR)")
        if omit:
            con.executemany("INSERT INTO omit_set VALUES (?)", [(o,) for o in omit])
        strat_sel = "".join(f", CAST({c} AS VARCHAR) AS {c}" for c in by)
        con.execute(f"""
            CREATE TEMP TABLE ps AS
            SELECT p.person_id{''.join(f', p.{c}' for c in by)},
                   coalesce(r.dst, trim(p.src)) AS src
            FROM (SELECT CAST(person_id AS VARCHAR) AS person_id{strat_sel},
                         unnest(sources) AS src FROM persons_in) p
            LEFT JOIN rename_map r ON r.src = trim(p.src)
            WHERE p.src IS NOT NULL AND trim(p.src) <> ''
              AND trim(p.src) NOT IN (SELECT src FROM omit_set)
        """)
        lists = [r[0] for r in con.execute(
            "SELECT DISTINCT src FROM ps ORDER BY src").fetchall()]
        unknown = (set(rename) | omit) - {r[0] for r in con.execute(
            "SELECT DISTINCT trim(unnest(sources)) FROM persons_in").fetchall()}
        if unknown:
            raise EstimationError(
                f"--merge-lists/--omit-list name lists not in the data: {sorted(unknown)}.")
        if len(lists) < 2:
            raise EstimationError(f"{where}: only {len(lists)} list(s) ({lists}); MSE "
                                  "needs at least two.")
        if len(lists) > 20:
            raise EstimationError(f"person table: {len(lists)} lists; at most 20 supported.")
        con.execute("CREATE TEMP TABLE list_idx (src VARCHAR, idx BIGINT)")
        con.executemany("INSERT INTO list_idx VALUES (?, ?)",
                        [(s, i) for i, s in enumerate(lists)])
        gb = "".join(f", {c}" for c in by)
        rows = con.execute(f"""
            WITH pat AS (
                SELECT person_id{gb}, bit_or(CAST(1 AS BIGINT) << l.idx) AS pattern
                FROM ps JOIN list_idx l USING (src)
                GROUP BY person_id{gb})
            SELECT pattern{gb}, count(*) AS n FROM pat GROUP BY ALL
        """).fetchall()
    except duckdb.Error as exc:  # a file DuckDB cannot read as the person table's columns
        detail = str(exc).splitlines()[0].split(": ", 1)[-1]
        raise EstimationError(f"{where}: cannot be read as a person table "
                              f"(person_id, sources, strata): {detail}") from exc
    finally:
        con.close()
    warnings: list[str] = []
    groups: dict[tuple[Any, ...], dict[int, int]] = {}
    for row in rows:
        key = tuple(row[1:1 + len(by)])
        groups.setdefault(key, {})
        groups[key][int(row[0])] = groups[key].get(int(row[0]), 0) + int(row[-1])
    notes: dict[str, list[str]] = {}
    if pool_below > 0 and by:
        small = [k for k, g in groups.items() if sum(g.values()) < pool_below]
        if small:
            pooled: dict[int, int] = {}
            for k in small:
                for pat, c in groups.pop(k).items():
                    pooled[pat] = pooled.get(pat, 0) + c
            okey = tuple(OTHER for _ in by)
            if okey in groups:
                for pat, c in groups[okey].items():
                    pooled[pat] = pooled.get(pat, 0) + c
            groups[okey] = pooled
            desc = "; ".join("|".join(str(x) for x in k) for k in small)
            notes["|".join(okey)] = [f"pools {len(small)} strata with fewer than "
                                     f"{pool_below} cases: {desc}"]
            warnings.append(f"{len(small)} strata with fewer than {pool_below} cases pooled "
                            f"into '{OTHER}'.")
    tables = {}
    for key in sorted(groups, key=lambda k: tuple((x is None, str(x)) for x in k)):
        g = groups[key]
        src = "persons" + ("[" + ", ".join(f"{c}={v}" for c, v in zip(
            by, key, strict=True)) + "]" if by else "")
        tables[key] = CaptureTable.from_patterns(lists, list(g), list(g.values()), src)
    return StratifiedTables(list(by), tables, lists, notes, warnings)
