"""The completed capture table: one count per observable capture pattern."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tiplab.estimation.errors import EstimationError
from tiplab.estimation.terms import (
    IntArray,
    contains,
    ordered_patterns,
    pattern_matrix,
)

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CaptureTable:
    """Counts of cases by capture pattern over ``t`` lists (agencies).

    The table is always *completed*: every one of the ``2**t - 1`` observable patterns is
    present (missing ones with count 0), duplicate patterns are summed and the all-zero
    pattern is dropped. Rows are in SparseMSE order (see :func:`ordered_patterns`).

    Attributes
    ----------
    names : tuple of str
        List names, in column order (list ``i`` is bit ``i`` of a pattern).
    patterns : ndarray of int64
        Pattern bit masks, one per row.
    counts : ndarray of float64
        Number of cases with exactly that pattern (non-negative integers).
    source : str
        Where the table came from (file path or description), for provenance.
    """

    names: tuple[str, ...]
    patterns: IntArray
    counts: FloatArray
    source: str = ""
    notes: tuple[str, ...] = field(default=())

    # ----------------------------------------------------------------- construction
    @classmethod
    def from_patterns(
        cls,
        names: Sequence[str],
        patterns: Iterable[int],
        counts: Iterable[float],
        source: str = "",
        notes: Sequence[str] = (),
    ) -> CaptureTable:
        """Complete a table from (pattern bit mask, count) pairs."""
        names = tuple(str(n) for n in names)
        t = len(names)
        if t < 2:
            raise EstimationError(
                f"{source or 'table'}: needs at least 2 lists, got {t}; MSE compares lists.")
        if t > 20:
            raise EstimationError(f"{source or 'table'}: {t} lists is too many (max 20).")
        if len(set(names)) != t:
            raise EstimationError(f"{source or 'table'}: duplicate list names {names}.")
        pats = np.asarray(list(patterns), dtype=np.int64)
        cnts = np.asarray(list(counts), dtype=np.float64)
        if pats.shape != cnts.shape:
            raise EstimationError("patterns and counts must have the same length.")
        if np.any(cnts < 0) or np.any(np.floor(cnts) != cnts):
            raise EstimationError(
                f"{source or 'table'}: counts must be non-negative integers.")
        if np.any(pats < 0) or np.any(pats >= (1 << t)):
            raise EstimationError(f"{source or 'table'}: pattern out of range for {t} lists.")
        full = ordered_patterns(t)
        pos = np.zeros(1 << t, dtype=np.int64)
        pos[full] = np.arange(full.size)
        out = np.zeros(full.size, dtype=np.float64)
        keep = pats > 0
        np.add.at(out, pos[pats[keep]], cnts[keep])
        return cls(names, full, out, source, tuple(notes))

    @classmethod
    def from_matrix(
        cls,
        names: Sequence[str],
        matrix: npt.ArrayLike,
        counts: npt.ArrayLike,
        source: str = "",
    ) -> CaptureTable:
        """From a 0/1 matrix (rows x lists) and a count per row."""
        m = np.asarray(matrix, dtype=np.int64)
        if m.ndim != 2 or m.shape[1] != len(names):
            raise EstimationError(
                f"{source or 'table'}: the 0/1 matrix must have one column per list.")
        if np.any((m != 0) & (m != 1)):
            raise EstimationError(f"{source or 'table'}: list columns must hold only 0 or 1.")
        pats = (m << np.arange(m.shape[1])[None, :]).sum(axis=1)
        return cls.from_patterns(names, pats, np.asarray(counts, dtype=np.float64), source)

    @classmethod
    def from_csv(cls, path: str | Path, count_column: str = "count") -> CaptureTable:
        """Read a pattern-count CSV: one 0/1 column per list, then a ``count`` column."""
        p = Path(path)
        try:
            with p.open(newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.reader(fh))
        except OSError as exc:
            raise EstimationError(f"{p}: cannot read ({exc}).") from exc
        except UnicodeDecodeError as exc:
            raise EstimationError(
                f"{p}: not UTF-8 text (byte {exc.start} cannot be read): save the table as "
                "CSV UTF-8.") from exc
        except csv.Error as exc:
            raise EstimationError(f"{p}: not a CSV table ({exc}).") from exc
        if not rows:
            raise EstimationError(f"{p}: the file is empty.")
        header = [h.strip() for h in rows[0]]
        if count_column not in header:
            raise EstimationError(
                f"{p}: no '{count_column}' column; a pattern-count table has one 0/1 column "
                "per list and a count column.")
        ci = header.index(count_column)
        names = [h for i, h in enumerate(header) if i != ci]
        mat, cnt = [], []
        for line_no, row in enumerate(rows[1:], start=2):
            if not row or all(not c.strip() for c in row):
                continue
            if len(row) != len(header):
                raise EstimationError(
                    f"{p}, line {line_no}: {len(row)} fields, expected {len(header)}.")
            try:
                vals = [int(float(c)) for c in row]
            except ValueError as exc:
                raise EstimationError(f"{p}, line {line_no}: non-numeric value ({exc}).") from exc
            if any(v not in (0, 1) for i, v in enumerate(vals) if i != ci):
                raise EstimationError(
                    f"{p}, line {line_no}: list columns must be 0 or 1.")
            if vals[ci] < 0:
                raise EstimationError(f"{p}, line {line_no}: negative count.")
            mat.append([v for i, v in enumerate(vals) if i != ci])
            cnt.append(vals[ci])
        if not mat:
            raise EstimationError(f"{p}: no data rows.")
        return cls.from_matrix(names, np.asarray(mat), np.asarray(cnt), source=str(p))

    @classmethod
    def from_person_table(
        cls,
        table: Any,
        by: Sequence[str] = (),
        **kwargs: Any,
    ) -> Any:
        """Capture tables per stratum from a linked person table.

        See :func:`tiplab.estimation.person.capture_tables_from_persons`; returns a
        :class:`~tiplab.estimation.person.StratifiedTables`.
        """
        from tiplab.estimation.person import capture_tables_from_persons

        return capture_tables_from_persons(table, by=by, **kwargs)

    # ------------------------------------------------------------------- properties
    @property
    def t(self) -> int:
        """Number of lists."""
        return len(self.names)

    @property
    def n(self) -> int:
        """Number of distinct cases observed (on at least one list)."""
        return int(self.counts.sum())

    @property
    def matrix(self) -> npt.NDArray[np.int8]:
        """0/1 matrix of the patterns (cells x lists)."""
        return pattern_matrix(self.patterns, self.t)

    def nstar(self, terms: Sequence[int] | IntArray) -> FloatArray:
        """``N*_θ``: number of cases on all lists of each term θ."""
        return contains(self.patterns, terms).T.astype(np.float64) @ self.counts

    def list_sizes(self) -> dict[str, int]:
        """Number of cases on each list."""
        sizes = self.nstar([1 << i for i in range(self.t)])
        return {nm: int(v) for nm, v in zip(self.names, sizes, strict=True)}

    def overlaps(self) -> dict[tuple[str, str], int]:
        """Observed overlap ``N*_ij`` for every pair of lists."""
        out = {}
        for i in range(self.t):
            for j in range(i + 1, self.t):
                out[(self.names[i], self.names[j])] = int(
                    self.nstar([(1 << i) | (1 << j)])[0])
        return out

    def non_overlapping_pairs(self) -> list[tuple[str, str]]:
        """Pairs of lists with no case in common."""
        return [k for k, v in self.overlaps().items() if v == 0]

    def with_counts(self, counts: FloatArray) -> CaptureTable:
        """Same patterns, new counts (used by bootstrap and jackknife)."""
        return CaptureTable(self.names, self.patterns, counts, self.source, self.notes)

    def fingerprint(self) -> str:
        """Short hash of names and counts (the data version recorded in results)."""
        h = hashlib.sha256()
        h.update("|".join(self.names).encode())
        h.update(self.counts.astype(np.int64).tobytes())
        return h.hexdigest()[:16]

    # ------------------------------------------------------------------ list editing
    def merge_lists(self, group: Sequence[str], name: str | None = None) -> CaptureTable:
        """Merge lists: a case is on the merged list if it is on any of them.

        The merged list takes the position of the first merged list; duplicate patterns
        are summed (modslavmse ``mergelists``).
        """
        idx = [self._index(g) for g in group]
        if len(idx) < 2:
            raise EstimationError("merge needs at least two lists, e.g. --merge-lists A+B.")
        new_name = name or "".join(self.names[i] for i in idx)
        keep = [i for i in range(self.t) if i not in idx[1:]]
        m = self.matrix.astype(np.int64)
        merged = m[:, idx].max(axis=1)
        first = idx[0]
        cols = []
        for i in keep:
            cols.append(merged if i == first else m[:, i])
        names = [new_name if i == first else self.names[i] for i in keep]
        return CaptureTable.from_matrix(
            names, np.column_stack(cols), self.counts, self.source
        )._with_note(f"merged lists {'+'.join(self.names[i] for i in idx)} -> {new_name}")

    def omit_lists(self, omit: Sequence[str]) -> CaptureTable:
        """Drop lists; cases seen only on dropped lists disappear (modslavmse ``omitlists``)."""
        idx = {self._index(o) for o in omit}
        keep = [i for i in range(self.t) if i not in idx]
        if len(keep) < 2:
            raise EstimationError("omitting those lists leaves fewer than 2 lists.")
        m = self.matrix[:, keep]
        return CaptureTable.from_matrix(
            [self.names[i] for i in keep], m, self.counts, self.source
        )._with_note(f"omitted lists {', '.join(self.names[i] for i in sorted(idx))}")

    def remove_noninformative_lists(self) -> tuple[CaptureTable, list[str]]:
        """Drop lists with no cases, lists holding every case, and duplicated lists.

        Returns the new table and a note per list dropped (SparseMSE
        ``removenoninformativelists``).
        """
        m = self.matrix.astype(np.int64)
        pos = self.counts > 0
        dropped: list[str] = []
        keep: list[int] = []
        seen: dict[bytes, str] = {}
        for i, nm in enumerate(self.names):
            col = m[pos, i]
            if col.sum() == 0:
                dropped.append(f"{nm}: no cases")
                continue
            if col.min() == 1:
                dropped.append(f"{nm}: contains every observed case")
                continue
            key = col.astype(np.int8).tobytes()
            if key in seen:
                dropped.append(f"{nm}: same cases as {seen[key]}")
                continue
            seen[key] = nm
            keep.append(i)
        if not dropped:
            return self, []
        if len(keep) < 2:
            raise EstimationError(
                f"{self.source or 'table'}: fewer than 2 informative lists remain "
                f"({'; '.join(dropped)}); MSE needs at least two overlapping lists.")
        return self.omit_lists([self.names[i] for i in range(self.t) if i not in keep]), dropped

    def _index(self, name: str) -> int:
        if name in self.names:
            return self.names.index(name)
        if name.isdigit() and 1 <= int(name) <= self.t:
            return int(name) - 1
        raise EstimationError(
            f"unknown list {name!r}; lists are {', '.join(self.names)}.")

    def _with_note(self, note: str) -> CaptureTable:
        return CaptureTable(self.names, self.patterns, self.counts, self.source,
                            (*self.notes, note))

    # --------------------------------------------------------------------- output
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form: names and one row per pattern."""
        m = self.matrix
        return {
            "lists": list(self.names),
            "n": self.n,
            "rows": [
                {"pattern": [int(v) for v in m[r]], "count": int(self.counts[r])}
                for r in range(len(self.counts))
            ],
            "source": self.source,
            "notes": list(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaptureTable:
        """Inverse of :meth:`to_dict`."""
        rows = data["rows"]
        return cls.from_matrix(
            data["lists"], [r["pattern"] for r in rows], [r["count"] for r in rows],
            source=str(data.get("source", "")))

    def to_frame(self) -> Any:
        """pandas DataFrame with one 0/1 column per list and ``count``."""
        import pandas as pd

        df = pd.DataFrame(self.matrix, columns=list(self.names))
        df["count"] = self.counts.astype(np.int64)
        return df

    def __repr__(self) -> str:
        return (f"CaptureTable(lists={list(self.names)}, n={self.n}, "
                f"nonzero_patterns={int((self.counts > 0).sum())}/{len(self.counts)})")


