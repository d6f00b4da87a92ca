"""Clustering scored pairs into persons: average linkage inside connected components, with
cluster-level constraints and review decisions.

Taking the connected components of the pairs above one threshold chains weak links: A~B at
0.8 and B~C at 0.8 put A and C together even when the model scored A~C at 0.01 (two people
who each resemble a third record). On the simulated country at 200k victims that made
clusters of up to 16 records where no person has more than 7, and one linked pair in ten
wrong. So, inside each connected component:

1. every pair of records is scored (the linkage scores the pairs no blocking rule produced,
   see :func:`tiplab.linkage.link.complete_pairs`), so the component is a complete graph;
2. groups are merged by **average linkage**: start from single records and repeatedly join
   the two groups whose pairs between them have the highest *mean* match probability, while
   that mean reaches the threshold t. A merge creates |A|·|B| linked pairs; the mean is the
   model's expected share of true matches among them, so a merge happens only when most of
   the pairs it creates are likely matches. A bridge (one strong pair between two groups whose
   other pairs are weak) is cut. Two records alone (a component of two) are linked exactly
   when their pair reaches t, as before;
3. **constraints**: a *cannot-link* pair (two records of the same agency with different
   document numbers or incompatible full birth dates, or a reviewer's "non-match") can never
   end in one cluster, unless the pair's own probability reaches
   :data:`CONSTRAINT_OVERRIDE` (the constraint is already priced into that probability, so
   reaching it takes agreement on nearly everything else) or a reviewer said "match";
4. a reviewer's "match" joins the two records first (distance 0), whatever their score.

Average linkage is monotone and *reducible*: the clusters at a cut do not depend on the
order of merges, and records in different components at t are never merged at t (every pair
between them is below t). So one dendrogram per component at the lowest threshold of
interest gives the clusters at every higher threshold (:class:`Hierarchy.cut`) — the
threshold chooser evaluates every grid value on the real clustering, at the cost of one
connected-components pass each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: A pair whose own match probability reaches this stays linkable despite a constraint.
CONSTRAINT_OVERRIDE = 0.99
#: Probability assumed for a pair inside a component that was never scored (only when pairs
#: were not completed, e.g. a reviewer's "match" joined two components after the run): no
#: evidence either way.
UNSCORED_P = 0.5
#: Largest component clustered as one: a larger one (a common name chained at a low
#: threshold) is first cut at stepwise higher thresholds until no piece exceeds it.
MAX_COMPONENT = 100
#: Distance of a cannot-link pair: so large that no average including it reaches a cut.
_FORBIDDEN = 1e9


@dataclass(frozen=True)
class Conflict:
    """A review decision the clustering could not honour."""

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


def _key(a: IntArray, b: IntArray, n: int) -> IntArray:
    lo = np.minimum(a, b).astype(np.int64)
    hi = np.maximum(a, b).astype(np.int64)
    out: IntArray = lo * np.int64(n) + hi
    return out


def _empty() -> IntArray:
    return np.zeros(0, np.int64)


@dataclass
class _Pairs:
    """Pairs merged with the decisions: one row per pair, forced rows last-wins."""

    left: IntArray
    right: IntArray
    prob: FloatArray
    cannot: BoolArray
    forced: BoolArray


def _merge_decisions(
    n: int,
    left: IntArray,
    right: IntArray,
    prob: FloatArray,
    cannot: BoolArray,
    forced_match: tuple[IntArray, IntArray],
    forced_nonmatch: tuple[IntArray, IntArray],
) -> _Pairs:
    fm_l, fm_r = (np.asarray(x, np.int64) for x in forced_match)
    fn_l, fn_r = (np.asarray(x, np.int64) for x in forced_nonmatch)
    keys = _key(left, right, n)
    # a pair may appear twice (e.g. scored again); keep its first row
    keys, first = np.unique(keys, return_index=True)
    left, right, prob, cannot = left[first], right[first], prob[first], cannot[first]
    forced = np.zeros(len(keys), bool)
    for dl, dr, is_match in ((fm_l, fm_r, True), (fn_l, fn_r, False)):
        if not len(dl):
            continue
        dk = _key(dl, dr, n)
        hit = np.isin(keys, dk)
        if is_match:
            prob = np.where(hit, 1.0, prob)
            cannot = np.where(hit, False, cannot)
            forced = forced | hit
        else:
            cannot = cannot | hit
            forced = forced & ~hit
        new = ~np.isin(dk, keys)
        if new.any():
            nk = np.unique(dk[new])
            keys = np.concatenate([keys, nk])
            left = np.concatenate([left, nk // n])
            right = np.concatenate([right, nk % n])
            prob = np.concatenate([prob, np.full(len(nk), 1.0 if is_match else 0.0)])
            cannot = np.concatenate([cannot, np.full(len(nk), not is_match)])
            forced = np.concatenate([forced, np.full(len(nk), is_match)])
    return _Pairs(left, right, prob.astype(np.float64), cannot.astype(bool), forced)


def _capped_components(n: int, p: _Pairs, threshold: float, max_size: int) -> IntArray:
    """Components of the linkable pairs at ``threshold`` (and forced matches); a component
    larger than ``max_size`` is cut at stepwise higher thresholds until no piece is."""
    edge = ((p.prob >= threshold) & ~p.cannot) | p.forced
    labels = components(n, p.left[edge], p.right[edge])
    if n == 0:
        return labels
    sizes = np.bincount(labels)
    big = np.flatnonzero(sizes > max_size)
    nxt = int(labels.max()) + 1
    for comp in big.tolist():
        nodes = np.flatnonzero(labels == comp)
        inside = edge & np.isin(p.left, nodes) & np.isin(p.right, nodes)
        local = np.full(n, -1, np.int64)
        local[nodes] = np.arange(len(nodes))
        ll, lr, lp, lf = local[p.left[inside]], local[p.right[inside]], p.prob[inside], p.forced[
            inside]
        sub = np.zeros(len(nodes), np.int64)
        for step in (0.5, 0.8, 0.9, 0.99, 0.999, 0.9999, 1.0):
            t2 = threshold + (1.0 - threshold) * step
            keep = (lp >= t2) | lf
            sub = components(len(nodes), ll[keep], lr[keep])
            if np.bincount(sub).max() <= max_size:
                break
        labels[nodes] = nxt + sub
        nxt += int(sub.max()) + 1
    _, labels = np.unique(labels, return_inverse=True)
    out: IntArray = labels.astype(np.int64)
    return out


class Hierarchy:
    """Average-linkage dendrograms of every component at ``base`` threshold, as merge edges.

    Each merge of the dendrogram is kept as an edge between one record of each merged group,
    with the merge height (1 − the mean probability between the groups). The clusters at a
    threshold t ≥ base are the connected components of the merge edges with height ≤ 1 − t.
    """

    def __init__(
        self,
        n: int,
        left: npt.ArrayLike,
        right: npt.ArrayLike,
        prob: npt.ArrayLike,
        base: float,
        *,
        cannot: npt.ArrayLike | None = None,
        forced_match: tuple[IntArray, IntArray] | None = None,
        forced_nonmatch: tuple[IntArray, IntArray] | None = None,
        max_size: int = MAX_COMPONENT,
        method: str = "average",
    ) -> None:
        if method not in ("average", "single"):
            raise ValueError(f"unknown clustering method {method!r}; use average or single")
        self.method = method
        self.n = n
        self.base = float(base)
        l_ = np.asarray(left, dtype=np.int64)
        r_ = np.asarray(right, dtype=np.int64)
        p_ = np.asarray(prob, dtype=np.float64)
        c_ = (
            np.zeros(len(l_), bool)
            if cannot is None
            else np.asarray(cannot, dtype=bool)
        )
        # a constraint gives way to overwhelming evidence on the pair itself
        c_ = c_ & (p_ < CONSTRAINT_OVERRIDE)
        self.pairs = _merge_decisions(
            n, l_, r_, p_, c_,
            forced_match if forced_match is not None else (_empty(), _empty()),
            forced_nonmatch if forced_nonmatch is not None else (_empty(), _empty()),
        )
        self.base_labels = _capped_components(n, self.pairs, self.base, max_size)
        self._build()

    def _build(self) -> None:
        n, p, lab = self.n, self.pairs, self.base_labels
        sizes = np.bincount(lab, minlength=1) if n else np.zeros(0, np.int64)
        inside = lab[p.left] == lab[p.right] if n else np.zeros(0, bool)
        comp_of_pair = lab[p.left[inside]]
        csize = sizes[comp_of_pair] if len(comp_of_pair) else np.zeros(0, np.int64)
        il, ir = p.left[inside], p.right[inside]
        ip, ic, iforced = p.prob[inside], p.cannot[inside], p.forced[inside]
        # components of two: the one pair decides (height 1 - p, never if cannot)
        two = csize == 2
        h_two = np.where(ic[two], np.inf, 1.0 - ip[two])
        h_two = np.where(iforced[two], 0.0, h_two)
        m_l = [il[two]]
        m_r = [ir[two]]
        m_h = [h_two]
        # components of three or more: average linkage on the complete distance matrix
        big_comps = np.flatnonzero(sizes >= 3)
        if len(big_comps):
            is_big = np.zeros(len(sizes), bool)
            is_big[big_comps] = True
            order = np.argsort(lab, kind="stable")
            pos = np.empty(n, np.int64)  # position of each record inside its component
            starts = np.zeros(len(sizes) + 1, np.int64)
            starts[1:] = np.cumsum(sizes)
            pos[order] = np.arange(n) - starts[lab[order]]
            k = sizes.astype(np.int64)
            clen = k * (k - 1) // 2
            coff = np.zeros(len(sizes) + 1, np.int64)
            coff[1:] = np.cumsum(np.where(is_big, clen, 0))
            dist = np.full(int(coff[-1]), 1.0 - UNSCORED_P)
            sel = is_big[comp_of_pair]
            bl, br = il[sel], ir[sel]
            i = np.minimum(pos[bl], pos[br])
            j = np.maximum(pos[bl], pos[br])
            kk = k[lab[bl]]
            idx = coff[lab[bl]] + kk * i - i * (i + 1) // 2 + (j - i - 1)
            d = 1.0 - ip[sel]
            d = np.where(ic[sel], _FORBIDDEN, d)
            d = np.where(iforced[sel], 0.0, d)
            dist[idx] = d
            members = order
            ml, mr, mh = [], [], []
            for c in big_comps.tolist():
                kc = int(k[c])
                z = linkage(dist[coff[c] : coff[c + 1]], method=self.method)
                nodes = members[starts[c]:starts[c] + kc]
                rep = np.empty(2 * kc - 1, np.int64)
                rep[:kc] = nodes
                a = z[:, 0].astype(np.int64)
                b = z[:, 1].astype(np.int64)
                for row in range(kc - 1):
                    rep[kc + row] = rep[a[row]]
                ml.append(rep[a])
                mr.append(rep[b])
                mh.append(z[:, 2])
            m_l += ml
            m_r += mr
            m_h += mh
        self.merge_l = np.concatenate(m_l) if m_l else _empty()
        self.merge_r = np.concatenate(m_r) if m_r else _empty()
        self.merge_h = np.concatenate(m_h).astype(np.float64) if m_h else np.zeros(0)

    def cut(self, threshold: float) -> IntArray:
        """Cluster labels 0..k-1 at ``threshold`` (≥ the base threshold)."""
        if threshold < self.base - 1e-12:
            raise ValueError(
                f"threshold {threshold} is below the hierarchy's base {self.base}; "
                "build the hierarchy at the lowest threshold needed"
            )
        keep = self.merge_h <= (1.0 - threshold) + 1e-9
        return components(self.n, self.merge_l[keep], self.merge_r[keep])

    def conflicts(self, labels: IntArray) -> list[Conflict]:
        """Reviewer's matches the clustering could not honour (a chain of decisions that
        contradicts itself)."""
        p = self.pairs
        broken = p.forced & (labels[p.left] != labels[p.right])
        return [
            Conflict(
                int(a),
                int(b),
                "a reviewer's match contradicts a reviewer's non-match or a constraint "
                "in the same cluster; review the decisions",
            )
            for a, b in zip(p.left[broken].tolist(), p.right[broken].tolist(), strict=True)
        ]


def cluster_pairs(
    n: int,
    left: IntArray,
    right: IntArray,
    prob: npt.NDArray[np.float64],
    threshold: float,
    forced_match: tuple[IntArray, IntArray] | None = None,
    forced_nonmatch: tuple[IntArray, IntArray] | None = None,
    cannot: npt.ArrayLike | None = None,
    method: str = "average",
) -> tuple[IntArray, list[Conflict]]:
    """Labels for records 0..n-1 from pairs (left, right, prob) at ``threshold``.

    ``method="single"`` gives the connected components of the linkable pairs at the
    threshold (single linkage on a complete component is exactly that)."""
    h = Hierarchy(
        n, left, right, prob, threshold, cannot=cannot,
        forced_match=forced_match, forced_nonmatch=forced_nonmatch, method=method,
    )
    labels = h.cut(threshold)
    return labels, h.conflicts(labels)
