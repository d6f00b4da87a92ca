"""Predicting prevalence from covariates, evaluated only out of sample.

In the manner of Lavelle-Hill et al. (2021, "Machine learning methods for 'wicked' problems"):
a random forest and a regularised linear baseline (ridge regression, its penalty chosen by
efficient leave-one-out inside the training rows) predict an outcome (the
Global Slavery Index's prevalence, ``SLAVERY``, in ``walkfree_gsi/Data.csv``; or a region's
identification rate) from a unit's covariates.

* **Cross-validation is grouped**: every row of a unit (a country's 2016 and 2018 rows) is held
  out together (leave-one-group-out; plain leave-one-out when units do not repeat). Imputation
  (median) and scaling are fitted inside each fold, in a pipeline, so nothing of the held-out
  unit reaches the model. Only out-of-fold predictions are scored (R², MAE, Spearman); an
  in-sample fit is never reported as performance.
* **Permutation importance** on grouped out-of-bag rows of bootstrap resamples: the mean drop
  in R² when a covariate is shuffled, and its **stability** — the share of resamples in which
  it is among the ten most important.
* **Out-of-sample predictions** (``OOS_Data.csv``) from the model fitted on all rows, with an
  interval from the absolute out-of-fold residuals (their ``level`` quantile either side, a
  split-conformal interval; clipped at 0).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from tiplab.analysis.errors import AnalysisError
from tiplab.analysis.results import AnalysisResult

FloatArray = npt.NDArray[np.float64]
MODELS = ("forest", "ridge")


@dataclass(frozen=True)
class PredictSettings:
    target: str = "SLAVERY"
    #: rows with the same value are held out together
    group: str = "Country"
    #: columns that are neither covariates nor the target
    exclude: tuple[str, ...] = ("Country", "Data_year", "Region", "Unnamed: 0")
    models: tuple[str, ...] = MODELS
    trees: int = 300
    resamples: int = 20
    level: float = 0.9
    seed: int = 1234

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["exclude"] = list(self.exclude)
        d["models"] = list(self.models)
        return d


def _model(name: str, s: PredictSettings) -> Any:
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if name == "forest":
        est: Any = RandomForestRegressor(n_estimators=s.trees, min_samples_leaf=2,
                                         random_state=s.seed, n_jobs=1)
    elif name == "ridge":
        est = RidgeCV(alphas=np.logspace(-2, 4, 25))
    else:
        raise AnalysisError(f"unknown model {name!r} (use {', '.join(MODELS)})")
    return make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), est)


@dataclass
class Design:
    x: FloatArray
    y: FloatArray
    groups: list[str]
    features: list[str]
    ids: list[str] = field(default_factory=list)


def design(table: pa.Table, s: PredictSettings, *, need_target: bool = True,
           features: Sequence[str] | None = None) -> Design:
    cols = table.column_names
    if need_target and s.target not in cols:
        raise AnalysisError(f"the target column {s.target!r} is not in the table")
    if s.group not in cols:
        raise AnalysisError(f"the group column {s.group!r} is not in the table")
    if features is None:
        def numeric(c: str) -> bool:
            t = table.schema.field(c).type
            return bool(pa.types.is_integer(t) or pa.types.is_floating(t))

        features = [c for c in cols if c not in s.exclude and c not in (s.target, s.group)
                    and numeric(c)]
    missing = [c for c in features if c not in cols]
    if missing:
        raise AnalysisError(f"covariate(s) {', '.join(missing)} are not in the table")
    if not features:
        raise AnalysisError("no numeric covariate in the table")
    x = np.column_stack([np.asarray(table.column(c).to_numpy(zero_copy_only=False),
                                    dtype=np.float64) for c in features])
    y = (np.asarray(table.column(s.target).to_numpy(zero_copy_only=False), dtype=np.float64)
         if need_target else np.full(len(x), np.nan))
    if need_target and np.isnan(y).any():
        raise AnalysisError(f"{int(np.isnan(y).sum())} row(s) have no {s.target}: drop them")
    groups = [str(g) for g in table.column(s.group).to_pylist()]
    ids = groups
    if "Data_year" in cols:
        ids = [f"{g} {y_}" for g, y_ in zip(groups, table.column("Data_year").to_pylist(),
                                           strict=True)]
    return Design(x, y, groups, list(features), ids)


def out_of_fold(d: Design, make: Callable[[], Any]) -> tuple[FloatArray, list[tuple[Any, Any]]]:
    """Predictions of every row by a model that never saw its group; also the folds."""
    from sklearn.model_selection import LeaveOneGroupOut

    pred = np.empty(len(d.y))
    folds = []
    for train, test in LeaveOneGroupOut().split(d.x, d.y, groups=d.groups):
        m = make()
        m.fit(d.x[train], d.y[train])
        pred[test] = m.predict(d.x[test])
        folds.append((train, test))
    return pred, folds


def _scores(y: FloatArray, pred: FloatArray) -> dict[str, float]:
    from scipy.stats import spearmanr

    ss_res = float(((y - pred) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {"r2": 1 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
            "mae": float(np.abs(y - pred).mean()),
            "spearman": (float(spearmanr(y, pred).statistic)
                         if np.ptp(pred) > 0 and np.ptp(y) > 0 else float("nan"))}


def _r2(y: FloatArray, pred: FloatArray) -> FloatArray:
    """R² of each row of ``pred`` (blocks x rows) against ``y``."""
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return np.asarray(1.0 - ((pred - y) ** 2).sum(axis=-1) / ss_tot, dtype=np.float64)


def importance(d: Design, make: Callable[[], Any], s: PredictSettings,
               repeats: int = 3) -> pa.Table:
    """Permutation importance on grouped out-of-bag rows of bootstrap resamples: the drop in
    R² when one covariate is shuffled (every covariate's shuffled copy predicted in one call)."""
    rng = np.random.default_rng(s.seed)
    unique = sorted(set(d.groups))
    g = np.asarray(d.groups)
    nf = len(d.features)
    imp = np.full((s.resamples, nf), np.nan)
    for b in range(s.resamples):
        chosen = rng.choice(unique, size=len(unique), replace=True)
        train_rows = np.concatenate([np.flatnonzero(g == u) for u in chosen])
        test = ~np.isin(g, chosen)
        if test.sum() < 3 or np.ptp(d.y[test]) == 0:
            continue
        m = make()
        m.fit(d.x[train_rows], d.y[train_rows])
        xt, yt = d.x[test], d.y[test]
        base = float(_r2(yt, m.predict(xt)[None, :])[0])
        drops = np.zeros(nf)
        for _ in range(repeats):
            big = np.repeat(xt[None, :, :], nf, axis=0)
            for f in range(nf):
                big[f, :, f] = rng.permutation(xt[:, f])
            pred = m.predict(big.reshape(-1, nf)).reshape(nf, -1)
            drops += base - _r2(yt, pred)
        imp[b] = drops / repeats
    imp = imp[~np.isnan(imp).any(axis=1)]
    if len(imp) == 0:
        raise AnalysisError("no bootstrap resample left enough units out of bag for "
                            "permutation importance")
    top = np.argsort(-imp, axis=1)[:, :10]
    in_top = np.zeros(nf)
    for row in top:
        in_top[row] += 1
    order = np.argsort(-imp.mean(axis=0))
    sd = imp.std(axis=0, ddof=1) if len(imp) > 1 else np.zeros(nf)
    return pa.table({
        "covariate": [d.features[i] for i in order],
        "importance": imp.mean(axis=0)[order].tolist(),
        "importance_sd": sd[order].tolist(),
        "top10_share": (in_top / len(imp))[order].tolist()})


def _maker(name: str, s: PredictSettings) -> Callable[[], Any]:
    return lambda: _model(name, s)


def predict_prevalence(table: pa.Table, settings: PredictSettings | None = None, *,
                       new: pa.Table | None = None,
                       estimator: Callable[[], Any] | None = None) -> AnalysisResult:
    """Cross-validated performance of each model, the importance of the covariates for the
    best one (by out-of-fold R²), and predictions with intervals for ``new`` rows.

    ``estimator``: a factory replacing the models (tests)."""
    s = settings or PredictSettings()
    d = design(table, s)
    if len(set(d.groups)) < 5:
        raise AnalysisError(f"cross-validation needs at least 5 units; the table has "
                            f"{len(set(d.groups))}")
    names = ["custom"] if estimator is not None else list(s.models)
    makers: dict[str, Callable[[], Any]] = {}
    for n in names:
        makers[n] = estimator if estimator is not None else _maker(n, s)
    perf: list[dict[str, Any]] = []
    preds: dict[str, FloatArray] = {}
    for n, make in makers.items():
        pred, _folds = out_of_fold(d, make)
        preds[n] = pred
        perf.append({"model": n, **_scores(d.y, pred),
                     "folds": len(set(d.groups)), "rows": len(d.y)})
    best = str(max(perf, key=lambda r: float(r["r2"]))["model"])
    residual = np.abs(d.y - preds[best])
    q = float(np.quantile(residual, s.level))
    tables = {"performance": pa.Table.from_pylist(perf),
              "out_of_fold": pa.table({"unit": d.ids, "observed": d.y.tolist(),
                                       **{f"pred_{n}": p.tolist() for n, p in preds.items()}})}
    if estimator is None:
        tables["importance"] = importance(d, makers[best], s)
    if new is not None:
        nd = design(new, s, need_target=False, features=d.features)
        m = makers[best]()
        m.fit(d.x, d.y)
        p = m.predict(nd.x)
        tables["predictions"] = pa.table({
            "unit": nd.ids, "predicted": p.tolist(),
            "low": np.maximum(p - q, 0).tolist(), "high": (p + q).tolist(),
            **({"published": new.column(s.target).to_pylist()} if s.target in
               new.column_names else {})})
    h = hashlib.sha256()
    h.update(d.x.tobytes())
    h.update(d.y.tobytes())
    return AnalysisResult(
        kind="prevalence_model", tables=tables,
        data_version="file-sha256:" + h.hexdigest()[:12],
        parameters={**s.to_dict(), "best_model": best, "interval_halfwidth": q,
                    "covariates": len(d.features)},
        notes=[f"grouped cross-validation: every row of a {s.group} held out together "
               f"({len(set(d.groups))} folds); imputation and scaling fitted inside each fold; "
               "performance is out-of-fold only",
               f"prediction interval: +/- the {s.level:.0%} quantile of the absolute "
               f"out-of-fold residuals of {best} ({q:.3g})"])
