"""Choosing the match threshold: the estimated precision/recall trade-off, made visible.

Estimates come from the model's own match probabilities p over the scored pairs:

* expected true matches above t: ``E(t) = Σ_{p ≥ t} p``
* estimated precision at t: ``E(t) / #{p ≥ t}`` (the mean p of the pairs kept)
* estimated recall at t: ``E(t) / Σ_all p``

With the pair ids (``edges``), the estimate is made on the *clusters* each threshold gives,
since clustering adds transitive pairs (A~B and B~C put A and C together) and the quality
that matters is that of the persons, not of the edges:

* the pairs counted at t are all pairs inside the connected components of the edges
  with p >= t (``Σ n_k(n_k-1)/2``);
* the expected true matches among them: the model's own p for every scored pair inside a
  cluster, *including those below t* (a scored pair at 0.05 inside a cluster is the model
  saying that merge is probably wrong), and for pairs inside a cluster that were never
  scored, the weakest above-threshold edge of that cluster (a chain is no stronger than
  its weakest link);
* recall: the sum of p over the scored pairs that fall inside a cluster, over the sum of p
  over all scored pairs (both sides count scored pairs only, so it never exceeds 1).

Assumptions (state them with the numbers): the probabilities are calibrated (Fellegi-Sunter
with conditional independence tends to be over-confident, so precision is an upper bound
in practice); true matches missed by every blocking rule or scored below the storage floor
(``min_pair_probability``) are ignored, so recall is an upper bound too; these are *pairwise*
figures for the scored edges, before clustering adds transitive pairs.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tiplab.linkage.cluster import UNSCORED_P, Hierarchy, components

Edges = tuple[int, npt.ArrayLike, npt.ArrayLike]


@dataclass(frozen=True)
class ThresholdPoint:
    threshold: float
    pairs: int
    expected_matches: float
    precision: float
    recall: float
    f1: float


@dataclass
class ThresholdChoice:
    """The chosen threshold, the trade-off table it was chosen from, and why."""

    threshold: float
    chosen_by: str
    reason: str
    points: list[ThresholdPoint] = field(default_factory=list)

    def point(self) -> ThresholdPoint | None:
        for p in self.points:
            if abs(p.threshold - self.threshold) < 1e-12:
                return p
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "chosen_by": self.chosen_by,
            "reason": self.reason,
            "assumptions": ASSUMPTIONS,
            "tradeoff": [asdict(p) for p in self.points],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ThresholdChoice:
        """The inverse of :meth:`to_dict` (a stored run's threshold choice)."""
        fields = set(ThresholdPoint.__dataclass_fields__)
        return cls(threshold=float(d["threshold"]), chosen_by=str(d.get("chosen_by", "")),
                   reason=str(d.get("reason", "")),
                   points=[ThresholdPoint(**{k: v for k, v in p.items() if k in fields})
                           for p in d.get("tradeoff", [])])

    def to_json(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")

    def to_text(self) -> str:
        lines = [
            f"threshold {self.threshold:g} ({self.chosen_by}): {self.reason}",
            "  threshold   pairs   exp.matches  precision  recall   F1",
        ]
        for p in self.points:
            mark = "*" if abs(p.threshold - self.threshold) < 1e-12 else " "
            lines.append(
                f" {mark}{p.threshold:9.3f} {p.pairs:7d} {p.expected_matches:12.1f}"
                f"  {p.precision:9.3f} {p.recall:7.3f} {p.f1:6.3f}"
            )
        return "\n".join(lines)

    def chart(self, path: str | Path | None = None) -> Any:
        """An Altair chart of estimated precision and recall by threshold (PNG if path)."""
        import altair as alt
        import pandas as pd

        rows = []
        for p in self.points:
            rows.append(
                {"threshold": p.threshold, "measure": "estimated precision", "value": p.precision}
            )
            rows.append(
                {"threshold": p.threshold, "measure": "estimated recall", "value": p.recall}
            )
        df = pd.DataFrame(rows)
        lines = (
            alt.Chart(df)
            .mark_line(point=True)
            .encode(
                x=alt.X(
                    "threshold:Q", scale=alt.Scale(zero=False), title="match probability threshold"
                ),
                y=alt.Y("value:Q", scale=alt.Scale(zero=False), title="estimate"),
                color=alt.Color("measure:N", title=None),
            )
        )
        rule = (
            alt.Chart(pd.DataFrame({"threshold": [self.threshold]}))
            .mark_rule(strokeDash=[4, 4], color="black")
            .encode(x="threshold:Q")
        )
        chart = (lines + rule).properties(
            width=480, height=280, title=f"Chosen threshold {self.threshold:g} ({self.chosen_by})"
        )
        if path is not None:
            chart.save(str(path))
        return chart


ASSUMPTIONS = (
    "Estimates use the model's match probabilities as if calibrated; matches outside the "
    "blocking rules or below the stored-pair floor are not counted (recall is an upper "
    "bound); figures are pairwise over every pair inside the persons each threshold gives "
    "(all of them scored, the components having been completed; a pair a reviewer's match "
    "brought in unscored counts 0.5), each counted with the larger of its own probability "
    "and that of its most probable chain of links inside the person (links taken as "
    "independent). A labelled sample checks them without trusting the model."
)


def tradeoff(probabilities: npt.ArrayLike, grid: list[float]) -> list[ThresholdPoint]:
    """The estimated trade-off at each threshold of ``grid`` (vectorised)."""
    p = np.sort(np.asarray(probabilities, dtype=np.float64))[::-1]
    total = float(p.sum())
    csum = np.concatenate([[0.0], np.cumsum(p)])
    out = []
    for t in sorted(grid):
        k = int(np.searchsorted(-p, -t, side="right"))  # number of p >= t
        exp = float(csum[k])
        prec = exp / k if k else 1.0
        rec = exp / total if total > 0 else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
        out.append(ThresholdPoint(float(t), k, exp, prec, rec, f1))
    return out


def cluster_tradeoff(
    probabilities: npt.ArrayLike, edges: Edges, grid: list[float]
) -> list[ThresholdPoint]:
    """The estimated trade-off of the *clusters* at each threshold (see module docstring).

    ``edges`` is ``(n_records, left ids, right ids)`` of the scored pairs, aligned with
    ``probabilities``; ids are 0..n_records-1.
    """
    n, left_, right_ = edges
    p = np.asarray(probabilities, dtype=np.float64)
    left = np.asarray(left_, dtype=np.int64)
    right = np.asarray(right_, dtype=np.int64)
    total = float(p.sum())
    out = []
    for t in sorted(grid):
        keep = p >= t
        labels = components(n, left[keep], right[keep])
        sizes = np.bincount(labels, minlength=int(labels.max()) + 1 if n else 0)
        k = int((sizes * (sizes - 1) // 2).sum())
        inside = labels[left] == labels[right]
        found = float(p[inside].sum())
        # pairs inside a cluster that were never scored: the cluster's weakest kept edge
        scored = np.bincount(labels[left[inside]], minlength=len(sizes))
        unscored = sizes * (sizes - 1) // 2 - scored
        weakest = np.ones(len(sizes))
        if keep.any():
            np.minimum.at(weakest, labels[left[keep]], p[keep])
        exp = found + float((unscored * weakest).sum())
        prec = exp / k if k else 1.0
        # Recall counts scored pairs on both sides of the fraction: the imputed unscored
        # pairs belong to precision (they are merges the clusters make) but dividing them by
        # the scored total let recall pass 1 at low thresholds (then capped), which pushed
        # the chosen threshold up: 0.7 instead of 0.6 on a million records, F1 0.950 vs 0.959.
        rec = found / total if total > 0 else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
        out.append(ThresholdPoint(float(t), k, exp, prec, rec, f1))
    return out


def chained_probabilities(
    labels: npt.NDArray[np.int64],
    left: npt.NDArray[np.int64],
    right: npt.NDArray[np.int64],
    p: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Each pair's probability, raised inside a cluster to its most probable chain.

    Two records of one cluster are the same person when they match directly or when a chain
    of matches joins them through other records of the cluster. If the links of a chain were
    independent, the chain holds with the product of their probabilities; the pair's value is
    the larger of its own probability and its best chain's (a lower bound on the probability
    that the two are joined, so never above what the links say). Pairs outside a cluster keep
    their own probability. Clusters are solved in batches of equal size (Floyd-Warshall on the
    product semiring).
    """
    out = np.asarray(p, np.float64).copy()
    if not len(labels) or not len(left):
        return out
    sizes = np.bincount(labels)
    inside = np.flatnonzero(labels[left] == labels[right])
    inside = inside[sizes[labels[left[inside]]] >= 3]  # a pair alone has no chain
    if not len(inside):
        return out
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    rank = np.empty(len(labels), np.int64)
    rank[order] = np.arange(len(labels)) - starts[labels[order]]
    cl = labels[left[inside]]
    for n in np.unique(sizes[cl]):
        sel = inside[sizes[cl] == n]
        ids, batch = np.unique(labels[left[sel]], return_inverse=True)
        g = np.zeros((len(ids), n, n))
        i, j = rank[left[sel]], rank[right[sel]]
        g[batch, i, j] = out[sel]
        g[batch, j, i] = out[sel]
        for k in range(n):
            g = np.maximum(g, g[:, :, k : k + 1] * g[:, k : k + 1, :])
        out[sel] = g[batch, i, j]
    return out


def hierarchy_tradeoff(tree: Hierarchy, grid: list[float]) -> list[ThresholdPoint]:
    """The estimated trade-off of the clusters the average-linkage ``tree`` gives at each
    threshold of ``grid`` (all at or above the tree's base).

    The components were completed (every pair inside scored), so the expected true matches
    among a threshold's linked pairs are the sum of their probabilities, each raised to its
    best chain of links inside the cluster (:func:`chained_probabilities`: a pair scored 0.6
    whose records both match a third at 0.99 is very likely one person; the pairs' own
    probabilities alone understated the precision by up to 0.024 on eight random seeds of the
    simulated country at 200,000 victims; with the chains the estimate was 0.002-0.013 above
    the truth on eight others, see benchmarks/README.md "At every size"); a pair
    inside a cluster that was never scored (a reviewer's match joined two components) counts
    with :data:`~tiplab.linkage.cluster.UNSCORED_P`. Recall: the expected true matches inside
    the clusters over those inside plus the probability mass of the scored pairs left apart.
    """
    pairs = tree.pairs
    p = np.where(pairs.cannot & ~pairs.forced, 0.0, pairs.prob)
    out = []
    for t in sorted(grid):
        labels = tree.cut(t)
        sizes = np.bincount(labels) if len(labels) else np.zeros(0, np.int64)
        k = int((sizes * (sizes - 1) // 2).sum())
        inside = labels[pairs.left] == labels[pairs.right]
        chained = chained_probabilities(labels, pairs.left, pairs.right, p)
        found = float(chained[inside].sum())
        total = found + float(p[~inside].sum())
        exp = found + (k - int(inside.sum())) * UNSCORED_P
        prec = exp / k if k else 1.0
        rec = found / total if total > 0 else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec > 0 else 0.0
        out.append(ThresholdPoint(float(t), k, exp, prec, rec, f1))
    return out


def choose_threshold(
    probabilities: npt.ArrayLike,
    grid: list[float],
    user_threshold: float | None = None,
    edges: Edges | None = None,
    tree: Hierarchy | None = None,
) -> ThresholdChoice:
    """The user's threshold, or the grid value with the highest estimated F1.

    With ``edges`` (record count and the pair ids), the estimates are those of the clusters
    (:func:`cluster_tradeoff`); without, of the scored edges (:func:`tradeoff`).

    Ties (within 0.001 of the best F1) go to the higher threshold: a wrong merge of two
    victims hides a person from the estimate, a missed link only counts one person twice,
    and the review queue catches missed links below the threshold.
    """
    grid = sorted(set(grid) | ({user_threshold} if user_threshold is not None else set()))
    if tree is not None:
        grid = [t for t in grid if t >= tree.base - 1e-12]
        points = hierarchy_tradeoff(tree, grid)
    elif edges is not None:
        points = cluster_tradeoff(probabilities, edges, grid)
    else:
        points = tradeoff(probabilities, grid)
    if user_threshold is not None:
        pt = next(p for p in points if p.threshold == user_threshold)
        return ThresholdChoice(
            user_threshold,
            "user",
            f"set by the user; estimated precision {pt.precision:.3f}, recall {pt.recall:.3f}",
            points,
        )
    if not points or points[0].pairs == 0:
        return ThresholdChoice(0.9, "default", "no scored pairs; default 0.9", points)
    best = max(p.f1 for p in points)
    pick = max((p for p in points if p.f1 >= best - 1e-3), key=lambda p: p.threshold)
    reason = (
        f"estimated precision {pick.precision:.3f}, recall {pick.recall:.3f} — chosen "
        f"because it maximises the estimated pairwise F1 ({pick.f1:.3f}); among "
        "thresholds within 0.001 of the best F1 the highest is taken, since a false "
        "merge of two people costs more than a missed link, which review can restore"
    )
    return ThresholdChoice(pick.threshold, "max estimated F1", reason, points)
