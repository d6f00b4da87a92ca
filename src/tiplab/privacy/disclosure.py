"""Statistical disclosure control for count tables: small-cell and secondary suppression.

Rule (the platform default, configurable): a published count ``0 < n < threshold`` is
suppressed (*primary* suppression; zeros are published because they reveal no person). Then
*secondary* (complementary) suppression hides further cells so that no suppressed value can be
recovered exactly by subtraction from the published margins:

- 1-D table with a published total: a line with suppressed cells must hold at least two of
  them; otherwise the smallest positive unsuppressed cell is suppressed too (or, when there is
  none, the total itself).
- 2-D table with row, column and grand totals: the table and its margins form an
  ``(R+1) x (C+1)`` array in which every row and column is one linear constraint. Suppressed
  cells are edges of a bipartite row/column graph; a cell is recoverable from the margins
  exactly when its edge is a *bridge* of that graph (or is alone in its line). The algorithm
  repeats two steps until neither changes anything: (1) every line holding exactly one
  suppressed cell gets its smallest positive unsuppressed cell suppressed; (2) every bridge
  gets a cell suppressed that closes a cycle through it. Complementary cells are chosen among
  positive cells (smallest first), so every suppressed cell lies on a cycle of positive cells
  and its feasible range has positive width.

This is the classic hypercube-free heuristic for 2-D tables; it protects against exact
recovery, not against narrow intervals (an attacker still learns ``0 <= x <= sum``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from tiplab.errors import TiplabError

DEFAULT_THRESHOLD = 5


class DisclosureError(TiplabError):
    """A table cannot be protected as asked (bad shape, negative counts)."""


@dataclass(frozen=True)
class DisclosureRule:
    """The suppression rule applied to a published table."""

    threshold: int = DEFAULT_THRESHOLD
    suppress_zeros: bool = False
    secondary: bool = True

    def describe(self) -> str:
        zero = "0 and " if self.suppress_zeros else ""
        sec = ("; secondary suppression so that no suppressed cell can be recovered from "
               "published totals") if self.secondary else ""
        return f"counts {zero}1-{self.threshold - 1} suppressed{sec}"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "description": self.describe()}


@dataclass(frozen=True)
class Protection:
    """What was done to a table: the rule and how many cells were hidden."""

    rule: DisclosureRule
    primary: int
    secondary: int
    margins_suppressed: int = 0

    @property
    def protected(self) -> bool:
        return True

    def to_dict(self) -> dict[str, object]:
        return {"protected": True, "rule": self.rule.to_dict(), "primary": self.primary,
                "secondary": self.secondary, "margins_suppressed": self.margins_suppressed}


BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def primary_mask(values: npt.ArrayLike, rule: DisclosureRule) -> BoolArray:
    v = np.asarray(values, dtype=np.int64)
    if (v < 0).any():
        raise DisclosureError("counts must be non-negative to be protected")
    low = 0 if rule.suppress_zeros else 1
    return (v >= low) & (v < rule.threshold)


def suppress_1d(values: npt.ArrayLike, rule: DisclosureRule | None = None
                ) -> tuple[BoolArray, bool, Protection]:
    """Suppression mask for a 1-D table whose total is published.

    Returns ``(mask, total_suppressed, protection)``.
    """
    rule = rule or DisclosureRule()
    v = np.asarray(values, dtype=np.int64)
    mask = primary_mask(v, rule)
    n_primary = int(mask.sum())
    total_suppressed = False
    if rule.secondary and mask.sum() == 1:
        cand = np.where(~mask & (v > 0))[0]
        if cand.size:
            mask[cand[np.argmin(v[cand])]] = True
        else:
            total_suppressed = True
    prot = Protection(rule=rule, primary=n_primary, secondary=int(mask.sum()) - n_primary,
                      margins_suppressed=int(total_suppressed))
    return mask, total_suppressed, prot


def suppress_2d(table: npt.ArrayLike, rule: DisclosureRule | None = None
                ) -> tuple[BoolArray, Protection]:
    """Suppression mask for a 2-D table published with row, column and grand totals.

    Returns ``(mask, protection)`` where ``mask`` has shape ``(R+1, C+1)``: the inner cells,
    then the row totals (last column), column totals (last row) and the grand total.
    """
    rule = rule or DisclosureRule()
    inner = np.asarray(table, dtype=np.int64)
    if inner.ndim != 2:
        raise DisclosureError(f"suppress_2d needs a 2-D table, got {inner.ndim} dimensions")
    r, c = inner.shape
    ext = np.zeros((r + 1, c + 1), dtype=np.int64)
    ext[:r, :c] = inner
    ext[:r, c] = inner.sum(axis=1)
    ext[r, :c] = inner.sum(axis=0)
    ext[r, c] = inner.sum()
    mask = np.zeros_like(ext, dtype=bool)
    mask[:r, :c] = primary_mask(inner, rule)
    n_primary = int(mask.sum())
    if rule.secondary and n_primary:
        _complete_2d(ext, mask, r, c)
    n_sec = int(mask[:r, :c].sum()) - n_primary
    n_marg = int(mask.sum() - mask[:r, :c].sum())
    return mask, Protection(rule=rule, primary=n_primary, secondary=n_sec,
                            margins_suppressed=n_marg)


def _line_cost(ext: IntArray, mask: BoolArray, r: int, c: int, axis: int, line: int
               ) -> npt.NDArray[np.float64]:
    """Cost of suppressing each cell of one row (``axis`` 0) or column (1): its value; zeros
    never; margins only as a last resort (they carry +1e12)."""
    values = ext[line, :] if axis == 0 else ext[:, line]
    taken = mask[line, :] if axis == 0 else mask[:, line]
    cost = values.astype(np.float64)
    cost[values == 0] = np.inf
    if line == (r if axis == 0 else c):
        cost += 1e12
    cost[-1] += 1e12
    cost[taken] = np.inf
    return cost


def _complete_2d(ext: IntArray, mask: BoolArray, r: int, c: int) -> None:
    for _ in range(4 * ext.size):
        changed = _fix_lines(ext, mask, r, c)
        if not changed:
            changed = _fix_bridges(ext, mask, r, c)
        if not changed:
            return
    raise DisclosureError("secondary suppression did not converge")  # pragma: no cover


def _fix_lines(ext: IntArray, mask: BoolArray, r: int, c: int) -> bool:
    changed = False
    for axis in (0, 1):
        counts = mask.sum(axis=1 - axis)
        for line in np.where(counts == 1)[0]:
            row = _line_cost(ext, mask, r, c, axis, int(line))
            if not np.isfinite(row).any():
                row = np.where(mask[line, :] if axis == 0 else mask[:, line], np.inf, 1.0)
            j = int(np.argmin(row))
            if axis == 0:
                mask[line, j] = True
            else:
                mask[j, line] = True
            changed = True
    return changed


def _bridges(ends_a: list[int], ends_b: list[int], n: int) -> list[bool]:
    """Which edges of an undirected simple graph are bridges (Tarjan 1974; iterative DFS,
    linear in nodes + edges)."""
    adj: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for k, (a, b) in enumerate(zip(ends_a, ends_b, strict=True)):
        adj[a].append((b, k))
        adj[b].append((a, k))
    disc = [-1] * n
    low = [0] * n
    bridge = [False] * len(ends_a)
    clock = 0
    for root in range(n):
        if disc[root] >= 0 or not adj[root]:
            continue
        disc[root] = low[root] = clock
        clock += 1
        stack = [(root, -1, iter(adj[root]))]
        while stack:
            u, via, it = stack[-1]
            for v, k in it:
                if k == via:
                    continue
                if disc[v] < 0:
                    disc[v] = low[v] = clock
                    clock += 1
                    stack.append((v, k, iter(adj[v])))
                    break
                low[u] = min(low[u], disc[v])
            else:
                stack.pop()
                if stack:
                    p = stack[-1][0]
                    low[p] = min(low[p], low[u])
                    if low[u] > disc[p]:
                        bridge[via] = True
    return bridge


def _components(rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64], n_rows: int,
                n_cols: int) -> npt.NDArray[np.int32]:
    """Connected components of the bipartite graph (rows 0..R, columns R+1..)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = n_rows + n_cols
    g = coo_matrix((np.ones(rows.size), (rows, n_rows + cols)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    return np.asarray(labels, dtype=np.int32)


def _fix_bridges(ext: IntArray, mask: BoolArray, r: int, c: int) -> bool:
    """Close a cycle through the first bridge (in row-major order) of the suppressed-cell
    graph: add the cheapest cell joining a row on the column's side to a column on the row's
    side."""
    n_rows, n_cols = ext.shape
    rows, cols = np.where(mask)
    bridge = _bridges(rows.tolist(), (n_rows + cols).tolist(), n_rows + n_cols)
    if not any(bridge):
        return False
    k = bridge.index(True)
    i, j = int(rows[k]), int(cols[k])
    keep = np.arange(rows.size) != k
    comp = _components(rows[keep], cols[keep], n_rows, n_cols)
    rows_b = np.where(comp[:n_rows] == comp[n_rows + j])[0]
    cols_a = np.where(comp[n_rows:] == comp[i])[0]
    cost = ext[np.ix_(rows_b, cols_a)].astype(np.float64)
    cost[cost == 0] = np.inf
    cost[rows_b == r, :] += 1e12
    cost[:, cols_a == c] += 1e12
    sub_mask = mask[np.ix_(rows_b, cols_a)]
    cost[sub_mask] = np.inf
    if not np.isfinite(cost).any():
        cost = np.where(sub_mask, np.inf, 1.0)
    a, b = np.unravel_index(int(np.argmin(cost)), cost.shape)
    mask[rows_b[a], cols_a[b]] = True
    return True
