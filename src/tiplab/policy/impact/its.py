"""Interrupted time series: segmented regression with Newey-West (HAC) standard errors.

``y_t = b0 + b1 (t - T) + b2 post_t + b3 (t - T) post_t [+ season dummies] + e_t`` where ``T``
is the start and ``post_t = 1`` from ``T`` on: ``b2`` is the change in level at the start,
``b3`` the change in slope. The headline estimate is the average gap between the observed
line and the continued pre-period line over the post period, ``b2 + b3 * mean(t - T)``.
Errors may be autocorrelated (Newey-West, Bartlett kernel, ``n/(n-k)`` scaling) and the
intervals use ``t(n - k)``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from tiplab.policy.impact.errors import ImpactError
from tiplab.policy.impact.inference import hac_vcov, newey_west_lags, ols, t_interval
from tiplab.policy.impact.panel import Panel, require_pre_periods
from tiplab.policy.impact.results import Coefficient, ImpactResult

MIN_PRE = 3
ADVISED_PRE = 8

Series = Literal["treated", "all"] | str


def its(
    panel: Panel,
    *,
    series: Series = "treated",
    aggregate: Literal["sum", "mean"] = "sum",
    season: int | None = None,
    lags: int | None = None,
    alpha: float = 0.05,
    parameters: dict[str, Any] | None = None,
) -> ImpactResult:
    """Segmented regression on one series.

    Parameters
    ----------
    series
        ``"treated"``: the treated units combined; ``"all"``: every unit combined (the whole
        country); or the name of one unit.
    aggregate
        How units are combined: ``"sum"`` (counts) or ``"mean"`` (rates).
    season
        Number of periods in a seasonal cycle (12 for months numbered consecutively): adds
        one indicator per season except the first. ``None``: no seasonality.
    lags
        Newey-West lags; default ``floor(4 (n/100)^(2/9))``.

    Assumptions: the pre-period trend (and seasonality) would have continued without the
    measure; nothing else changed at the start; the trend is linear in each segment.
    """
    starts = set(panel.adoption[panel.treated].tolist())
    if len(starts) != 1:
        raise ImpactError(
            "an interrupted time series needs one start; the treated units start in "
            f"{sorted(int(s) for s in starts)} (use method 'cs' for staggered adoption)"
        )
    start = int(starts.pop())
    n_pre = require_pre_periods(panel, MIN_PRE, "an interrupted time series")
    if series == "treated":
        rows = panel.treated
    elif series == "all":
        rows = np.ones(len(panel.units), dtype=bool)
    elif series in panel.units:
        rows = np.array([u == series for u in panel.units])
    else:
        raise ImpactError(f"series {series!r}: not 'treated', 'all' or a unit of the panel")
    y = panel.y[rows].sum(0) if aggregate == "sum" else panel.y[rows].mean(0)
    times = np.asarray(panel.times, dtype=float)
    if np.any(np.diff(times) != 1):
        raise ImpactError(
            "an interrupted time series needs consecutive periods (1, 2, 3, …); "
            f"the panel has gaps between {panel.times[0]} and {panel.times[-1]}"
        )
    s = times - start
    post = (times >= start).astype(float)
    cols = [np.ones_like(s), s, post, s * post]
    names = ["intercept", "pre_slope", "level_change", "slope_change"]
    if season is not None:
        if season < 2:
            raise ImpactError(f"season {season}: a cycle has at least 2 periods")
        phase = (times.astype(np.int64) % season)
        for k in sorted(set(phase.tolist()))[1:]:
            cols.append((phase == k).astype(float))
            names.append(f"season_{k}")
    x = np.column_stack(cols)
    n, k = x.shape
    if n - k < 2:
        raise ImpactError(f"{n} periods are too few for {k} parameters")
    lag = newey_west_lags(n) if lags is None else int(lags)
    beta, resid, bread = ols(x, y)
    vcov = hac_vcov(x, resid, bread, lag)
    se = np.sqrt(np.diag(vcov))
    df = n - k
    coefs = []
    for j, name in enumerate(names[1:4], start=1):
        lo, hi, p = t_interval(float(beta[j]), float(se[j]), df, alpha)
        coefs.append(Coefficient(name, float(beta[j]), float(se[j]), lo, hi, p))
    c = np.zeros(k)
    c[2] = 1.0
    c[3] = float(s[post == 1].mean())
    est = float(c @ beta)
    est_se = float(np.sqrt(c @ vcov @ c))
    lo, hi, p = t_interval(est, est_se, df, alpha)
    fitted = x @ beta
    cf_x = x.copy()
    cf_x[:, 2:4] = 0.0
    counterfactual = cf_x @ beta
    rho = float(np.corrcoef(resid[1:], resid[:-1])[0, 1]) if n > 3 else float("nan")
    caveats = []
    if n_pre < ADVISED_PRE:
        caveats.append(
            f"Only {n_pre} periods before the start (at least {ADVISED_PRE} are advised): the "
            "pre-period trend, and so the counterfactual, is poorly pinned down."
        )
    if n - n_pre < 3:
        caveats.append(
            f"Only {n - n_pre} period(s) after the start: a change of slope is barely estimable."
        )
    if season is None and n >= 24:
        caveats.append("No seasonality modelled; give season= if the series has a cycle.")
    if np.isfinite(rho) and abs(rho) > 0.3:
        caveats.append(
            f"Residuals are autocorrelated (lag-1 r = {rho:.2f}); Newey-West errors allow "
            "for it, but with short series they remain approximate."
        )
    caveats.append(
        "There is no comparison group: anything else that changed at the start (a new law, "
        "a recording change, a crisis) is attributed to the measure."
    )
    rows_out = tuple(
        {"period": int(tt), "observed": float(y[j]), "fitted": float(fitted[j]),
         "counterfactual": float(counterfactual[j]), "post": bool(post[j])}
        for j, tt in enumerate(panel.times)
    )
    return ImpactResult(
        method="its",
        label="Interrupted time series (segmented regression)",
        estimand="average difference between the observed series and the continued pre-period "
        "trend over the periods since the start",
        estimate=est,
        std_error=est_se,
        conf_low=lo,
        conf_high=hi,
        p_value=p,
        alpha=alpha,
        inference=f"Newey-West HAC, {lag} lag(s), t({df})",
        assumptions=(
            "Without the measure the pre-period trend (and season pattern) would have "
            "continued unchanged.",
            "Nothing else that affects the outcome changed at the start (no co-interventions, "
            "no change in how the outcome is recorded).",
            "The trend is a straight line before and after the start.",
        ),
        caveats=tuple(caveats),
        data_version=panel.data_version,
        parameters=dict(parameters or {}, series=series, aggregate=aggregate, season=season,
                        lags=lag, start=start),
        n_units=int(rows.sum()),
        n_periods=n,
        n_treated=int(panel.treated.sum()),
        coefficients=tuple(coefs),
        checks={"pre_periods": n_pre, "residual_lag1_correlation": rho, "hac_lags": lag},
        series={"series": rows_out},
    )
