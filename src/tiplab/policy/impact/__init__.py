"""Impact evaluation of a plan measure: "measure M started in region(s) R at time T".

Five methods on a long panel (one row per region and period):

* ``its`` — interrupted time series (segmented regression, Newey-West errors);
* ``did`` — difference-in-differences, two-way fixed effects, errors clustered by region;
* ``event`` — event study (leads and lags, reference -1) with a pre-trend test;
* ``cs`` — Callaway & Sant'Anna (2021) for staggered adoption;
* ``synth`` — synthetic control with placebo-in-space inference.

Usage::

    from tiplab.policy.impact import ImpactSettings, evaluate
    s = ImpactSettings(method="did", unit="region", time="year", outcome="identified",
                       treated=("XT-03", "XT-07"), start=2021)
    result = evaluate(frame, s)          # an ImpactResult
    result.summary(); result.to_dict(); result.conf_int()

See ``docs/impact.md`` for the methods, their assumptions and their validation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from tiplab.policy.impact.cs import callaway_santanna
from tiplab.policy.impact.did import event_study, twfe
from tiplab.policy.impact.errors import ImpactError
from tiplab.policy.impact.its import its
from tiplab.policy.impact.panel import Panel, adoption_map, build_panel
from tiplab.policy.impact.results import Coefficient, ImpactResult
from tiplab.policy.impact.synth import simplex_weights, synthetic_control

Method = Literal["its", "did", "event", "cs", "synth"]
METHODS: tuple[str, ...] = ("its", "did", "event", "cs", "synth")


@dataclass(frozen=True)
class ImpactSettings:
    """Everything an evaluation depends on; round-trips through :meth:`to_dict`.

    ``treated`` names the treated units (all starting in ``start``); for staggered adoption
    give ``adoption`` instead (unit -> first treated period).
    """

    method: Method
    unit: str = "region"
    time: str = "year"
    outcome: str = "y"
    treated: tuple[str, ...] = ()
    start: int | None = None
    adoption: Mapping[str, int] = field(default_factory=dict)
    alpha: float = 0.05
    control: Literal["never", "notyet"] = "never"  # cs
    window: tuple[int, int] | None = None  # event
    series: str = "treated"  # its: treated | all | a unit
    aggregate: Literal["sum", "mean"] = "sum"  # its
    season: int | None = None  # its
    lags: int | None = None  # its
    placebo: bool = True  # synth

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ImpactError(f"method {self.method!r}: choose one of {', '.join(METHODS)}")
        if not 0 < self.alpha < 1:
            raise ImpactError(f"alpha {self.alpha}: must lie between 0 and 1")

    def adoption_of(self) -> dict[str, int]:
        if self.adoption:
            return adoption_map(self.adoption, None)
        return adoption_map(self.treated, self.start)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["treated"] = list(self.treated)
        d["adoption"] = dict(self.adoption)
        d["window"] = list(self.window) if self.window else None
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImpactSettings:
        d = dict(data)
        d["treated"] = tuple(d.get("treated") or ())
        if d.get("window") is not None:
            d["window"] = tuple(d["window"])
        return cls(**d)


def evaluate(
    frame: pd.DataFrame,
    settings: ImpactSettings,
    *,
    data_version: str | None = None,
    source: str = "panel",
) -> ImpactResult:
    """Check the panel and run the method ``settings.method``; see the method functions."""
    panel = build_panel(
        frame,
        unit=settings.unit,
        time=settings.time,
        outcome=settings.outcome,
        adoption=settings.adoption_of(),
        source=source,
        data_version=data_version,
    )
    params = settings.to_dict()
    m = settings.method
    try:
        if m == "its":
            return its(panel, series=settings.series, aggregate=settings.aggregate,
                       season=settings.season, lags=settings.lags, alpha=settings.alpha,
                       parameters=params)
        if m == "did":
            return twfe(panel, alpha=settings.alpha, parameters=params)
        if m == "event":
            return event_study(panel, alpha=settings.alpha, window=settings.window,
                               parameters=params)
        if m == "cs":
            return callaway_santanna(panel, control=settings.control, alpha=settings.alpha,
                                     parameters=params)
        return synthetic_control(panel, placebo=settings.placebo, parameters=params)
    except ValueError as exc:
        raise ImpactError(f"{m}: {exc}") from exc


__all__ = [
    "METHODS",
    "Coefficient",
    "ImpactError",
    "ImpactResult",
    "ImpactSettings",
    "Panel",
    "build_panel",
    "callaway_santanna",
    "evaluate",
    "event_study",
    "its",
    "simplex_weights",
    "synthetic_control",
    "twfe",
]
