"""Panels with a known effect, for checking the estimators (tests, benchmarks, demos).

``y_it = a_i + l_t + tau_it D_it + e_it`` with unit effects ``a_i ~ N(0, 1)``, a common trend
``l_t = 0.1 t + N(0, 0.5^2)``, AR(1) errors within each unit (``rho``, innovation sd
``sigma``) and an effect ``tau_it = effect + growth * (t - g_i)`` from the adoption period
``g_i`` on. The true average effect on the treated (over treated unit-periods since adoption)
is returned with the panel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SimulatedPanel:
    frame: pd.DataFrame  # columns unit, time, y
    adoption: dict[str, int]
    true_att: float  # mean effect over treated unit-periods since adoption
    true_event: dict[int, float]  # mean effect by event time (>= 0)


def simulate_panel(
    *,
    n_units: int = 40,
    n_periods: int = 12,
    cohorts: Sequence[int] = (7,),
    treated_share: float = 0.5,
    effect: float = 1.0,
    growth: float = 0.0,
    rho: float = 0.0,
    sigma: float = 1.0,
    seed: int = 0,
) -> SimulatedPanel:
    """A balanced panel; ``cohorts`` are adoption periods (1-based), split evenly among the
    treated units; the rest are never treated."""
    rng = np.random.default_rng(seed)
    n_tr = round(n_units * treated_share)
    g = np.full(n_units, np.nan)
    g[:n_tr] = np.resize(np.asarray(cohorts, dtype=float), n_tr)
    t = np.arange(1, n_periods + 1, dtype=float)
    e = np.empty((n_units, n_periods))
    e[:, 0] = rng.normal(0, sigma / np.sqrt(max(1 - rho**2, 1e-9)), n_units)
    for j in range(1, n_periods):
        e[:, j] = rho * e[:, j - 1] + rng.normal(0, sigma, n_units)
    a = rng.normal(0, 1, n_units)[:, None]
    lt = (0.1 * t + rng.normal(0, 0.5, n_periods))[None, :]
    on = np.isfinite(g)[:, None] & (t[None, :] >= g[:, None])
    tau = np.where(on, effect + growth * (t[None, :] - np.nan_to_num(g)[:, None]), 0.0)
    y = a + lt + tau + e
    units = [f"U{i:03d}" for i in range(n_units)]
    frame = pd.DataFrame({
        "unit": np.repeat(units, n_periods),
        "time": np.tile(t.astype(int), n_units),
        "y": y.reshape(-1),
    })
    rel = t[None, :] - np.nan_to_num(g)[:, None]
    events = {int(k): float(tau[on & (rel == k)].mean()) for k in np.unique(rel[on])}
    return SimulatedPanel(
        frame=frame,
        adoption={units[i]: int(g[i]) for i in range(n_tr)},
        true_att=float(tau[on].mean()),
        true_event=events,
    )
