"""Population denominators for rates: simulated regions, Walk Free country data, plain CSV.

A population table has a ``population`` column, optionally a ``year`` column, and optionally
one key column named like the analysis column it matches (``region_of_exploitation`` for
regions, ``country`` for countries). When years are given, each analysis year takes the
population of the nearest available year (stated in the result's notes).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from tiplab.analysis.errors import InputDataError

REGION_KEY = "region_of_exploitation"


def population_from_regions(geojson: str | Path, key: str = REGION_KEY) -> pa.Table:
    """``code`` and ``population`` properties of a regions GeoJSON (the simulator writes them)."""
    try:
        feats = json.loads(Path(geojson).read_text(encoding="utf-8"))["features"]
        codes = [f["properties"]["code"] for f in feats]
        pops = [float(f["properties"]["population"]) for f in feats]
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InputDataError(f"{geojson}: cannot read region codes and populations "
                             f"(need properties 'code' and 'population'): {exc}") from exc
    return pa.table({key: codes, "population": pops})


def population_from_walkfree(path: str | Path) -> pa.Table:
    """Country-year population (urban + rural) from Walk Free ``Data.csv``/``OOS_Data.csv``."""
    from tiplab.records.countries import resolve_country

    try:
        df = pd.read_csv(path, usecols=["Country", "Data_year", "Urban_population",
                                        "Rural_population"])
    except (OSError, ValueError) as exc:
        raise InputDataError(f"{path}: not a Walk Free data file with Country, Data_year, "
                             f"Urban_population, Rural_population: {exc}") from exc
    df["country"] = df["Country"].map(lambda s: resolve_country(str(s)))
    df["population"] = df["Urban_population"] + df["Rural_population"]
    df = df.dropna(subset=["country", "population"])
    out = df.rename(columns={"Data_year": "year"})[["country", "year", "population"]]
    return pa.Table.from_pandas(out.reset_index(drop=True), preserve_index=False)


def load_population(path: str | Path) -> pa.Table:
    """A population CSV (``population`` plus key/year columns) or a Walk Free data file."""
    p = Path(path)
    if p.suffix.lower() in (".geojson", ".json"):
        return population_from_regions(p)
    try:
        head = p.open(encoding="utf-8").readline()
    except OSError as exc:
        raise InputDataError(f"{path}: cannot read population file: {exc}") from exc
    if "Urban_population" in head:
        return population_from_walkfree(p)
    table = pacsv.read_csv(p)
    if "population" not in table.column_names:
        raise InputDataError(f"{path}: a population CSV needs a 'population' column")
    return table


def attach_population(frame: pd.DataFrame, population: pa.Table | pd.DataFrame,
                      time_col: str) -> tuple[pd.DataFrame, list[str]]:
    """Add a ``population`` column to ``frame``; returns (frame, notes)."""
    pop = population.to_pandas() if isinstance(population, pa.Table) else population.copy()
    if "population" not in pop.columns:
        raise InputDataError("the population table needs a 'population' column")
    keys = [c for c in pop.columns if c in frame.columns and c not in ("population", "year")]
    notes = []
    if "year" in pop.columns:
        years = frame[time_col] if time_col == "year" else pd.to_datetime(
            frame[time_col]).dt.year
        left = frame.assign(_y=np.asarray(years, dtype=np.int64), _i=np.arange(len(frame)))
        m = left.merge(pop.rename(columns={"year": "_py"}), on=keys or None, how="left") \
            if keys else left.merge(pop.rename(columns={"year": "_py"}), how="cross")
        m["_d"] = (m["_y"] - m["_py"]).abs()
        m = m.sort_values(["_i", "_d"]).drop_duplicates("_i")
        if (m["_d"] > 0).any():
            notes.append("population of the nearest available year used where the year "
                         "itself is missing")
        out = frame.copy()
        out["population"] = m.set_index("_i")["population"].reindex(
            np.arange(len(frame))).to_numpy()
    elif keys:
        out = frame.merge(pop[[*keys, "population"]], on=keys, how="left")
    else:
        out = frame.copy()
        out["population"] = float(pop["population"].sum())
        notes.append("one population total used for every period")
    if out["population"].isna().any():
        notes.append("rates are missing where no population was found")
    return out, notes
