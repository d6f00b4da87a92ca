"""Disclosure control: no suppressed cell can be recovered from the published margins.

Recoverability is checked independently of the algorithm by linear programming: for each
suppressed cell, minimise and maximise it subject to every published cell, row total, column
total and the grand total (and non-negativity). The cell is protected when max - min > 0.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from scipy.optimize import linprog

from tiplab.privacy import DisclosureRule, protect_counts, suppress_1d, suppress_2d


def _feasible_ranges(inner: np.ndarray, mask: np.ndarray) -> list[tuple[float, float]]:
    r, c = inner.shape
    ext = np.zeros((r + 1, c + 1))
    ext[:r, :c] = inner
    ext[:r, c] = inner.sum(1)
    ext[r, :c] = inner.sum(0)
    ext[r, c] = inner.sum()
    unknown = list(zip(*np.where(mask), strict=True))
    pos = {cell: k for k, cell in enumerate(unknown)}
    a_eq, b_eq = [], []
    # Row i: sum_j x_ij - x_i+ = 0 ; column j likewise; margins: sums of margins = grand total.
    lines = [[(i, j, 1.0) for j in range(c)] + [(i, c, -1.0)] for i in range(r + 1)]
    lines += [[(i, j, 1.0) for i in range(r)] + [(r, j, -1.0)] for j in range(c + 1)]
    for line in lines:
        row = np.zeros(len(unknown))
        rhs = 0.0
        for i, j, coef in line:
            if (i, j) in pos:
                row[pos[(i, j)]] += coef
            else:
                rhs -= coef * ext[i, j]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    out = []
    for k in range(len(unknown)):
        obj = np.zeros(len(unknown))
        obj[k] = 1.0
        lo = linprog(obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs")
        assert lo.status == 0
        assert hi.status == 0
        out.append((lo.fun, -hi.fun))
    return out


def test_2d_suppression_not_recoverable_on_seeded_tables() -> None:
    rng = np.random.default_rng(20261128)
    checked = 0
    for _ in range(150):
        r, c = rng.integers(2, 7, 2)
        inner = rng.poisson(rng.choice([3.0, 8.0, 20.0]), size=(r, c))
        mask, prot = suppress_2d(inner, DisclosureRule())
        small = (inner > 0) & (inner < 5)
        assert mask[:r, :c][small].all(), "every small cell is suppressed"
        if not mask.any():
            continue
        for lo, hi in _feasible_ranges(inner, mask):
            assert hi - lo > 0.5, f"a suppressed cell is recoverable:\n{inner}\n{mask}"
        checked += 1
        assert prot.primary == int(small.sum())
    assert checked > 60  # tables with at least one suppressed cell (88 with this seed)


def test_single_small_cell_gets_a_complement_in_row_and_column() -> None:
    inner = np.array([[20, 3, 30], [25, 40, 35], [50, 60, 45]])
    mask, prot = suppress_2d(inner)
    assert mask[0, 1]
    assert mask[0].sum() >= 2
    assert mask[:, 1].sum() >= 2
    assert prot.primary == 1
    assert prot.secondary >= 3
    for lo, hi in _feasible_ranges(inner, mask):
        assert hi > lo


def test_1d_single_small_cell_takes_smallest_positive_complement() -> None:
    mask, total_hidden, prot = suppress_1d([12, 3, 0, 7, 40])
    assert mask.tolist() == [False, True, False, True, False]
    assert not total_hidden
    assert prot.secondary == 1
    # Only one positive cell: the total has to go.
    mask, total_hidden, _ = suppress_1d([0, 2, 0])
    assert mask.tolist() == [False, True, False]
    assert total_hidden


def test_zeros_published_unless_asked() -> None:
    assert suppress_1d([0, 10, 12])[0].tolist() == [False, False, False]
    rule = DisclosureRule(suppress_zeros=True)
    assert suppress_1d([0, 10, 12], rule)[0][0]


def test_protect_counts_nulls_values_and_flags_result() -> None:
    t = pa.table({"year": [2020, 2020, 2021, 2021], "sex": ["F", "M", "F", "M"],
                  "value": [10, 2, 12, 9], "rate": [1.0, 0.2, 1.2, 0.9]})
    out, prot = protect_counts(t, "value", rows="year", cols="sex", also=["rate"])
    assert out.column("suppressed").to_pylist() == [True, True, True, True]
    assert out.column("value").null_count == 4
    assert out.column("rate").null_count == 4
    assert prot.to_dict()["protected"] is True
    assert "secondary" in prot.rule.describe()


def test_bridges_of_known_graphs() -> None:
    from tiplab.privacy.disclosure import _bridges

    # A path 0-1-2 plus a triangle 2-3-4: the two path edges are bridges, the triangle's not.
    a, b = [0, 1, 2, 3, 4], [1, 2, 3, 4, 2]
    assert _bridges(a, b, 5) == [True, True, False, False, False]
    # Two disjoint cycles and an isolated node: no bridge.
    assert not any(_bridges([0, 1, 2, 4, 5, 6], [1, 2, 0, 5, 6, 4], 8))


def test_2d_suppression_of_a_large_sparse_table_is_not_recoverable() -> None:
    """A corridor-like table (30 x 30, mostly small counts, as in the Denver coding): every
    small cell suppressed, none recoverable from the margins (checked by LP)."""
    rng = np.random.default_rng(7)
    inner = rng.poisson(0.6, size=(30, 30)) * rng.integers(1, 12, size=(30, 30))
    inner[rng.random((30, 30)) < 0.6] = 0
    mask, prot = suppress_2d(inner, DisclosureRule())
    small = (inner > 0) & (inner < 5)
    assert small.sum() > 40
    assert mask[:30, :30][small].all()
    assert prot.primary == int(small.sum())
    for lo, hi in _feasible_ranges(inner, mask):
        assert hi - lo > 0.5
