"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo-in-space inference.

The treated series (the mean of the treated units) is matched by a convex combination of
donor units (never treated): weights ``w >= 0``, ``sum w = 1`` minimising the squared gap over
the pre-period outcomes. This is the *outcome-only* variant: every pre-period outcome is a
predictor with equal weight, so there is no nested optimisation of predictor weights ``V``
(it is the special case ``V = I`` of ADH's problem on lagged outcomes; see docs/impact.md).

Inference: each donor in turn is treated as if it had adopted, with the other donors as its
pool; the ratio of post- to pre-period root mean squared prediction error (RMSPE) of the
treated unit is ranked among all; ``p = rank / (J + 1)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import nnls

from tiplab.policy.impact.errors import ImpactError
from tiplab.policy.impact.panel import Panel, require_controls, require_pre_periods
from tiplab.policy.impact.results import Coefficient, ImpactResult

MIN_PRE = 2
_PENALTY = 1e4
ADVISED_PRE = 5


def simplex_weights(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """``argmin ||x1 - x0 w||^2`` over the simplex (``x0``: periods x donors).

    Lawson-Hanson non-negative least squares (an exact active-set method) with the
    constraint ``sum w = 1`` added as a heavily weighted row (weight 1e4 on data scaled to
    at most 1), then renormalised: the sum is off by about 1e-8 before that. The problem is
    convex, so the fitted pre-period path is the global optimum (the weights themselves are
    unique when the donors' pre-period paths are in general position).
    """
    scale = float(np.abs(x1).max()) or 1.0
    a = np.vstack([x0 / scale, np.full(x0.shape[1], _PENALTY)])
    b = np.append(x1 / scale, _PENALTY)
    w, _ = nnls(a, b, maxiter=50 * x0.shape[1])
    total = w.sum()
    if total <= 0:
        return np.full(x0.shape[1], 1 / x0.shape[1])
    return np.asarray(w / total)


def _fit(y1: np.ndarray, y0: np.ndarray, pre: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weights and gap series (treated - synthetic) for one treated series."""
    w = simplex_weights(y0[:, pre].T, y1[pre])
    return w, y1 - w @ y0


def _rmspe(gap: np.ndarray) -> float:
    return float(np.sqrt(np.mean(gap**2)))


def synthetic_control(
    panel: Panel,
    *,
    placebo: bool = True,
    parameters: dict[str, Any] | None = None,
) -> ImpactResult:
    """Synthetic control for the treated units' mean, with placebo-in-space inference.

    Assumptions: the treated series lies within the range the donors can reproduce; the
    relation between treated and donors in the pre-period would have held afterwards; donors
    were not affected by the measure (no spill-over) and had no comparable measure of their
    own. The estimate is the mean post-period gap; there is no interval — the p-value is the
    permutation p-value of the post/pre RMSPE ratio (exact under random assignment of the
    measure to one of the J + 1 units).
    """
    starts = set(panel.adoption[panel.treated].tolist())
    if len(starts) != 1:
        raise ImpactError(
            "synthetic control needs one start; the treated units start in "
            f"{sorted(int(s) for s in starts)}"
        )
    start = int(starts.pop())
    n_pre = require_pre_periods(panel, MIN_PRE, "synthetic control")
    require_controls(panel, "synthetic control")
    times = np.asarray(panel.times)
    pre = times < start
    post = ~pre
    donors = np.flatnonzero(~panel.treated)
    if len(donors) < 2:
        raise ImpactError("synthetic control needs at least 2 donor (never-treated) units")
    y1 = panel.y[panel.treated].mean(0)
    y0 = panel.y[donors]
    w, gap = _fit(y1, y0, pre)
    pre_rmspe, post_rmspe = _rmspe(gap[pre]), _rmspe(gap[post])
    ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf")
    est = float(gap[post].mean())
    placebo_rows: list[dict[str, Any]] = []
    ratios = [ratio]
    if placebo:
        for k, d in enumerate(donors):
            others = np.delete(donors, k)
            _, g = _fit(panel.y[d], panel.y[others], pre)
            pr, po = _rmspe(g[pre]), _rmspe(g[post])
            ratios.append(po / pr if pr > 0 else float("inf"))
            placebo_rows.append({"unit": panel.units[d], "pre_rmspe": pr, "post_rmspe": po,
                                 "ratio": ratios[-1], "gap": [float(v) for v in g]})
    rank = int(np.sum(np.asarray(ratios) >= ratio)) if placebo else None
    p = rank / len(ratios) if rank is not None else None
    sd_pre = float(np.std(y1[pre]))
    caveats = []
    if n_pre < ADVISED_PRE:
        caveats.append(
            f"Only {n_pre} periods before the start: a close pre-period fit over so few "
            "points says little about the counterfactual."
        )
    if sd_pre > 0 and pre_rmspe > 0.5 * sd_pre:
        caveats.append(
            f"Poor pre-period fit: RMSPE {pre_rmspe:.3g} is {pre_rmspe / sd_pre:.0%} of the "
            "pre-period standard deviation of the treated series; the synthetic region does "
            "not track the treated one, so the gap after the start is not credible."
        )
    above = y1[pre] > y0[:, pre].max(0)
    below = y1[pre] < y0[:, pre].min(0)
    if above.any() or below.any():
        caveats.append(
            "The treated series lies outside the donors' range in "
            f"{int(above.sum() + below.sum())} pre-period(s): no convex combination can "
            "reproduce it there."
        )
    if placebo and len(ratios) < 20:
        caveats.append(
            f"With {len(ratios)} units the smallest possible p-value is "
            f"{1 / len(ratios):.2g}: the placebo test cannot show significance at 5%."
        )
    if int(panel.treated.sum()) > 1:
        caveats.append(
            f"{int(panel.treated.sum())} treated units are combined into their mean; the "
            "placebo units are single regions, which are noisier than a mean, so the test "
            "is conservative."
        )
    order = np.argsort(-w, kind="stable")
    weights = tuple({"unit": panel.units[donors[i]], "weight": float(w[i])} for i in order)
    series = tuple(
        {"period": int(tt), "treated": float(y1[j]), "synthetic": float(y1[j] - gap[j]),
         "gap": float(gap[j]), "post": bool(post[j])}
        for j, tt in enumerate(panel.times)
    )
    return ImpactResult(
        method="synth",
        label="Synthetic control (outcome-only weights)",
        estimand="average gap between the treated series and its synthetic control over the "
        "periods since the start",
        estimate=est,
        std_error=None,
        conf_low=None,
        conf_high=None,
        p_value=p,
        alpha=0.05,
        inference=(
            f"placebo-in-space permutation test, {len(ratios)} units, post/pre RMSPE ratio"
            if placebo else "none (placebo test switched off)"
        ),
        assumptions=(
            "Without the measure the treated regions would have followed their synthetic "
            "control, as they did before the start.",
            "The donor regions were not affected by the measure (no spill-over) and had no "
            "similar measure of their own.",
            "Nothing else that affects the outcome started at the same time in the treated "
            "regions.",
        ),
        caveats=tuple(caveats),
        data_version=panel.data_version,
        parameters=dict(parameters or {}, start=start, placebo=placebo,
                        variant="outcome-only, V = I"),
        n_units=len(panel.units),
        n_periods=len(times),
        n_treated=int(panel.treated.sum()),
        coefficients=(Coefficient("mean_post_gap", est),
                      Coefficient("post_pre_rmspe_ratio", ratio)),
        checks={"pre_rmspe": pre_rmspe, "post_rmspe": post_rmspe, "rmspe_ratio": ratio,
                "placebo_rank": rank, "pre_periods": n_pre, "donors": len(donors)},
        series={"synthetic": series, "weights": weights, "placebos": tuple(placebo_rows)},
    )
