"""The country's geometry, adjacency and covariates, read back from the written files."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pyarrow.csv as pacsv
import pytest
import shapely
from shapely.geometry import shape

from tiplab.simulate.country import COVARIATES, build_country
from tiplab.simulate.settings import SimulationSettings

OVERLAP_TOLERANCE = 1e-9  # square degrees (~0.01 km2)


@pytest.fixture(scope="module")
def regions(demo_dir: Path) -> tuple[list[str], list[shapely.Geometry]]:
    gj = json.loads((demo_dir / "country" / "regions.geojson").read_text(encoding="utf-8"))
    codes = [f["properties"]["code"] for f in gj["features"]]
    return codes, [shape(f["geometry"]) for f in gj["features"]]


def test_regions_are_valid_polygons_in_lon_lat(
    regions: tuple[list[str], list[shapely.Geometry]],
) -> None:
    codes, geoms = regions
    assert 20 <= len(codes) <= 40
    assert codes == [f"XT-{i:02d}" for i in range(1, len(codes) + 1)]
    for g in geoms:
        assert g.geom_type == "Polygon"
        assert g.is_valid
        assert g.area > 0
        minx, miny, maxx, maxy = g.bounds
        assert -180 <= minx <= maxx <= 180
        assert -90 <= miny <= maxy <= 90


def test_no_overlaps_and_no_gaps(regions: tuple[list[str], list[shapely.Geometry]]) -> None:
    _, geoms = regions
    for a, b in itertools.combinations(geoms, 2):
        assert a.intersection(b).area < OVERLAP_TOLERANCE
    union = shapely.union_all(geoms)
    assert abs(union.area - sum(g.area for g in geoms)) < 1e-6
    assert union.geom_type == "Polygon"  # one connected country without holes
    assert len(union.interiors) == 0


def test_adjacency_is_touches(
    demo_dir: Path, regions: tuple[list[str], list[shapely.Geometry]]
) -> None:
    codes, geoms = regions
    adj = pacsv.read_csv(demo_dir / "country" / "adjacency.csv").to_pylist()
    pairs = [(r["region_a"], r["region_b"]) for r in adj]
    assert len(pairs) == len(set(pairs))
    undirected = {frozenset(p) for p in pairs}
    assert len(undirected) == len(pairs)  # no pair listed in both directions
    touching = {
        frozenset((codes[i], codes[j]))
        for i, j in itertools.combinations(range(len(codes)), 2)
        if geoms[i].touches(geoms[j])
    }
    assert undirected == touching
    # Symmetric as a relation, and every region has a neighbour.
    nbrs: dict[str, set[str]] = {c: set() for c in codes}
    for a, b in pairs:
        nbrs[a].add(b)
        nbrs[b].add(a)
    assert all(nbrs[c] for c in codes)
    assert all(a in nbrs[b] for a in codes for b in nbrs[a])
    assert all(r["shared_border_km"] >= 0 for r in adj)


def test_prevalence_follows_the_stated_log_linear_model(demo_dir: Path) -> None:
    reg = pacsv.read_csv(demo_dir / "truth" / "regions.csv").to_pydict()
    pop = np.array(reg["population"], float)
    expected = np.array(reg["true_expected_victims"], float)
    lin = np.array(reg["linear_predictor"], float)
    intercept = np.log(expected / pop) - lin
    assert np.ptp(intercept) < 1e-3  # log rate - linear predictor is one constant


def test_covariates_are_spatially_correlated() -> None:
    """Moran's I of every smooth covariate is positive (permutation test, alpha 0.01)."""
    s = SimulationSettings()
    country = build_country(42, s.n_regions, 20_000, "XTL", "Tiplandia", s.prevalence)
    n = len(country.codes)
    w = np.zeros((n, n))
    for i, j in country.adjacency:
        w[i, j] = w[j, i] = 1.0
    w /= w.sum(axis=1, keepdims=True)
    rng = np.random.default_rng(0)

    def moran(x: np.ndarray) -> float:
        z = x - x.mean()
        return float(n * z @ w @ z / (z @ z) / n)

    for name in COVARIATES:
        if name == "border_region":
            continue
        x = np.asarray(country.regions.column(name).to_numpy(), float)
        observed = moran(x)
        perms = np.array([moran(rng.permutation(x)) for _ in range(999)])
        p = (1 + np.sum(perms >= observed)) / 1000
        assert p < 0.01, (name, observed, p)
