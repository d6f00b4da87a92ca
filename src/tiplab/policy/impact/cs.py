"""Callaway & Sant'Anna (2021): group-time effects for staggered adoption, and their averages.

For each adoption cohort *g* (units first treated in period *g*) and period *t*,
``ATT(g,t) = E[Y_t - Y_b | G = g] - E[Y_t - Y_b | control]`` where the base period ``b`` is
``g - 1`` for ``t >= g`` and ``t - 1`` before (the R package ``did``'s default "varying" base
period), and the controls are the never-treated units (or the not-yet-treated: units whose
adoption is after both ``t`` and ``b``). No covariates, so the outcome-regression, IPW and
doubly robust versions coincide. Each ATT(g,t) only compares treated with clean controls, so
it is free of the bias two-way fixed effects has under staggered adoption with effects that
vary by cohort or time.

Standard errors are analytic, from the influence functions (as ``did`` with
``bstrap = FALSE``), clustered by unit; aggregations account for the estimated cohort shares.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from scipy import stats

from tiplab.policy.impact.did import NO_ANTICIPATION, NO_SPILLOVER, PARALLEL
from tiplab.policy.impact.errors import ImpactError
from tiplab.policy.impact.panel import Panel, require_pre_periods
from tiplab.policy.impact.results import Coefficient, ImpactResult

Control = Literal["never", "notyet"]


def _wif(keep: np.ndarray, pg: np.ndarray, member: np.ndarray) -> np.ndarray:
    """Influence of estimating the cohort shares that weight the cells in ``keep``."""
    m = member[:, keep]  # n x K indicators G_i == g_k
    p = pg[keep]
    if1 = (m - p) / p.sum()
    if2 = (m - p).sum(1, keepdims=True) * (p / p.sum() ** 2)[None, :]
    return np.asarray(if1 - if2)


def callaway_santanna(
    panel: Panel,
    *,
    control: Control = "never",
    alpha: float = 0.05,
    parameters: dict[str, Any] | None = None,
) -> ImpactResult:
    """Group-time ATT(g,t) with simple, event-time (dynamic) and by-cohort aggregations.

    The headline estimate is the simple aggregation (all post-adoption cells weighted by cohort
    size), as ``did::aggte(type = "simple")``. Intervals are pointwise normal.
    """
    require_pre_periods(panel, 1, "Callaway-Sant'Anna")
    times = np.asarray(panel.times)
    adopt = panel.adoption.copy()
    caveats: list[str] = []
    always = np.isfinite(adopt) & (adopt <= times[0])
    if always.any():
        caveats.append(
            f"{int(always.sum())} unit(s) treated from the first period are left out: they "
            "have no period before the start."
        )
    keep_units = ~always
    y = panel.y[keep_units]
    g_of = adopt[keep_units]
    n = y.shape[0]
    never = ~np.isfinite(g_of)
    if control == "never" and not never.any():
        raise ImpactError(
            "no never-treated unit to compare with; use control='notyet' (not-yet-treated "
            "units as controls)"
        )
    glist = sorted({float(g) for g in g_of[np.isfinite(g_of)]})
    index = {int(t): j for j, t in enumerate(times)}
    cells: list[tuple[float, int]] = []
    atts: list[float] = []
    infl: list[np.ndarray] = []
    for g in glist:
        gi = index.get(int(g))
        if gi is None:
            raise ImpactError(f"adoption period {int(g)} is not a period of the panel")
        treat = g_of == g
        for ti in range(1, len(times)):
            bi = gi - 1 if ti >= gi else ti - 1
            if control == "never":
                ctrl = never
            else:
                ctrl = never | (g_of > times[max(ti, bi)])
                ctrl &= ~treat
            if not ctrl.any():
                continue
            dy = y[:, ti] - y[:, bi]
            mu1, mu0 = dy[treat].mean(), dy[ctrl].mean()
            n1, n0 = int(treat.sum()), int(ctrl.sum())
            inf = np.zeros(n)
            inf[treat] = n * (dy[treat] - mu1) / n1
            inf[ctrl] = -n * (dy[ctrl] - mu0) / n0
            cells.append((g, int(times[ti])))
            atts.append(float(mu1 - mu0))
            infl.append(inf)
    if not cells:
        raise ImpactError("no group-time effect can be estimated (no controls in any period)")
    att = np.asarray(atts)
    psi = np.column_stack(infl)  # n x cells
    grp = np.array([c[0] for c in cells])
    tt = np.array([c[1] for c in cells], dtype=float)
    pg_by_g = {g: float(np.mean(g_of == g)) for g in glist}
    pg = np.array([pg_by_g[g] for g in grp])
    member = np.column_stack([g_of == g for g in grp]).astype(float)
    z = float(stats.norm.ppf(1 - alpha / 2))

    def se_of(v: np.ndarray) -> float:
        return float(np.sqrt(np.mean(v**2) / n))

    def coef(name: str, est: float, v: np.ndarray) -> Coefficient:
        s = se_of(v)
        p = float(2 * stats.norm.sf(abs(est / s))) if s > 0 else float("nan")
        return Coefficient(name, est, s, est - z * s, est + z * s, p)

    gt_rows = []
    for k, (g, t) in enumerate(cells):
        c = coef(f"att_{int(g)}_{t}", float(att[k]), psi[:, k])
        gt_rows.append({"group": int(g), "period": t, "estimate": c.estimate,
                        "std_error": c.std_error, "conf_low": c.conf_low,
                        "conf_high": c.conf_high})
    # simple
    keep = np.flatnonzero(tt >= grp)
    if len(keep) == 0:
        raise ImpactError("no period with the measure in force")
    w = pg[keep] / pg[keep].sum()
    simple = float(w @ att[keep])
    inf_simple = psi[:, keep] @ w + _wif(keep, pg, member) @ att[keep]
    # dynamic (event time)
    ev = tt - grp
    es_rows, es_inf, es_att = [], [], []
    for e in sorted(set(ev.tolist())):
        which = np.flatnonzero(ev == e)
        we = pg[which] / pg[which].sum()
        a_e = float(we @ att[which])
        i_e = psi[:, which] @ we + _wif(which, pg, member) @ att[which]
        c = coef(f"event_{int(e)}", a_e, i_e)
        es_rows.append({"event_time": int(e), "estimate": a_e, "std_error": c.std_error,
                        "conf_low": c.conf_low, "conf_high": c.conf_high})
        if e >= 0:
            es_inf.append(i_e)
            es_att.append(a_e)
    dyn = float(np.mean(es_att))
    inf_dyn = np.mean(np.column_stack(es_inf), axis=1)
    # by cohort
    g_att, g_inf, g_rows = [], [], []
    for g in glist:
        which = np.flatnonzero((grp == g) & (tt >= g))
        if len(which) == 0:
            continue
        a_g = float(att[which].mean())
        i_g = psi[:, which].mean(1)
        c = coef(f"group_{int(g)}", a_g, i_g)
        g_att.append(a_g)
        g_inf.append(i_g)
        g_rows.append({"group": int(g), "estimate": a_g, "std_error": c.std_error,
                       "conf_low": c.conf_low, "conf_high": c.conf_high})
    gl = np.array([r["group"] for r in g_rows], dtype=float)
    pgl = np.array([pg_by_g[g] for g in gl])
    memb_g = np.column_stack([g_of == g for g in gl]).astype(float)
    by_group = float(np.asarray(g_att) @ pgl / pgl.sum())
    inf_group = (np.column_stack(g_inf) @ (pgl / pgl.sum())
                 + _wif(np.arange(len(gl)), pgl, memb_g) @ np.asarray(g_att))
    # pre-test: all pre-period ATT(g,t) = 0
    pre = np.flatnonzero(tt < grp)
    wald_p = float("nan")
    wald_stat = float("nan")
    if len(pre):
        v = psi[:, pre].T @ psi[:, pre] / n
        ok = np.diag(v) > 1e-12
        if ok.any():
            a = att[pre][ok]
            vv = v[np.ix_(ok, ok)]
            wald_stat = float(n * a @ np.linalg.pinv(vv) @ a)
            wald_p = float(stats.chi2.sf(wald_stat, np.linalg.matrix_rank(vv)))
    if np.isfinite(wald_p) and wald_p < 0.05:
        caveats.insert(0, f"Pre-trend test fails (p = {wald_p:.3g}): before adoption the "
                       "cohorts already moved differently from their controls.")
    elif np.isfinite(wald_p):
        caveats.append(f"The pre-trend test does not reject (p = {wald_p:.3g}); with few "
                       "periods or units it has little power.")
    if n < 30:
        caveats.append(f"Only {n} units: the influence-function standard errors are "
                       "large-sample approximations and can be too small.")
    small = [int(g) for g in glist if np.sum(g_of == g) < 3]
    if small:
        caveats.append(f"Cohort(s) {small} have fewer than 3 units: their effects are noisy.")
    main = coef("att_simple", simple, inf_simple)
    return ImpactResult(
        method="cs",
        label="Callaway-Sant'Anna difference-in-differences (staggered adoption)",
        estimand="average effect over all treated unit-periods since adoption (cells weighted "
        "by cohort size)",
        estimate=main.estimate,
        std_error=main.std_error,
        conf_low=main.conf_low,
        conf_high=main.conf_high,
        p_value=main.p_value,
        alpha=alpha,
        inference=f"analytic influence-function errors clustered by unit ({n} units), normal",
        assumptions=(
            PARALLEL.replace("the comparison regions", "the "
                             + ("never-treated" if control == "never" else "not-yet-treated")
                             + " regions"),
            NO_ANTICIPATION,
            NO_SPILLOVER,
            "Once a region adopts the measure it stays treated.",
        ),
        caveats=tuple(caveats),
        data_version=panel.data_version,
        parameters=dict(parameters or {}, control=control, base_period="varying"),
        n_units=n,
        n_periods=len(times),
        n_treated=int(np.isfinite(g_of).sum()),
        coefficients=(main, coef("att_dynamic", dyn, inf_dyn),
                      coef("att_group", by_group, inf_group)),
        checks={"pre_trend_chi2": wald_stat, "pre_trend_p_value": wald_p,
                "cohorts": len(glist), "never_treated": int(never.sum())},
        series={"group_time": tuple(gt_rows), "event_study": tuple(es_rows),
                "groups": tuple(g_rows)},
    )
