"""Vectorised date helpers on ``datetime64[D]`` arrays and year/month/day components.

Dates are formatted from their components (not with strftime), so an export can also hold
well-formed strings for impossible dates such as 30.02.2019 (an injected defect).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def split(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """datetime64[D] -> (year, month, day) int64 arrays."""
    d = dates.astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    years = months.astype("datetime64[Y]")
    y = years.astype(np.int64) + 1970
    m = (months - years).astype(np.int64) + 1
    day = (d - months).astype(np.int64) + 1
    return y, m, day


def days_in_month(y: np.ndarray, m: np.ndarray) -> np.ndarray:
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    return np.asarray(_MONTH_DAYS[m - 1] + ((m == 2) & leap))


def build(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(year, month, day) -> datetime64[D]; a day past the month's end is clamped."""
    d = np.minimum(d, days_in_month(y, m))
    months = ((y - 1970) * 12 + (m - 1)).astype("datetime64[M]")
    return np.asarray(months.astype("datetime64[D]") + (d - 1).astype("timedelta64[D]"))


def shift_years(dates: np.ndarray, years: np.ndarray) -> np.ndarray:
    y, m, d = split(dates)
    return build(y + years, m, d)


def whole_years(start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Completed years from ``start`` to ``end`` (the age the importer computes)."""
    sy, sm, sd = split(start)
    ey, em, ed = split(end)
    before = (em < sm) | ((em == sm) & (ed < sd))
    return np.asarray(ey - sy - before)


def _pad(values: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(values, pa.int64()), pa.string()), width, "0")


def format_parts(y: np.ndarray, m: np.ndarray, d: np.ndarray, fmt: str) -> pa.Array:
    """Format components with one of the strptime formats the exports use."""
    parts = {"%Y": _pad(y, 4), "%m": _pad(m, 2), "%d": _pad(d, 2)}
    layouts = {
        "%d.%m.%Y": ("%d", ".", "%m", ".", "%Y"),
        "%m/%d/%Y": ("%m", "/", "%d", "/", "%Y"),
        "%d/%m/%Y": ("%d", "/", "%m", "/", "%Y"),
        "%Y-%m-%d": ("%Y", "-", "%m", "-", "%d"),
    }
    if fmt not in layouts:
        raise ValueError(f"unsupported date format {fmt!r}")
    pieces: list[pa.Array | str] = [parts[p] if p.startswith("%") else p for p in layouts[fmt]]
    return pc.binary_join_element_wise(*pieces, "")


def format_dates(dates: np.ndarray, fmt: str, valid: np.ndarray | None = None) -> pa.Array:
    """Format datetime64[D] values; entries where ``valid`` is False become null."""
    y, m, d = split(dates)
    out = format_parts(y, m, d, fmt)
    if valid is not None:
        out = pc.if_else(pa.array(valid), out, pa.nulls(len(out), pa.string()))
    return out
