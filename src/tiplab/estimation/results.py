"""Result objects: one object renders the same numbers to text, HTML, JSON and data frames."""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

from tiplab import __version__
from tiplab.estimation.bootstrap import BootstrapResult


def _num(x: float | None, nd: int = 0) -> str:
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:,.{nd}f}"


def _clean(obj: Any) -> Any:
    """Replace non-finite floats by None so the output is strict JSON."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if hasattr(obj, "item"):
        return _clean(obj.item())
    return obj


@dataclass
class MSEResult:
    """A population estimate by multiple systems estimation, with how it was computed.

    Standard names: ``estimate`` (total population N), ``conf_int(level)``, ``summary()``;
    ``to_dict()`` / ``to_json()`` / ``to_html()`` / ``to_frame()`` render the same numbers.
    """

    method: str
    lists: list[str]
    observed: int
    estimate: float
    interval: tuple[float, float]
    interval_type: str
    level: float
    model: str
    terms: list[str]
    minus_infinity_terms: list[str]
    checks: dict[str, Any]
    fit: dict[str, Any]
    settings: dict[str, Any]
    intervals: dict[str, tuple[float, float]] = field(default_factory=dict)
    bootstrap: BootstrapResult | None = None
    details: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    source: str = ""
    data_version: str = ""
    version: str = __version__

    @property
    def dark_figure(self) -> float:
        """Estimated number of cases seen by no list."""
        return self.estimate - self.observed

    def conf_int(self, level: float | None = None) -> tuple[float, float]:
        """Interval at ``level`` (default: the level the result was computed at).

        BCa when the result has a bootstrap, otherwise the method's model-conditional
        interval (only available at the computed level).
        """
        if level is None or abs(level - self.level) < 1e-12:
            return self.interval
        if self.bootstrap is not None:
            return self.bootstrap.interval(level)
        key = f"{self.interval_type} {level:g}"
        if key in self.intervals:
            return self.intervals[key]
        raise ValueError(f"no interval at level {level}; re-run with level={level}.")

    # ------------------------------------------------------------------ rendering
    def to_dict(self, include_replicates: bool = False) -> dict[str, Any]:
        """JSON-serialisable dict (non-finite numbers become null)."""
        out: dict[str, Any] = {
            "method": self.method,
            "lists": self.lists,
            "observed": self.observed,
            "estimate": self.estimate,
            "dark_figure": self.dark_figure,
            "interval": list(self.interval),
            "interval_type": self.interval_type,
            "level": self.level,
            "model": self.model,
            "terms": self.terms,
            "minus_infinity_terms": self.minus_infinity_terms,
            "checks": self.checks,
            "fit": self.fit,
            "intervals": {k: list(v) for k, v in self.intervals.items()},
            "bootstrap": (self.bootstrap.to_dict(include_replicates)
                          if self.bootstrap is not None else None),
            "details": self.details,
            "settings": self.settings,
            "warnings": self.warnings,
            "source": self.source,
            "data_version": self.data_version,
            "tiplab_version": self.version,
        }
        cleaned: dict[str, Any] = _clean(out)
        return cleaned

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def summary(self) -> str:
        """Plain-text report."""
        lo, hi = self.interval
        lines = [
            f"Multiple systems estimate - method: {self.method}",
            f"  lists ({len(self.lists)}): {', '.join(self.lists)}",
            f"  observed cases:        {self.observed:,}",
            f"  estimated population:  {_num(self.estimate)}",
            f"  dark figure:           {_num(self.dark_figure)}",
            f"  {self.level:.0%} interval:          {_num(lo)} - {_num(hi)}"
            f"  ({self.interval_type})",
            f"  model:                 {self.model}",
            f"  two-list and higher terms: {', '.join(self.terms) or 'none (main effects)'}",
            f"  -inf terms (no overlap):   {', '.join(self.minus_infinity_terms) or 'none'}",
        ]
        fit = self.fit
        if fit.get("deviance") is not None:
            lines.append(
                f"  fit: deviance {_num(fit.get('deviance'), 2)} on {fit.get('df')} df, "
                f"AIC {_num(fit.get('aic'), 2)}, BIC {_num(fit.get('bic'), 2)}, "
                f"converged {fit.get('converged')}")
        if self.bootstrap is not None:
            b = self.bootstrap
            lines.append(
                f"  bootstrap: {b.replicates.size} of {b.n_requested} replicates used "
                f"({b.n_dropped} dropped), seed {b.seed}, acceleration {b.ahat:.4f}")
        for k, (a, c) in self.intervals.items():
            lines.append(f"  {k}: {_num(a)} - {_num(c)}")
        for w in self.warnings:
            lines.append(f"  warning: {w}")
        lines.append(f"  tiplab {self.version}; data {self.data_version}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_html(self) -> str:
        """Self-contained HTML fragment (a table)."""
        lo, hi = self.interval
        rows = [
            ("Method", self.method),
            ("Lists", ", ".join(self.lists)),
            ("Observed cases", f"{self.observed:,}"),
            ("Estimated population", _num(self.estimate)),
            ("Dark figure", _num(self.dark_figure)),
            (f"{self.level:.0%} interval ({self.interval_type})", f"{_num(lo)} - {_num(hi)}"),
            ("Model", self.model),
            ("Terms", ", ".join(self.terms) or "main effects only"),
            ("-inf terms", ", ".join(self.minus_infinity_terms) or "none"),
            ("Deviance / df", f"{_num(self.fit.get('deviance'), 2)} / {self.fit.get('df')}"),
            ("AIC / BIC", f"{_num(self.fit.get('aic'), 2)} / {_num(self.fit.get('bic'), 2)}"),
        ]
        body = "".join(
            f"<tr><th>{html.escape(str(a))}</th><td>{html.escape(str(b))}</td></tr>"
            for a, b in rows)
        warn = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings)
        return (f'<table class="mse-result">{body}</table>'
                + (f'<ul class="mse-warnings">{warn}</ul>' if warn else ""))

    def to_frame(self) -> Any:
        """One-row pandas DataFrame."""
        import pandas as pd

        lo, hi = self.interval
        return pd.DataFrame([{
            "method": self.method, "observed": self.observed, "estimate": self.estimate,
            "lower": lo, "upper": hi, "interval_type": self.interval_type,
            "model": self.model, "aic": self.fit.get("aic"), "bic": self.fit.get("bic"),
        }])


@dataclass
class SensitivityTable:
    """Estimates of one table by several methods - the "range of plausible estimates"."""

    rows: list[dict[str, Any]]
    observed: int
    lists: list[str]
    level: float = 0.95
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = _clean({
            "observed": self.observed, "lists": self.lists, "level": self.level,
            "rows": self.rows, "tiplab_version": self.version})
        return cleaned

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame(self.rows)

    def range(self) -> tuple[float, float]:
        """Smallest and largest point estimate across methods."""
        ests = [r["estimate"] for r in self.rows
                if r.get("estimate") is not None and math.isfinite(r["estimate"])]
        return (min(ests), max(ests)) if ests else (math.nan, math.nan)

    def summary(self) -> str:
        head = f"{'method':<22}{'estimate':>12}{'lower':>12}{'upper':>12}  interval / model"
        lines = [f"Sensitivity of the estimate ({self.observed:,} observed cases)", head]
        for r in self.rows:
            if r.get("error"):
                lines.append(f"{r['method']:<22}{'-':>12}{'-':>12}{'-':>12}  {r['error']}")
                continue
            lines.append(
                f"{r['method']:<22}{_num(r['estimate']):>12}{_num(r['lower']):>12}"
                f"{_num(r['upper']):>12}  {r['interval_type']}; {r['model']}")
        lo, hi = self.range()
        lines.append(f"range of point estimates: {_num(lo)} - {_num(hi)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_html(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in
                       ("Method", "Estimate", "Lower", "Upper", "Interval", "Model"))
        body = []
        for r in self.rows:
            cells = [r["method"], _num(r.get("estimate")), _num(r.get("lower")),
                     _num(r.get("upper")), r.get("interval_type") or r.get("error", ""),
                     r.get("model", "")]
            body.append("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells)
                        + "</tr>")
        return f'<table class="mse-sensitivity"><tr>{head}</tr>{"".join(body)}</table>'


@dataclass
class StratifiedResult:
    """Results per stratum (e.g. by year or region)."""

    by: list[str]
    strata: list[dict[str, Any]]  # {"key": {...}, "result": MSEResult | None, "error": str}
    warnings: list[str] = field(default_factory=list)

    def results(self) -> list[tuple[dict[str, Any], MSEResult]]:
        return [(s["key"], s["result"]) for s in self.strata if s.get("result") is not None]

    def to_dict(self) -> dict[str, Any]:
        out = []
        for s in self.strata:
            r = s.get("result")
            d: dict[str, Any] = {"stratum": s["key"], "observed": s.get("observed")}
            if r is not None:
                d.update(r.to_dict())
            else:
                d["error"] = s.get("error")
            d["stratum_warnings"] = s.get("warnings", [])
            out.append(d)
        cleaned: dict[str, Any] = _clean({"by": self.by, "strata": out,
                                          "warnings": self.warnings})
        return cleaned

    def to_frame(self) -> Any:
        import pandas as pd

        rows = []
        for s in self.strata:
            r = s.get("result")
            row = dict(s["key"])
            row["observed"] = s.get("observed")
            if r is not None:
                row.update(estimate=r.estimate, lower=r.interval[0], upper=r.interval[1],
                           model=r.model)
            else:
                row.update(estimate=None, lower=None, upper=None, model=None,
                           error=s.get("error"))
            rows.append(row)
        return pd.DataFrame(rows)

    def summary(self) -> str:
        lines = [f"Estimates by {', '.join(self.by)}"]
        for s in self.strata:
            key = ", ".join(f"{k}={v}" for k, v in s["key"].items())
            r = s.get("result")
            if r is None:
                lines.append(f"  {key}: n={s.get('observed')}  not estimated: {s.get('error')}")
            else:
                lines.append(f"  {key}: n={r.observed:,}  N={_num(r.estimate)}  "
                             f"[{_num(r.interval[0])}, {_num(r.interval[1])}]  {r.model}")
            for w in s.get("warnings", []):
                lines.append(f"      warning: {w}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()
