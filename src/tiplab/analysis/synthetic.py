"""Seeded, vectorised synthetic case tables with the snapshot's columns (tests, benchmarks).

Not a model of trafficking (that is :mod:`tiplab.simulate`); just realistic shapes: list
columns of 0-3 codes, skewed categories, dates over ``years``, an optional planted step in the
yearly volume, and region codes ``R-00 .. R-{regions-1}``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from tiplab.records.codes import (
    AGE_BANDS,
    EXPLOITATION_FORMS,
    LABOUR_SECTORS,
    MEANS_OF_CONTROL,
    RECRUITER_RELATION,
)

COUNTRIES = ("NGA", "ROU", "VNM", "ALB", "UKR", "CHN", "PHL", "BGR", "IND", "BRA", "MDA",
             "THA", "ERI", "SYR", "GBR", "DEU", "ITA", "ESP", "FRA", "NLD", "TUR", "LBY",
             "HUN", "POL", "MEX", "USA", "GRC", "SRB", "AUT", "BEL")


def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int, skew: float = 1.2
          ) -> np.ndarray:
    w = 1.0 / np.arange(1, len(values) + 1) ** skew
    return np.asarray(values, dtype=object)[rng.choice(len(values), n, p=w / w.sum())]


def _lists(rng: np.random.Generator, values: tuple[str, ...], n: int, max_len: int = 3,
           p_empty: float = 0.2) -> pa.Array:
    lengths = rng.integers(1, max_len + 1, n)
    lengths[rng.random(n) < p_empty] = 0
    flat = _pick(rng, values, int(lengths.sum()))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(flat, pa.string()))


def synthetic_cases(n: int, seed: int = 0, years: tuple[int, int] = (2015, 2024),
                    regions: int = 30, step_year: int | None = None,
                    step_factor: float = 1.0) -> pa.Table:
    """``n`` synthetic case records (snapshot columns, no identifiers)."""
    rng = np.random.default_rng(seed)
    y0, y1 = years
    yrs = np.arange(y0, y1 + 1)
    w = np.ones(yrs.size)
    if step_year is not None:
        w[yrs >= step_year] *= step_factor
    year = rng.choice(yrs, n, p=w / w.sum())
    day = rng.integers(0, 365, n)
    base = np.array([(dt.date(int(y), 1, 1) - dt.date(1970, 1, 1)).days for y in yrs])
    days = base[year - y0] + day
    age = np.clip(rng.gamma(5.0, 5.0, n).astype(np.int64), 0, 80)
    bands = np.array(list(AGE_BANDS))
    edges = np.array([lo for lo, _ in AGE_BANDS.values()])
    band = bands[np.searchsorted(edges, age, side="right") - 1]
    sex = np.where(rng.random(n) < 0.62, "Feminine", "Masculine")
    region = np.char.add("R-", np.char.zfill(rng.integers(0, regions, n).astype(str), 2))
    transit_n = rng.choice([0, 0, 0, 1, 2], n)
    tflat = _pick(rng, COUNTRIES[10:24], int(transit_n.sum()))
    toff = np.concatenate([[0], np.cumsum(transit_n)]).astype(np.int32)
    return pa.table({
        "source_agency": _pick(rng, ("police", "ngo_shelters", "labour_inspectorate",
                                     "hotline", "immigration"), n),
        "record_id": pa.array(np.arange(n).astype(str)),
        "registration_date": pa.array(days.astype("datetime64[D]"), pa.date32()),
        "sex": sex,
        "age": age,
        "age_band": band,
        "majority_status": np.where(age < 18, "Minor", "Adult"),
        "citizenship": _pick(rng, COUNTRIES, n),
        "country_of_exploitation": _pick(rng, COUNTRIES[14:], n, 0.8),
        "region_of_exploitation": region,
        "origin_country": _pick(rng, COUNTRIES[:16], n),
        "transit_countries": pa.ListArray.from_arrays(pa.array(toff),
                                                      pa.array(tflat, pa.string())),
        "exploitation_forms": _lists(rng, tuple(EXPLOITATION_FORMS), n, 2, 0.05),
        "labour_sectors": _lists(rng, tuple(LABOUR_SECTORS)[:8], n, 2, 0.6),
        "sexual_exploitation_types": _lists(rng, ("Prostitution", "Pornography"), n, 1, 0.7),
        "means_of_control": _lists(rng, tuple(MEANS_OF_CONTROL), n, 3, 0.3),
        "recruiter_relation": _pick(rng, tuple(RECRUITER_RELATION), n),
        "trafficking_status": _pick(rng, ("Actual", "Possible"), n),
        "case_status": _pick(rng, ("Active", "Closed", "FollowUp"), n),
    })


def write_snapshot(data_dir: str | Path, table: pa.Table, *, batches: int = 1,
                   source_agency: str = "synthetic") -> str:
    """Write ``table`` as the snapshot of ``data_dir`` in ``batches`` case batches (tests,
    benchmarks: an engine over it behaves as after an import). Returns the data version."""
    import hashlib

    from tiplab.snapshot import SnapshotBatch, write_batch, write_manifest

    d = Path(data_dir)
    out = []
    bounds = np.linspace(0, table.num_rows, batches + 1).astype(int)
    for i in range(batches):
        part = table.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))
        batch_id = f"SYN{i:03d}"
        name = write_batch(d, "case", batch_id, part)
        digest = hashlib.sha256((d / "snapshot" / "batches" / name).read_bytes()).hexdigest()
        out.append(SnapshotBatch(batch_id, "case", source_agency, digest, part.num_rows, name))
    return write_manifest(d, out).data_version
