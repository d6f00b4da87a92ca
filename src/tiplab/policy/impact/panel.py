"""The long panel every method reads: one row per unit (region) and period, checked strictly.

Nothing is dropped or repaired: a missing column, a non-numeric outcome, a duplicated or
missing unit-period cell, or a treated unit absent from the panel is an :class:`ImpactError`
that names the row and column.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tiplab.policy.impact.errors import ImpactError


@dataclass(frozen=True)
class Panel:
    """A balanced panel: ``y[i, t]`` is the outcome of ``units[i]`` in ``times[t]``.

    ``adoption[i]`` is the first treated period of unit *i* (``nan`` = never treated).
    """

    units: tuple[str, ...]
    times: tuple[int, ...]
    y: np.ndarray
    adoption: np.ndarray
    data_version: str

    @property
    def treated(self) -> np.ndarray:
        return np.asarray(np.isfinite(self.adoption))

    @property
    def d(self) -> np.ndarray:
        """Treatment indicator ``d[i, t]`` (1 from the adoption period on)."""
        t = np.asarray(self.times, dtype=float)[None, :]
        a = self.adoption[:, None]
        return np.asarray(np.isfinite(a) & (t >= a), dtype=float)


def adoption_map(
    treated: Sequence[str] | Mapping[str, int], start: int | None
) -> dict[str, int]:
    """``treated`` as units with one ``start``, or a mapping unit -> first treated period."""
    if isinstance(treated, Mapping):
        out = {str(k): int(v) for k, v in treated.items()}
    else:
        if start is None:
            raise ImpactError(
                "no start period: give --start (the first period the measure was in force) "
                "or a start per treated unit"
            )
        out = {str(u): int(start) for u in treated}
    if not out:
        raise ImpactError("no treated unit: name the region(s) where the measure started")
    return out


def build_panel(
    frame: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    adoption: Mapping[str, int],
    source: str = "panel",
    data_version: str | None = None,
) -> Panel:
    """Check a long panel and return it as a units x periods matrix.

    Raises :class:`ImpactError` for a missing column, a non-numeric or missing outcome, a
    non-integer period, a repeated unit-period, an unbalanced panel or a treated unit that is
    not in the panel.
    """
    missing = [c for c in (unit, time, outcome) if c not in frame.columns]
    if missing:
        raise ImpactError(
            f"{source}: column(s) {', '.join(repr(c) for c in missing)} not found; the "
            f"columns are {', '.join(repr(str(c)) for c in frame.columns)} (choose them "
            "with --unit, --time and --outcome)"
        )
    df = frame[[unit, time, outcome]].copy()
    df[unit] = df[unit].astype(str)
    y = pd.to_numeric(df[outcome], errors="coerce")
    bad = y.isna() & df[outcome].notna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise ImpactError(
            f"{source}, row {i + 2}, column {outcome!r}: {df[outcome].iloc[i]!r} is not a "
            f"number ({int(bad.sum())} such row(s)); the outcome must be numeric"
        )
    if y.isna().any():
        i = int(np.flatnonzero(y.isna().to_numpy())[0])
        raise ImpactError(
            f"{source}, row {i + 2}, column {outcome!r}: the outcome is empty "
            f"({int(y.isna().sum())} such row(s)); fill it or remove the unit"
        )
    t = pd.to_numeric(df[time], errors="coerce")
    if t.isna().any() or (t != np.round(t)).any():
        i = int(np.flatnonzero((t.isna() | (t != np.round(t))).to_numpy())[0])
        raise ImpactError(
            f"{source}, row {i + 2}, column {time!r}: {df[time].iloc[i]!r} is not a whole "
            "period number (use years, or consecutive integers for months or quarters)"
        )
    df[outcome] = y.astype(float)
    df[time] = t.astype(np.int64)
    dup = df.duplicated([unit, time])
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        raise ImpactError(
            f"{source}, row {i + 2}: unit {df[unit].iloc[i]!r} has period "
            f"{int(df[time].iloc[i])} twice; one row per unit and period"
        )
    wide = df.pivot(index=unit, columns=time, values=outcome).sort_index(axis=0).sort_index(axis=1)
    if wide.isna().any().any():
        holes = [(str(u), int(c)) for u, c in zip(*np.nonzero(wide.isna().to_numpy()), strict=True)]
        u, c = holes[0]
        raise ImpactError(
            f"{source}: the panel is unbalanced: unit {wide.index[int(u)]!r} has no row for "
            f"period {wide.columns[int(c)]} ({len(holes)} missing unit-period cell(s)); "
            "every unit needs every period"
        )
    units = tuple(str(u) for u in wide.index)
    absent = sorted(set(adoption) - set(units))
    if absent:
        raise ImpactError(
            f"{source}: treated unit(s) {', '.join(repr(a) for a in absent)} not in column "
            f"{unit!r}; the units are {', '.join(repr(u) for u in units[:12])}"
            f"{' …' if len(units) > 12 else ''}"
        )
    adopt = np.array([float(adoption.get(u, np.nan)) for u in units])
    mat = wide.to_numpy(dtype=float)
    if data_version is None:
        h = hashlib.sha256()
        h.update(repr((units, tuple(int(c) for c in wide.columns))).encode())
        h.update(np.ascontiguousarray(mat).tobytes())
        data_version = "panel-sha256:" + h.hexdigest()[:12]
    return Panel(
        units=units,
        times=tuple(int(c) for c in wide.columns),
        y=mat,
        adoption=adopt,
        data_version=data_version,
    )


def pre_periods(panel: Panel) -> int:
    """Periods before the earliest adoption."""
    first = np.nanmin(panel.adoption)
    return int(np.sum(np.asarray(panel.times) < first))


def require_pre_periods(panel: Panel, minimum: int, method: str) -> int:
    n = pre_periods(panel)
    if n < minimum:
        raise ImpactError(
            f"too few pre-periods for {method}: {n} period(s) before the first adoption "
            f"({int(np.nanmin(panel.adoption))}); at least {minimum} are needed. Use a longer "
            "series or a later start"
        )
    if np.nanmax(panel.adoption) > max(panel.times):
        raise ImpactError(
            f"start {int(np.nanmax(panel.adoption))} is after the last period "
            f"{max(panel.times)}: there is no period with the measure in force"
        )
    return n


def require_controls(panel: Panel, method: str) -> None:
    if panel.treated.all():
        raise ImpactError(
            f"{method} needs comparison units that never adopted the measure; every unit "
            "in the panel is treated"
        )
