"""Forecasts and seasonality for count series (statsmodels GLMs).

Forecast: a log-linear Poisson GLM ``log E[y_t] = a + b t (+ log exposure)``, fitted with
Pearson-scaled (quasi-Poisson) standard errors. Prediction intervals are simulated (seeded):
coefficients are drawn from their estimated normal distribution, then counts from a Poisson
(or, when over-dispersed, a negative binomial with the estimated dispersion) around the drawn
mean, so the interval covers both the trend's uncertainty and the year-to-year noise.

Seasonality (monthly data): the same GLM with 11 month dummies is compared with the trend-only
model by an F test on the deviance difference scaled by the dispersion (McCullagh & Nelder,
*Generalized Linear Models*, 2nd ed., s. 12.6). The seasonal factors are ``exp`` of the month
effects, normalised to a geometric mean of 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import statsmodels.api as sm
from scipy import stats

from tiplab.analysis.errors import AnalysisError


@dataclass(frozen=True)
class Forecast:
    """Point forecasts and prediction intervals, ``h`` steps after the last period."""

    steps: list[int]
    mean: list[float]
    low: list[float]
    high: list[float]
    level: float
    slope: float
    slope_low: float
    slope_high: float
    dispersion: float
    method: str = "Poisson GLM log-linear trend (quasi-Poisson SE), simulated intervals"


@dataclass(frozen=True)
class Seasonality:
    """Month effects and the F test of 'no seasonality'."""

    factors: list[float]
    f_statistic: float
    p_value: float
    dispersion: float
    months: list[int] = field(default_factory=lambda: list(range(1, 13)))
    method: str = "Poisson GLM trend + month dummies vs trend, F test (quasi-Poisson)"


def _fit(y: npt.NDArray[np.float64], x: npt.NDArray[np.float64],
         offset: npt.NDArray[np.float64] | None) -> sm.GLM:
    model = sm.GLM(y, x, family=sm.families.Poisson(), offset=offset)
    return model.fit(scale="X2")


def forecast_counts(y: npt.ArrayLike, h: int = 3, *, level: float = 0.95,
                    exposure: npt.ArrayLike | None = None,
                    future_exposure: npt.ArrayLike | None = None,
                    n_sim: int = 4000, seed: int = 0) -> Forecast:
    """Forecast ``h`` further periods of a count series with a log-linear trend."""
    arr = np.asarray(y, dtype=np.float64)
    if arr.size < 3:
        raise AnalysisError(f"a forecast needs at least 3 periods, got {arr.size}")
    if h < 1:
        raise AnalysisError("forecast horizon must be at least 1")
    t = np.arange(arr.size, dtype=np.float64)
    x = sm.add_constant(t - t.mean(), has_constant="add")
    off = None if exposure is None else np.log(np.asarray(exposure, np.float64))
    if arr.sum() == 0:
        zeros = [0.0] * h
        return Forecast(list(range(1, h + 1)), zeros, zeros, zeros, level, 0.0, 0.0, 0.0, 1.0)
    res = _fit(arr, x, off)
    phi = max(float(res.scale), 1.0)
    tf = np.arange(arr.size, arr.size + h, dtype=np.float64) - t.mean()
    xf = np.column_stack([np.ones(h), tf])
    if future_exposure is not None:
        off_f = np.log(np.asarray(future_exposure, np.float64))
    elif off is not None:
        off_f = np.full(h, off[-1])
    else:
        off_f = np.zeros(h)
    rng = np.random.default_rng(seed)
    beta = rng.multivariate_normal(np.asarray(res.params), np.asarray(res.cov_params()),
                                   size=n_sim)
    mu = np.exp(beta @ xf.T + off_f)
    if phi > 1.0 + 1e-9:
        draws = rng.negative_binomial(mu / (phi - 1.0), 1.0 / phi)
    else:
        draws = rng.poisson(mu)
    a = (1 - level) / 2
    point = np.exp(xf @ np.asarray(res.params) + off_f)
    ci = np.asarray(res.conf_int(alpha=1 - level))
    return Forecast(
        steps=list(range(1, h + 1)), mean=[float(v) for v in point],
        low=[float(v) for v in np.quantile(draws, a, axis=0)],
        high=[float(v) for v in np.quantile(draws, 1 - a, axis=0)],
        level=level, slope=float(res.params[1]), slope_low=float(ci[1, 0]),
        slope_high=float(ci[1, 1]), dispersion=phi)


def seasonality_test(y: npt.ArrayLike, months: npt.ArrayLike) -> Seasonality:
    """Test monthly seasonality of counts ``y`` observed in calendar ``months`` (1-12)."""
    arr = np.asarray(y, dtype=np.float64)
    m = np.asarray(months, dtype=np.int64)
    if arr.size < 24:
        raise AnalysisError(f"a seasonality test needs at least 24 months, got {arr.size}")
    if arr.sum() == 0:
        raise AnalysisError("a seasonality test needs some non-zero counts")
    t = np.arange(arr.size, dtype=np.float64)
    base = np.column_stack([np.ones(arr.size), t - t.mean()])
    dummies = (m[:, None] == np.arange(2, 13)[None, :]).astype(np.float64)
    full = np.column_stack([base, dummies])
    r0 = sm.GLM(arr, base, family=sm.families.Poisson()).fit()
    r1 = _fit(arr, full, None)
    phi = max(float(r1.scale), 1.0)
    df1 = dummies.shape[1]
    df2 = arr.size - full.shape[1]
    f = float((r0.deviance - r1.deviance) / df1 / phi)
    p = float(stats.f.sf(f, df1, df2))
    eff = np.concatenate([[0.0], np.asarray(r1.params)[2:]])
    eff -= eff.mean()
    return Seasonality(factors=[float(v) for v in np.exp(eff)], f_statistic=f, p_value=p,
                       dispersion=phi)
