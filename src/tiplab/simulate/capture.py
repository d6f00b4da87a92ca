"""Capture: which agencies register which victims, when, and how often.

See :mod:`tiplab.simulate.capture_model` for the model. The result is one row per *record*
an agency holds: duplicate intakes (the same victim registered twice by one agency under two
record ids) are extra rows with ``duplicate_intake`` set.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tiplab.simulate import dates as D
from tiplab.simulate.capture_model import CaptureSettings
from tiplab.simulate.country import Country
from tiplab.simulate.errors import SimulationError
from tiplab.simulate.population import Population
from tiplab.simulate.rng import stream
from tiplab.simulate.settings import MeasureSettings


@dataclass
class Captures:
    """Records per agency (parallel arrays), sorted by agency, registration date, victim."""

    agency: np.ndarray  # index into agencies
    victim: np.ndarray  # 0-based victim index
    registered: np.ndarray  # datetime64[D]
    referred: np.ndarray  # captured through a referral
    duplicate_intake: np.ndarray
    agencies: tuple[str, ...]
    probability: np.ndarray  # n_victims x n_agencies: primary capture probability (truth)
    seen: np.ndarray  # n_victims x n_agencies: captured at least once (truth)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-x)))


def capture(
    pop: Population,
    country: Country,
    agencies: tuple[str, ...],
    model: CaptureSettings,
    *,
    duplicate_rate: float,
    duplicate_lag_days: float,
    end: np.datetime64,
    seed: int,
    measure: MeasureSettings | None = None,
) -> Captures:
    missing = [a for a in agencies if a not in model.agencies]
    if missing:
        raise SimulationError(f"no capture model for agencies {missing}")
    rng = stream(seed, "capture")
    n, k = pop.n, len(agencies)
    groups = np.array(["SexualExploitation", "ForcedLabour", "Other"])[pop.form_group]
    prob = np.zeros((n, k))
    for j, name in enumerate(agencies):
        am = model.agencies[name]
        lin = np.full(n, am.base)
        for level, eff in am.form.items():
            lin += eff * (groups == level)
        sex_names = np.array(pop.sex_levels)[pop.sex]
        for level, eff in am.sex.items():
            lin += eff * (sex_names == level)
        lin += am.minor * pop.minor + am.foreign * pop.foreign
        lin += np.log(country.enforcement[am.enforcement])[pop.region]
        lin += am.visibility * pop.visibility
        prob[:, j] = _sigmoid(lin)
        if am.domestic_excluded:
            prob[~pop.foreign, j] = 0.0
    if measure is not None:
        # Applied after all draws' inputs are fixed and before the draws, so a run with the
        # measure and one without share every random number (the counterfactual is exact).
        codes = np.array(country.codes)
        hit = np.isin(codes[pop.region], measure.regions) & (
            D.split(pop.identified)[0] >= measure.year
        )
        cols = [j for j, a in enumerate(agencies) if not measure.agencies or a in measure.agencies]
        for j in cols:
            prob[hit, j] = np.minimum(prob[hit, j] * measure.factor, 1.0)
    seen = rng.random((n, k)) < prob
    lag = np.array([model.agencies[a].lag_days for a in agencies])
    date = pop.identified[:, None] + np.floor(rng.exponential(1.0, (n, k)) * lag[None, :]).astype(
        "timedelta64[D]"
    )
    index = {a: j for j, a in enumerate(agencies)}
    for a, b in model.never_overlap:
        if a in index and b in index:
            seen[:, index[b]] &= ~seen[:, index[a]]
    referred = np.zeros((n, k), dtype=bool)
    for ref in model.referrals:
        if ref.source not in index or ref.target not in index:
            continue
        s, t = index[ref.source], index[ref.target]
        new = seen[:, s] & ~seen[:, t] & (rng.random(n) < ref.p)
        blocked = np.zeros(n, dtype=bool)
        for a, b in model.never_overlap:  # a referral never creates a forbidden overlap
            if ref.target in (a, b):
                other = b if ref.target == a else a
                if other in index:
                    blocked |= seen[:, index[other]]
        new &= ~blocked
        seen[:, t] |= new
        referred[:, t] |= new
        ref_lag = np.floor(rng.exponential(model.referral_lag_days, n)).astype("timedelta64[D]")
        date[new, t] = date[new, s] + ref_lag[new]
    date = np.minimum(date, end)
    victim, agency = np.nonzero(seen)
    registered = date[victim, agency]
    was_referred = referred[victim, agency]
    # Duplicate intakes: a second record, later, under a new record id.
    dup = rng.random(len(victim)) < duplicate_rate
    dup_date = np.minimum(
        registered[dup]
        + np.floor(rng.exponential(duplicate_lag_days, int(dup.sum()))).astype("timedelta64[D]"),
        end,
    )
    victim = np.concatenate([victim, victim[dup]])
    agency = np.concatenate([agency, agency[dup]])
    registered = np.concatenate([registered, dup_date])
    was_referred = np.concatenate([was_referred, was_referred[dup]])
    duplicate = np.concatenate(
        [np.zeros(len(dup), dtype=bool), np.ones(int(dup.sum()), dtype=bool)]
    )
    order = np.lexsort((duplicate, victim, registered, agency))
    return Captures(
        agency=agency[order],
        victim=victim[order],
        registered=registered[order],
        referred=was_referred[order],
        duplicate_intake=duplicate[order],
        agencies=agencies,
        probability=prob,
        seen=seen,
    )
