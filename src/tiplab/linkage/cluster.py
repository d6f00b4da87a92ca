"""Clustering scored pairs into persons: connected components with review decisions.

Forced matches are edges whatever their score; forced non-matches are removed before
clustering. If two records decided "non-match" still fall in one cluster (linked through
others), that cluster alone is re-clustered at stepwise higher thresholds until they part;
if a chain of forced matches keeps them together, the conflict is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Conflict:
    """A forced non-match that could not be separated."""

    uid_l: int
    uid_r: int
    reason: str


def components(n: int, left: IntArray, right: IntArray) -> IntArray:
    """Connected-component label of each node 0..n-1 (vectorised, scipy)."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    g = coo_matrix((np.ones(len(left), dtype=np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(g, directed=False)
    out: IntArray = np.asarray(labels, dtype=np.int64)
    return out


def cluster_pairs(
    n: int,
    left: IntArray,
    right: IntArray,
    prob: npt.NDArray[np.float64],
    threshold: float,
    forced_match: tuple[IntArray, IntArray] | None = None,
    forced_nonmatch: tuple[IntArray, IntArray] | None = None,
) -> tuple[IntArray, list[Conflict]]:
    """Labels for records 0..n-1 from pairs (left, right, prob) at ``threshold``."""
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    prob = np.asarray(prob, dtype=np.float64)
    fm_l, fm_r = forced_match if forced_match is not None else (np.zeros(0, np.int64),) * 2
    fn_l, fn_r = forced_nonmatch if forced_nonmatch is not None else (np.zeros(0, np.int64),) * 2
    if len(fn_l):
        lo = np.minimum(left, right) * n + np.maximum(left, right)
        cut = np.minimum(fn_l, fn_r) * n + np.maximum(fn_l, fn_r)
        keep = ~np.isin(lo, cut)
        left, right, prob = left[keep], right[keep], prob[keep]
    # forced matches enter with probability 1
    e_l = np.concatenate([left, fm_l])
    e_r = np.concatenate([right, fm_r])
    e_p = np.concatenate([prob, np.ones(len(fm_l))])
    sel = e_p >= threshold
    labels = components(n, e_l[sel], e_r[sel])
    conflicts: list[Conflict] = []
    if not len(fn_l):
        return labels, conflicts
    for a, b in zip(fn_l.tolist(), fn_r.tolist(), strict=True):
        if labels[a] != labels[b]:
            continue
        comp = labels[a]
        nodes = np.flatnonzero(labels == comp)
        in_comp = np.isin(e_l, nodes) & np.isin(e_r, nodes)
        cl, cr, cp = e_l[in_comp], e_r[in_comp], e_p[in_comp]
        local = {int(v): i for i, v in enumerate(nodes.tolist())}
        ll = np.array([local[int(v)] for v in cl], dtype=np.int64)
        lr = np.array([local[int(v)] for v in cr], dtype=np.int64)
        separated = False
        for step in (0.5, 0.9, 0.99, 0.999, 0.9999):
            t2 = threshold + (1.0 - threshold) * step
            s2 = cp >= t2
            sub = components(len(nodes), ll[s2], lr[s2])
            if sub[local[a]] != sub[local[b]]:
                base = labels.max() + 1
                labels[nodes] = base + sub
                separated = True
                break
        if not separated:
            conflicts.append(
                Conflict(
                    a,
                    b,
                    "linked by forced matches (or certain links) "
                    "even at threshold 0.9999; review the decisions",
                )
            )
    # compact labels to 0..k-1
    _, labels = np.unique(labels, return_inverse=True)
    return labels.astype(np.int64), conflicts
