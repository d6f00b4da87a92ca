"""The result of an impact evaluation: estimate, interval, assumptions in words, chart data.

One frozen object per evaluation, rendered to text (:meth:`ImpactResult.summary`) and JSON
(:meth:`ImpactResult.to_dict`), so the command line, the web page and notebooks show the same
numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tiplab import __version__


def _clean(v: Any) -> Any:
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, Mapping):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if hasattr(v, "item"):
        return _clean(v.item())
    return v


@dataclass(frozen=True)
class Coefficient:
    """One named quantity with its standard error, interval and p-value (None = not defined)."""

    name: str
    estimate: float
    std_error: float | None = None
    conf_low: float | None = None
    conf_high: float | None = None
    p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(_clean(self.__dict__))


@dataclass(frozen=True)
class ImpactResult:
    """An impact estimate with everything needed to judge and re-run it.

    ``estimate`` is the effect on the outcome in its own units (treated minus counterfactual),
    averaged as ``estimand`` says. ``coefficients`` holds the other named quantities (level
    and slope change, event-time effects, aggregations); ``series`` holds plain rows for
    charts; ``checks`` the diagnostics (pre-trend test, pre-period fit); ``assumptions`` and
    ``caveats`` say in plain words what the number rests on and what looks weak in this data.
    """

    method: str
    label: str
    estimand: str
    estimate: float
    std_error: float | None
    conf_low: float | None
    conf_high: float | None
    p_value: float | None
    alpha: float
    inference: str
    assumptions: tuple[str, ...]
    caveats: tuple[str, ...]
    data_version: str
    parameters: Mapping[str, Any]
    n_units: int
    n_periods: int
    n_treated: int
    coefficients: tuple[Coefficient, ...] = ()
    checks: Mapping[str, Any] = field(default_factory=dict)
    series: Mapping[str, tuple[Mapping[str, Any], ...]] = field(default_factory=dict)

    def conf_int(self) -> tuple[float | None, float | None]:
        return (self.conf_low, self.conf_high)

    def coefficient(self, name: str) -> Coefficient:
        for c in self.coefficients:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (non-finite numbers become null)."""
        return dict(
            _clean(
                {
                    "method": self.method,
                    "label": self.label,
                    "estimand": self.estimand,
                    "estimate": self.estimate,
                    "std_error": self.std_error,
                    "interval": [self.conf_low, self.conf_high],
                    "confidence": 1 - self.alpha,
                    "p_value": self.p_value,
                    "inference": self.inference,
                    "assumptions": list(self.assumptions),
                    "caveats": list(self.caveats),
                    "checks": dict(self.checks),
                    "coefficients": [c.to_dict() for c in self.coefficients],
                    "series": {k: [dict(r) for r in v] for k, v in self.series.items()},
                    "data_version": self.data_version,
                    "parameters": dict(self.parameters),
                    "n_units": self.n_units,
                    "n_periods": self.n_periods,
                    "n_treated": self.n_treated,
                    "tiplab_version": __version__,
                }
            )
        )

    def summary(self) -> str:
        """A few lines of plain text: the estimate, its interval, then checks and caveats."""
        pct = f"{100 * (1 - self.alpha):g}%"
        lines = [f"{self.label} — {self.estimand}"]
        est = f"estimate {self.estimate:.4g}"
        if self.conf_low is not None and self.conf_high is not None:
            est += f", {pct} interval [{self.conf_low:.4g}, {self.conf_high:.4g}]"
        if self.p_value is not None:
            est += f", p = {self.p_value:.3g}"
        lines.append(est + f" ({self.inference})")
        lines.append(
            f"{self.n_units} units ({self.n_treated} treated), {self.n_periods} periods; "
            f"data version {self.data_version}"
        )
        for c in self.coefficients:
            ci = (
                f" [{c.conf_low:.4g}, {c.conf_high:.4g}]"
                if c.conf_low is not None and c.conf_high is not None
                else ""
            )
            lines.append(f"  {c.name}: {c.estimate:.4g}{ci}")
        for k, v in self.checks.items():
            lines.append(f"check {k}: {v:.4g}" if isinstance(v, float) else f"check {k}: {v}")
        lines += [f"assumes: {a}" for a in self.assumptions]
        lines += [f"caveat: {c}" for c in self.caveats]
        return "\n".join(lines)
