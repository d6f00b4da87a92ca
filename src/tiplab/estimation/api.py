"""``estimate()``, ``sensitivity_table()`` and ``estimate_strata()``: the public entry points."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from tiplab.estimation.bic import (
    bic_select,
    default_maxorder,
    default_ntop,
    downhill,
    topk_bootstrap,
)
from tiplab.estimation.bootstrap import DEFAULT_ALPHA, bootstrap
from tiplab.estimation.checks import CHECK_MESSAGES, ModelChecker, count_triples
from tiplab.estimation.errors import EstimationError
from tiplab.estimation.loglinear import ModelFit, fit_model, fit_model_batch
from tiplab.estimation.rcapture import (
    CLOSED_MODELS,
    aic_stepwise,
    closed_model,
    profile_interval,
)
from tiplab.estimation.results import MSEResult, SensitivityTable, StratifiedResult
from tiplab.estimation.stepwise import DEFAULT_PTHRESH, stepwise_batch, stepwise_fit
from tiplab.estimation.table import CaptureTable
from tiplab.estimation.terms import IntArray, parse_model, term_label

FloatArray = npt.NDArray[np.float64]
log = logging.getLogger("tiplab.estimation")

#: Bayesian methods: the posterior median and an equal-tailed credible interval
BAYESIAN = ("lcmcr", "dga", "bayes-threshold")
METHODS = ("stepwise", "aic-stepwise", "bic", "downhill", "main", "fixed",
           *(f"rcapture-{m}" for m in CLOSED_MODELS), *BAYESIAN)


@dataclass
class Procedure:
    """A whole estimation procedure as a picklable function of the count vector.

    The bootstrap and the jackknife call it on resampled tables; it keeps a cache of
    existence/identifiability checks across calls.
    """

    method: str
    patterns: IntArray
    t: int
    pthresh: float = DEFAULT_PTHRESH
    terms: frozenset[int] = frozenset()
    maxorder: int | None = None
    _checker: ModelChecker | None = field(default=None, repr=False)

    def checker(self) -> ModelChecker:
        if self._checker is None:
            self._checker = ModelChecker(self.patterns, self.t)
        return self._checker

    def __call__(self, counts: FloatArray) -> float:
        try:
            return self._estimate(counts)
        except (EstimationError, OverflowError, FloatingPointError, np.linalg.LinAlgError):
            return float("nan")

    def batch(self, counts: FloatArray) -> FloatArray:
        """``self`` on every row of ``counts`` (B, cells): stepwise, main and fixed run
        batched (same results, to rounding), the other methods row by row."""
        m = self.method
        try:
            if m == "stepwise":
                return stepwise_batch(self.patterns, counts, self.t, self.pthresh,
                                      self.checker()).estimates
            if m in ("main", "fixed"):
                terms = self.terms if m == "fixed" else frozenset()
                return fit_model_batch(self.patterns, counts, self.t, terms,
                                       self.checker()).estimate
        except (EstimationError, FloatingPointError, np.linalg.LinAlgError):
            log.debug("batched %s failed; estimating row by row", m)
        return np.array([self(c) for c in counts], dtype=np.float64)

    def _estimate(self, counts: FloatArray) -> float:
        m = self.method
        if m == "stepwise":
            return stepwise_fit(self.patterns, counts, self.t, self.pthresh,
                                self.checker()).fit.estimate
        if m == "main":
            return fit_model((self.patterns, counts, self.t), (), self.checker()).estimate
        if m == "fixed":
            return fit_model((self.patterns, counts, self.t), self.terms,
                             self.checker()).estimate
        if m == "downhill":
            return downhill(self.patterns, counts, self.t, self.maxorder,
                            checker=self.checker()).fit.estimate
        if m == "aic-stepwise":
            return aic_stepwise(self.patterns, counts, self.t, self.pthresh).fit.estimate
        if m.startswith("rcapture-"):
            return closed_model(self.patterns, counts, self.t, m[len("rcapture-"):]).fit.estimate
        raise EstimationError(f"unknown method {m!r}; use one of {', '.join(METHODS)}.")


def _checks_dict(table: CaptureTable, fit: ModelFit | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "non_overlapping_pairs": ["-".join(p) for p in table.non_overlapping_pairs()],
        "count_triples": count_triples(table) if table.t >= 3 else 0,
        "nonzero_patterns": int((table.counts > 0).sum()),
        "patterns": int(table.counts.size),
    }
    if fit is not None:
        out["code"] = fit.check.code
        out["message"] = fit.check.message
        out["lp_solved"] = fit.check.lp_value is not None
    return out


def _fit_dict(fit: ModelFit) -> dict[str, Any]:
    g = fit.glm
    if g is None:
        return {}
    return {"deviance": fit.deviance, "df": fit.df, "aic": fit.aic, "bic": fit.bic,
            "loglik": fit.loglik, "n_params": fit.n_params, "converged": g.converged,
            "iterations": g.iterations, "intercept": fit.intercept,
            "se_intercept": fit.se_intercept}


def sparse_warnings(table: CaptureTable, min_n: int = 30) -> list[str]:
    """Plain-words warnings about tables too sparse for a reliable estimate."""
    w: list[str] = []
    sizes = table.list_sizes()
    with_cases = [k for k, v in sizes.items() if v > 0]
    if len(with_cases) < 2:
        w.append(f"only {len(with_cases)} list(s) with cases; MSE needs at least two "
                 "overlapping lists (pool strata or merge lists).")
    empty = [k for k, v in sizes.items() if v == 0]
    if empty:
        w.append(f"lists with no cases: {', '.join(empty)} (omit them with --omit-list).")
    if table.n < min_n:
        w.append(f"only {table.n} cases observed (< {min_n}); estimates and intervals are "
                 "very uncertain (consider --pool-below).")
    ov = table.overlaps()
    if ov and all(v == 0 for v in ov.values()):
        w.append("no two lists share a case: the population cannot be estimated "
                 "(pool strata or merge lists).")
    elif ov:
        non = [f"{a}-{b}" for (a, b), v in ov.items() if v == 0]
        if len(non) > len(ov) // 2:
            w.append(f"{len(non)} of {len(ov)} list pairs share no case ({', '.join(non)}); "
                     "results depend strongly on the model (see the sensitivity table).")
    return w


def estimate(
    table: CaptureTable,
    method: str = "stepwise",
    *,
    model: str | None = None,
    pthresh: float | None = None,
    maxorder: int | None = None,
    ntop: int | None = None,
    nboot: int = 1000,
    seed: int | None = 1234,
    level: float = 0.95,
    alpha: Sequence[float] = DEFAULT_ALPHA,
    workers: int = 1,
    bayes: dict[str, Any] | None = None,
) -> MSEResult:
    """Estimate the total population (observed + dark figure) of a capture table.

    Parameters
    ----------
    table : CaptureTable
        Completed pattern-count table.
    method : str
        ``"stepwise"`` (Chan-Silverman-Vincent 2021, default), ``"aic-stepwise"`` (Bales-
        Hesketh-Silverman 2015, UK Home Office), ``"bic"`` (all hierarchical models up to
        ``maxorder``, Silverman-Chan-Vincent 2024), ``"downhill"``, ``"main"`` (independence),
        ``"fixed"`` (``model``) or ``"rcapture-M0"``, ``"rcapture-Mt"``,
        ``"rcapture-Mh-Chao"``, ``"rcapture-Mth-Darroch"``... (Rcapture closed models),
        ``"lcmcr"`` (latent classes, Manrique-Vallier 2016) or ``"dga"`` (model averaging over
        decomposable graphs, Madigan & York 1997): posterior median and credible interval.
    model : str, optional
        For ``fixed``: e.g. ``"1*2,2*3"``, ``"LA*NG"`` or ``"[12,3]"``.
    pthresh : float, optional
        Stepwise threshold (default 0.02); for ``aic-stepwise`` the Wald threshold (0.05).
    maxorder, ntop : int, optional
        Highest interaction order for ``bic``/``downhill``; models kept in the BIC bootstrap.
    nboot : int
        Bootstrap replicates (0 = no bootstrap; model-conditional interval only).
    seed : int or None
        Seed of the bootstrap; the same seed gives the same interval.
    level : float
        Level of the reported interval.
    workers : int
        Processes for the bootstrap (1 = none).
    bayes : dict, optional
        Settings of the Bayesian methods: for ``lcmcr`` the fields of
        :class:`~tiplab.estimation.lcmcr.LCMCRSettings` (K, chains, burnin, samples, thin);
        for ``dga`` ``delta`` and ``max_missing``. ``seed`` and ``level`` come from above.

    Returns
    -------
    MSEResult

    Notes
    -----
    All methods assume a closed population, cases correctly linked across lists and no
    highest-order interaction (the dark cell follows the fitted log-linear model).
    The BCa interval (when ``nboot > 0``) repeats the model selection on every replicate,
    so it includes model-selection uncertainty; the model-conditional intervals do not.
    """
    if method not in METHODS:
        raise EstimationError(f"unknown method {method!r}; use one of {', '.join(METHODS)}.")
    if not 0 < level < 1:
        raise EstimationError(f"level must be between 0 and 1, got {level}.")
    if nboot < 0:
        raise EstimationError("nboot must be >= 0.")
    on_two = np.array([bin(int(p)).count("1") >= 2 for p in table.patterns], dtype=bool)
    overlap = float(table.counts[on_two].sum()) if on_two.size else 0.0
    if overlap == 0:
        raise EstimationError(
            f"{table.source or 'the table'}: no case is on more than one of the lists "
            f"({', '.join(table.names)}). Multiple systems estimation learns the hidden number "
            "from the overlap between lists; with none, every model's estimate is unbounded. "
            "Check that the lists were linked (the same person has the same id on every "
            "list), or add a list that overlaps the others.")
    warnings = sparse_warnings(table)
    for w in warnings:
        log.warning("%s: %s", table.source or "table", w)
    if method in BAYESIAN:
        return _bayesian(table, method, level, seed, dict(bayes or {}), warnings)
    pats, cnts, t = table.patterns, table.counts, table.t
    lo_q, hi_q = round((1 - level) / 2, 12), round(1 - (1 - level) / 2, 12)
    alpha_all = tuple(sorted({*alpha, lo_q, hi_q}))
    settings: dict[str, Any] = {"method": method, "nboot": nboot, "seed": seed,
                                "level": level}
    details: dict[str, Any] = {}
    intervals: dict[str, tuple[float, float]] = {}
    proc = Procedure(method, pats, t)
    fit: ModelFit | None = None
    terms_labels: list[str]
    neginf_labels: list[str] = []
    fit_info: dict[str, Any] = {}
    model_name: str
    if method in ("stepwise", "main", "fixed", "downhill", "bic"):
        if method == "stepwise":
            proc.pthresh = DEFAULT_PTHRESH if pthresh is None else pthresh
            settings["pthresh"] = proc.pthresh
            sw = stepwise_fit(pats, cnts, t, proc.pthresh, proc.checker(),
                              zero_overlap_probs=True)
            fit = sw.fit
            details["added"] = [
                {"term": term_label(th, table.names), "p": p}
                for th, p in zip(sw.added, sw.pvalues, strict=True)]
            details["zero_overlap_probabilities"] = {
                term_label(k, table.names): v for k, v in sw.zero_overlap_probabilities.items()}
        elif method == "main":
            fit = fit_model(table, (), proc.checker())
        elif method == "fixed":
            if model is None:
                raise EstimationError("method 'fixed' needs a model, e.g. --model '1*2,2*3'.")
            proc.terms = parse_model(model, table.names)
            settings["model"] = model
            fit = fit_model(table, proc.terms, proc.checker())
        elif method == "downhill":
            proc.maxorder = default_maxorder(t) if maxorder is None else maxorder
            settings["maxorder"] = proc.maxorder
            dh = downhill(pats, cnts, t, proc.maxorder, checker=proc.checker())
            fit = dh.fit
            details["path"] = [fit_model(table, m, proc.checker()).model_name()
                               for m in dh.path]
            details["path_bic"] = list(dh.bics)
        else:  # bic
            if t > 6:
                raise EstimationError(
                    f"BIC needs at most 6 lists, the table has {t}; use --method stepwise "
                    "or merge lists.")
            mo = default_maxorder(t) if maxorder is None else maxorder
            sel = bic_select(pats, cnts, t, mo, checker=proc.checker())
            fit = sel.best
            k = default_ntop(t) if ntop is None else ntop
            settings.update(maxorder=mo, ntop=k)
            details["n_candidates"] = sel.n_candidates
            details["n_failed_check"] = sel.n_failed_check
            details["ranking"] = [
                {"model": fit_model(table, r.model, proc.checker()).model_name(),
                 "estimate": r.estimate, "bic": r.bic, "aic": r.aic}
                for r in sel.ranked[:20]]
        if fit is None or not fit.ok:
            code = fit.check.code if fit is not None else -1
            raise EstimationError(
                f"{table.source or 'table'}: the {method} model cannot be fitted: "
                f"{CHECK_MESSAGES.get(code, 'unknown')} (code {code}). Choose another model "
                "or merge/omit lists.")
        point = fit.estimate
        model_name = fit.model_name()
        terms_labels = [term_label(th, table.names) for th in fit.terms]
        neginf_labels = [term_label(th, table.names) for th in fit.neginf]
        fit_info = _fit_dict(fit)
        cond = fit.lognormal_interval(level)
        intervals[f"log-normal (model-conditional) {level:g}"] = cond
        primary, primary_type = cond, "log-normal (model-conditional)"
    else:
        if method == "aic-stepwise":
            proc.pthresh = 0.05 if pthresh is None else pthresh
            settings["pthresh"] = proc.pthresh
            ar = aic_stepwise(pats, cnts, t, proc.pthresh)
            g = ar.fit
            terms_labels = [term_label(th, table.names) for th in ar.pairs]
            model_name = "main effects + " + ", ".join(terms_labels) if terms_labels else \
                "main effects"
            details["steps"] = [{"term": term_label(p, table.names), "aic": a, "wald_p": w}
                                for p, a, w in ar.steps]
            details["stop_reason"] = ar.stop_reason
            zero_pairs = [p for p in ar.pairs if table.nstar([p])[0] == 0]
            neginf_labels = [term_label(p, table.names) for p in zero_pairs]
        else:
            cm = closed_model(pats, cnts, t, method[len("rcapture-"):])
            g = cm.fit
            model_name = cm.name
            terms_labels = []
            details["dropped_columns"] = list(cm.dropped_columns)
            details["coefficients"] = dict(zip(g.labels, map(float, g.glm.coef), strict=True))
        point = g.estimate
        fit_info = {"deviance": g.glm.deviance, "df": g.glm.df_resid, "aic": g.aic,
                    "bic": g.bic, "loglik": g.glm.loglik, "n_params": g.X.shape[1],
                    "converged": g.glm.converged, "iterations": g.glm.iterations,
                    "se_estimate": g.se_estimate}
        try:
            pi = profile_interval(g.X, g.y, level)
            details["profile_abundance"] = pi.abundance
            intervals[f"profile likelihood {level:g}"] = (pi.lower, pi.upper)
            primary, primary_type = (pi.lower, pi.upper), "profile likelihood"
        except (EstimationError, ValueError, OverflowError) as exc:
            warnings.append(f"profile-likelihood interval not available: {exc}")
            primary, primary_type = (math.nan, math.nan), "none"
    boot = None
    if nboot > 0:
        if method == "bic":
            mo = settings["maxorder"]
            sel2 = bic_select(pats, cnts, t, mo, checker=proc.checker())
            tk = topk_bootstrap(pats, cnts, t, sel2, settings["ntop"], nboot, seed, alpha_all,
                                workers=workers)
            kmax = len(tk.ks)
            col = tk.estimates[:, kmax - 1]
            valid = col[np.isfinite(col)]
            from tiplab.estimation.bootstrap import BootstrapResult

            boot = BootstrapResult(
                point=point, replicates=valid, n_requested=nboot,
                n_dropped=int(nboot - valid.size), jackknife=np.array([]),
                jackknife_weights=np.array([]), ahat=float(tk.ahat[kmax - 1]),
                z0=float("nan"), seed=seed, bca=tk.bca[kmax - 1])
            details["topk_bca"] = [
                {"ntop": k, **{str(a): v for a, v in q.items()}}
                for k, q in zip(tk.ks, tk.bca, strict=True)]
        else:
            boot = bootstrap(cnts, proc, nboot=nboot, seed=seed, alpha=alpha_all,
                             point=point, workers=workers)
        if boot.n_dropped:
            warnings.append(f"{boot.n_dropped} of {nboot} bootstrap replicates could not be "
                            "estimated and were dropped.")
        primary = (boot.bca[lo_q], boot.bca[hi_q])
        primary_type = "BCa bootstrap"
    return MSEResult(
        method=method,
        lists=list(table.names),
        observed=table.n,
        estimate=float(point),
        interval=(float(primary[0]), float(primary[1])),
        interval_type=primary_type,
        level=level,
        model=model_name,
        terms=terms_labels,
        minus_infinity_terms=neginf_labels,
        checks=_checks_dict(table, fit),
        fit=fit_info,
        settings=settings,
        intervals=intervals,
        bootstrap=boot,
        details=details,
        warnings=warnings,
        source=table.source,
        data_version=table.fingerprint(),
    )


def _settings(cls: Any, method: str, bayes: dict[str, Any], level: float,
              seed: int | None) -> Any:
    """``cls`` (a settings dataclass) from ``bayes``, refusing names it does not have."""
    known = set(cls.__dataclass_fields__) - {"seed", "level"}
    unknown = sorted(set(bayes) - known)
    if unknown:
        raise EstimationError(f"{method}: unknown setting(s) {', '.join(unknown)} "
                              f"(known: {', '.join(sorted(known))})")
    return cls(**{**bayes, "level": level, "seed": 1234 if seed is None else seed})


def _bayesian(table: CaptureTable, method: str, level: float, seed: int | None,
              bayes: dict[str, Any], warnings: list[str]) -> MSEResult:
    """lcmcr or dga as an :class:`MSEResult`: the posterior median, the equal-tailed credible
    interval, the diagnostics in ``fit`` and ``details``."""
    settings: dict[str, Any] = {"method": method, "level": level, **bayes}
    if method == "lcmcr":
        from tiplab.estimation.lcmcr import LCMCRSettings, lcmcr

        ls = _settings(LCMCRSettings, method, bayes, level, seed)
        r = lcmcr(table, ls)
        settings.update(ls.to_dict())
        point, interval = r.median, r.interval(level)
        model = f"latent classes (at most K = {ls.K})"
        fit: dict[str, Any] = {"rhat": r.rhat, "ess": r.ess, "converged": r.converged,
                               "seconds": r.seconds, "ess_per_second": r.ess_per_second}
        details: dict[str, Any] = {
            "k_star_median": float(np.median(r.kstar_draws)),
            "draws_quantiles": {str(q): float(np.quantile(r.draws, q))
                                for q in (0.025, 0.1, 0.5, 0.9, 0.975)},
            "trace": r.n_draws.tolist() if r.n_draws.size <= 20_000 else None}
        warnings += r.warnings
    elif method == "bayes-threshold":
        from tiplab.estimation.bayesthresh import ThresholdSettings, bayes_threshold

        ts = _settings(ThresholdSettings, method, bayes, level, seed)
        b = bayes_threshold(table, ts)
        settings.update(ts.to_dict())
        point, interval = b.median, b.interval(level)
        model = "main effects + " + ", ".join(b.kept) if b.kept else "main effects"
        fit = {"acceptance": list(b.acceptance)}
        details = {"pairs": b.pairs}
        warnings += b.warnings
    else:
        from tiplab.estimation.dga import dga

        unknown = sorted(set(bayes) - {"delta", "max_missing"})
        if unknown:
            raise EstimationError(f"dga: unknown setting(s) {', '.join(unknown)} "
                                  "(known: delta, max_missing)")
        d = dga(table, delta=bayes.get("delta"), max_missing=bayes.get("max_missing"))
        settings.update(delta=d.delta, max_missing=d.max_missing, prior=d.prior)
        point, interval = d.median, d.interval(level)
        top = d.top_models(5)
        model = f"average of {len(d.models)} decomposable graphs (most probable {top[0][0]})"
        fit = {"bayes_estimate": d.bayes_estimate(), "mean": d.mean, "mode": d.mode}
        details = {"top_models": [{"model": m, "probability": p} for m, p in top]}
        warnings += d.warnings
    return MSEResult(
        method=method, lists=list(table.names), observed=table.n, estimate=float(point),
        interval=(float(interval[0]), float(interval[1])),
        interval_type="posterior credible interval", level=level, model=model, terms=[],
        minus_infinity_terms=[], checks={}, fit=fit, settings=settings, details=details,
        warnings=warnings, source=table.source, data_version=table.fingerprint())


DEFAULT_SENSITIVITY: tuple[tuple[str, dict[str, Any]], ...] = (
    ("main", {}),
    ("stepwise", {"pthresh": 0.001}),
    ("stepwise", {"pthresh": 0.02}),
    ("stepwise", {"pthresh": 0.05}),
    ("aic-stepwise", {}),
    ("bic", {}),
    ("downhill", {}),
    ("rcapture-M0", {}),
    ("rcapture-Mth-Chao", {}),
    ("rcapture-Mth-Darroch", {}),
    ("rcapture-Mth-Poisson2", {}),
)


def sensitivity_table(
    table: CaptureTable,
    methods: Sequence[tuple[str, dict[str, Any]]] = DEFAULT_SENSITIVITY,
    nboot: int = 0,
    seed: int | None = 1234,
    level: float = 0.95,
    workers: int = 1,
) -> SensitivityTable:
    """Estimate the same table with several methods (the range of plausible estimates).

    ``nboot = 0`` (default) gives each method's model-conditional interval, which ignores
    model-selection uncertainty; set ``nboot`` for BCa intervals. BIC is skipped for more
    than 6 lists (and for 6 lists, where it fits 32,768 models, unless listed explicitly).
    """
    rows: list[dict[str, Any]] = []
    for method, kw in methods:
        label = method + "".join(f" {k}={v}" for k, v in kw.items())
        if method == "bic" and table.t > 5 and methods is DEFAULT_SENSITIVITY:
            rows.append({"method": label, "estimate": None, "lower": None, "upper": None,
                         "error": f"skipped for {table.t} lists (slow; run --method bic)"})
            continue
        try:
            r = estimate(table, method, nboot=nboot, seed=seed, level=level,
                         workers=workers, **kw)
        except EstimationError as exc:
            rows.append({"method": label, "estimate": None, "lower": None, "upper": None,
                         "error": str(exc)})
            continue
        rows.append({"method": label, "estimate": r.estimate, "lower": r.interval[0],
                     "upper": r.interval[1], "interval_type": r.interval_type,
                     "model": r.model, "aic": r.fit.get("aic"), "bic": r.fit.get("bic")})
    return SensitivityTable(rows, table.n, list(table.names), level)


def estimate_strata(
    tables: Any,
    method: str = "stepwise",
    min_n: int = 30,
    **kwargs: Any,
) -> StratifiedResult:
    """Run :func:`estimate` on every stratum of a :class:`StratifiedTables`.

    Non-informative lists are dropped per stratum (with a note); strata that cannot be
    estimated are reported with the reason instead of stopping the run.
    """
    out = []
    for key, tab in tables.items():
        sw: list[str] = list(tables.notes.get(_key_str(key), []))
        missing = [c for c, v in zip(tables.by, key, strict=True) if v is None]
        if missing:
            sw.append(f"{', '.join(missing)} not recorded: the persons whose "
                      f"{' and '.join(missing)} no list recorded. Lists differ in what they "
                      "record, so this stratum is not comparable with the others.")
        entry: dict[str, Any] = {"key": dict(zip(tables.by, key, strict=True)),
                                 "observed": tab.n, "warnings": sw}
        try:
            tab2, dropped = tab.remove_noninformative_lists()
            sw += [f"list dropped in this stratum: {d}" for d in dropped]
            res = estimate(tab2, method, **kwargs)
            sw += [w for w in res.warnings if w not in sw]
            entry["result"] = res
        except EstimationError as exc:
            entry["result"] = None
            entry["error"] = str(exc)
        sw += [w for w in sparse_warnings(tab, min_n) if w not in sw]
        out.append(entry)
    return StratifiedResult(list(tables.by), out, list(tables.warnings))


def _key_str(key: tuple[Any, ...]) -> str:
    return "|".join(str(k) for k in key)


__all__ = ["BAYESIAN", "METHODS", "Procedure", "estimate", "estimate_strata", "sensitivity_table",
           "sparse_warnings"]

