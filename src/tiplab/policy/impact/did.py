"""Difference-in-differences: two-way fixed effects and the event study, errors clustered by unit.

Model (balanced panel): ``y_it = a_i + l_t + b * D_it + e_it`` with ``D_it = 1`` once unit *i*
has adopted the measure. The fixed effects are removed by double demeaning (exact for a
balanced panel), and the standard errors are cluster-robust by unit (CR1) with ``t(G-1)``
critical values. The event study replaces ``D`` by one indicator per period relative to
adoption (leads and lags), leaving out period -1 as the reference; the leads test for
pre-trends.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tiplab.policy.impact.inference import cluster_vcov, ols, t_interval, wald
from tiplab.policy.impact.panel import Panel, require_controls, require_pre_periods
from tiplab.policy.impact.results import Coefficient, ImpactResult

PARALLEL = (
    "Parallel trends: without the measure, the outcome in the treated regions would have "
    "moved like the average of the comparison regions (levels may differ, changes may not)."
)
NO_ANTICIPATION = (
    "No anticipation: the outcome did not react before the start (e.g. agencies did not "
    "change practice in the run-up)."
)
NO_SPILLOVER = (
    "No spill-over: the measure did not change the outcome in comparison regions (e.g. "
    "victims or traffickers moving across a border, or trained staff moving)."
)
STABLE = "Nothing else that affects the outcome started at the same time in the treated regions."
FEW_CLUSTERS = 30


def _demean(a: np.ndarray) -> np.ndarray:
    """Remove unit and period means from a units x periods array (balanced panel)."""
    return np.asarray(a - a.mean(1, keepdims=True) - a.mean(0, keepdims=True) + a.mean())


def _common_caveats(panel: Panel, n_pre: int) -> list[str]:
    caveats = []
    g = len(panel.units)
    n_treated = int(panel.treated.sum())
    if g < FEW_CLUSTERS or n_treated < 5:
        caveats.append(
            f"Few clusters ({g} units, {n_treated} treated): cluster-robust errors can be too "
            "small with fewer than about 30 units or a handful of treated ones; read the "
            "interval as optimistic, or check with a wild cluster bootstrap or the "
            "synthetic-control placebo test."
        )
    if n_pre < 3:
        caveats.append(
            f"Only {n_pre} period(s) before the start: parallel trends cannot be checked."
        )
    if len(set(panel.adoption[panel.treated].tolist())) > 1:
        caveats.append(
            "Adoption is staggered: the two-way fixed-effects estimate is a weighted average "
            "that uses already-treated regions as controls and can be biased (even of the "
            "wrong sign) when effects grow over time or differ between regions; prefer the "
            "Callaway-Sant'Anna estimate (method 'cs')."
        )
    return caveats


def twfe(panel: Panel, *, alpha: float = 0.05, parameters: dict[str, Any] | None = None
         ) -> ImpactResult:
    """Two-way fixed-effects difference-in-differences with unit-clustered errors.

    Assumptions: parallel trends, no anticipation, no spill-over to comparison units, and
    (with staggered adoption) effects that are the same across regions and time — otherwise
    use :func:`tiplab.policy.impact.cs.callaway_santanna`.
    """
    n_pre = require_pre_periods(panel, 1, "difference-in-differences")
    require_controls(panel, "difference-in-differences")
    n, t = panel.y.shape
    x = _demean(panel.d).reshape(-1, 1)
    y = _demean(panel.y).reshape(-1)
    beta, resid, bread = ols(x, y)
    cluster = np.repeat(np.arange(n), t)
    k = 1 + t  # the coefficient, T-1 period effects and the constant (unit effects nested)
    vcov = cluster_vcov(x, resid, bread, cluster, k)
    est, se = float(beta[0]), float(np.sqrt(vcov[0, 0]))
    lo, hi, p = t_interval(est, se, n - 1, alpha)
    treated = panel.treated
    means = [
        {
            "period": int(tt),
            "treated_mean": float(panel.y[treated, j].mean()),
            "control_mean": float(panel.y[~treated, j].mean()),
        }
        for j, tt in enumerate(panel.times)
    ]
    return ImpactResult(
        method="did",
        label="Difference-in-differences (two-way fixed effects)",
        estimand="average effect on the outcome in treated regions while the measure is in "
        "force (treated minus the change in comparison regions)",
        estimate=est,
        std_error=se,
        conf_low=lo,
        conf_high=hi,
        p_value=p,
        alpha=alpha,
        inference=f"cluster-robust (CR1) by unit, {n} clusters, t({n - 1})",
        assumptions=(PARALLEL, NO_ANTICIPATION, NO_SPILLOVER, STABLE),
        caveats=tuple(_common_caveats(panel, n_pre)),
        data_version=panel.data_version,
        parameters=dict(parameters or {}),
        n_units=n,
        n_periods=t,
        n_treated=int(treated.sum()),
        coefficients=(Coefficient("att", est, se, lo, hi, p),),
        checks={"pre_periods": n_pre, "clusters": n},
        series={"means": tuple(means)},
    )


def event_study(
    panel: Panel,
    *,
    alpha: float = 0.05,
    window: tuple[int, int] | None = None,
    parameters: dict[str, Any] | None = None,
) -> ImpactResult:
    """Event study: effects by period relative to adoption, reference period -1.

    ``window = (first_lead, last_lag)`` bins event times outside it into the end points
    (e.g. ``(-4, 3)``); by default every observed event time gets its own coefficient. The
    leads (negative event times) are tested jointly (Wald F with ``G-1`` denominator degrees
    of freedom): a small p-value is evidence against parallel trends. The headline estimate
    is the mean of the lags 0, 1, … (equal weights).
    """
    n_pre = require_pre_periods(panel, 2, "an event study")
    require_controls(panel, "an event study")
    n, t = panel.y.shape
    times = np.asarray(panel.times)
    rel = times[None, :] - panel.adoption[:, None]  # nan for never treated
    treated = panel.treated
    if window is not None:
        lo_e, hi_e = window
        if not lo_e < -1 < hi_e + 1 or hi_e < 0:
            raise ValueError(f"window {window}: needs a lead before -1 and a lag >= 0")
        rel = np.where(np.isfinite(rel), np.clip(rel, lo_e, hi_e), rel)
    events = sorted({int(e) for e in rel[treated].ravel() if e != -1})
    if not any(e < -1 for e in events):
        raise ValueError("no lead before the reference period -1; nothing to test")
    cols = [np.where(rel == e, 1.0, 0.0) for e in events]
    x = np.column_stack([_demean(c).reshape(-1) for c in cols])
    y = _demean(panel.y).reshape(-1)
    beta, resid, bread = ols(x, y)
    cluster = np.repeat(np.arange(n), t)
    vcov = cluster_vcov(x, resid, bread, cluster, len(events) + t)
    se = np.sqrt(np.diag(vcov))
    coefs, rows = [], []
    for j, e in enumerate(events):
        lo, hi, p = t_interval(float(beta[j]), float(se[j]), n - 1, alpha)
        coefs.append(Coefficient(f"event_{e}", float(beta[j]), float(se[j]), lo, hi, p))
        rows.append({"event_time": e, "estimate": float(beta[j]), "std_error": float(se[j]),
                     "conf_low": lo, "conf_high": hi})
    rows.append({"event_time": -1, "estimate": 0.0, "std_error": 0.0, "conf_low": 0.0,
                 "conf_high": 0.0})
    rows.sort(key=lambda r: r["event_time"])
    pre = [j for j, e in enumerate(events) if e < -1]
    post = [j for j, e in enumerate(events) if e >= 0]
    f, p_pre, q = wald(beta[pre], vcov[np.ix_(pre, pre)], n - 1)
    c = np.zeros(len(events))
    c[post] = 1 / len(post)
    est = float(c @ beta)
    est_se = float(np.sqrt(c @ vcov @ c))
    lo, hi, p = t_interval(est, est_se, n - 1, alpha)
    caveats = _common_caveats(panel, n_pre)
    if np.isfinite(p_pre) and p_pre < 0.05:
        caveats.insert(
            0,
            f"Pre-trend test fails (p = {p_pre:.3g}): before the start, treated and comparison "
            "regions already drifted apart, so parallel trends is doubtful and the estimate "
            "may reflect that drift rather than the measure.",
        )
    elif np.isfinite(p_pre):
        caveats.append(
            f"The pre-trend test does not reject (p = {p_pre:.3g}); with few periods or "
            "regions it has little power, so this is reassurance, not proof."
        )
    staggered = [c_ for c_ in caveats if c_.startswith("Adoption is staggered")]
    for s in staggered:  # the event study has the same problem, worded for it
        caveats.remove(s)
        caveats.append(
            "Adoption is staggered: event-study coefficients from a two-way fixed-effects "
            "regression can mix effects of other periods when effects differ between "
            "cohorts; compare with the Callaway-Sant'Anna event-time aggregation (method 'cs')."
        )
    return ImpactResult(
        method="event",
        label="Event study (two-way fixed effects, reference period -1)",
        estimand="mean of the effects in periods 0, 1, … after adoption (equal weights)",
        estimate=est,
        std_error=est_se,
        conf_low=lo,
        conf_high=hi,
        p_value=p,
        alpha=alpha,
        inference=f"cluster-robust (CR1) by unit, {n} clusters, t({n - 1})",
        assumptions=(PARALLEL, NO_ANTICIPATION, NO_SPILLOVER, STABLE),
        caveats=tuple(caveats),
        data_version=panel.data_version,
        parameters=dict(parameters or {}, window=list(window) if window else None),
        n_units=n,
        n_periods=t,
        n_treated=int(treated.sum()),
        coefficients=tuple(coefs),
        checks={"pre_trend_f": f, "pre_trend_p_value": p_pre, "pre_trend_leads": q,
                "pre_periods": n_pre, "clusters": n},
        series={"event_study": tuple(rows)},
    )
