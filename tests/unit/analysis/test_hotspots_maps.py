"""Hotspots on lattices with planted truth, emerging patterns, maps and Leaflet data."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from tiplab.analysis import HotspotSettings, emerging_hotspots, hotspots, local_statistics
from tiplab.analysis.hotspots import classify_emerging


def _lattice(n: int = 10):
    from libpysal.weights import lat2W

    w = lat2W(n, n, rook=False)
    return w


def test_gi_star_recovers_planted_hotspot_on_lattice() -> None:
    """10x10 queen lattice, 3x3 block with 3x the rate; over 20 seeds the planted block is
    found (BH q < 0.05) and almost nothing far from it is."""
    w = _lattice()
    rng = np.random.default_rng(42)
    planted = np.zeros((10, 10), bool)
    planted[2:5, 6:9] = True
    far = np.ones((10, 10), bool)
    far[1:6, 5:10] = False  # the block and its ring of neighbours
    recall, false = [], []
    for seed in range(20):
        pop = rng.integers(100_000, 200_000, 100)
        rate = np.where(planted.ravel(), 30.0, 10.0)
        counts = rng.poisson(rate * pop / 1e5)
        st = local_statistics(counts / pop * 1e5, w, permutations=499, seed=seed)
        hot = (st["gi_class"] == "hot").to_numpy().reshape(10, 10)
        recall.append(hot[planted].mean())
        false.append(hot[far].mean())
    assert np.mean(recall) >= 0.85
    assert np.mean(false) <= 0.02


def _region_cases(counts: np.ndarray, ids: list[str], years: list[int]) -> pa.Table:
    """Case rows: counts[i, j] records in region i, year j."""
    reg = np.repeat(np.repeat(ids, len(years)), counts.ravel())
    yr = np.repeat(np.tile(years, len(ids)), counts.ravel())
    days = np.array([(dt.date(int(y), 6, 1) - dt.date(1970, 1, 1)).days for y in yr])
    return pa.table({"region_of_exploitation": reg,
                     "registration_date": pa.array(days.astype("datetime64[D]"), pa.date32())})


def test_hotspots_on_region_table_with_adjacency_csv(tmp_path) -> None:
    w = _lattice(6)
    ids = [f"R{i:02d}" for i in range(36)]
    edges = [(ids[i], ids[j]) for i, ns in w.neighbors.items() for j in ns if i < j]
    adj = tmp_path / "adjacency.csv"
    adj.write_text("region_a,region_b\n" + "\n".join(f"{a},{b}" for a, b in edges))
    pop = np.full(36, 50_000)
    rate = np.full(36, 8.0)
    block = [0, 1, 6, 7]
    rate[block] = 40.0
    counts = np.round(rate * pop / 1e5).astype(int)[:, None]
    t = _region_cases(counts, ids, [2020])
    regions = pa.table({"code": ids, "population": pop.astype(float)})
    r = hotspots(t, regions, adj, HotspotSettings(permutations=999), data_version="dv-x")
    hot = set(r.table.filter(pa.compute.equal(r.table["gi_class"], "hot"))
              .column("region").to_pylist())
    assert set(np.array(ids)[block]) <= hot
    assert r.extra["global_moran"]["I"] > 0
    assert r.data_version == "dv-x"


def test_emerging_classes_on_known_patterns() -> None:
    years = 10
    z = np.zeros((5, years))
    hot = np.zeros((5, years), bool)
    hot[0, -1] = True                                  # new
    hot[1:4] = True
    z[1] = np.linspace(2, 6, years)     # intensifying
    z[2] = 3 + np.tile([0.1, -0.1], 5)  # persistent
    z[3] = np.linspace(6, 2, years)     # diminishing
    hot[4, :-1] = True                                 # historical
    got = classify_emerging(z, hot)["pattern"].tolist()
    assert got == ["new", "intensifying", "persistent", "diminishing", "historical"]


def test_emerging_hotspots_finds_a_growing_cluster(tmp_path) -> None:
    w = _lattice(6)
    ids = [f"R{i:02d}" for i in range(36)]
    edges = [(ids[i], ids[j]) for i, ns in w.neighbors.items() for j in ns if i < j]
    adj = tmp_path / "adj.csv"
    adj.write_text("a,b\n" + "\n".join(f"{a},{b}" for a, b in edges))
    rng = np.random.default_rng(3)
    years = list(range(2015, 2025))
    base = np.full((36, len(years)), 10.0)
    block = [28, 29, 34, 35]
    base[block, :] = 10.0 * np.linspace(3, 8, len(years))
    counts = rng.poisson(base * 0.5)
    t = _region_cases(counts, ids, years)
    regions = pa.table({"code": ids, "population": np.full(36, 50_000.0)})
    r = emerging_hotspots(t, regions, adj, HotspotSettings(permutations=199))
    pat = dict(zip(r.tables["patterns"].column("region").to_pylist(),
                   r.tables["patterns"].column("pattern").to_pylist(), strict=True))
    assert all(pat[ids[i]] in ("intensifying", "persistent") for i in block)
    assert sum(p != "no pattern" for p in pat.values()) <= 8


def test_world_layer_codes_fixed() -> None:
    from tiplab.reports import country_centroids, world_layer

    w = world_layer()
    assert len(w) == 177
    codes = set(w["iso_a3"].dropna())
    assert {"FRA", "NOR", "XKX"} <= codes
    assert "-99" not in codes
    assert w["iso_a3"].dropna().is_unique
    c = country_centroids().set_index("iso_a3")
    # France's point lies in metropolitan France, not French Guiana.
    assert 42 < c.loc["FRA", "lat"] < 51
    assert -5 < c.loc["FRA", "lon"] < 8


def test_great_circle_endpoints_and_leaflet(tmp_path) -> None:
    from tiplab.reports import flow_lines, leaflet_geojson, world_layer
    from tiplab.reports.maps import great_circle

    line = great_circle(np.array([0.0]), np.array([0.0]), np.array([90.0]), np.array([0.0]), 5)
    assert line[0, 0] == pytest.approx([0, 0])
    assert line[0, -1] == pytest.approx([90, 0])
    assert line[0, 2] == pytest.approx([45, 0])
    fl = flow_lines(pa.table({"origin_country": ["NGA", "ROU"],
                              "country_of_exploitation": ["ITA", "ROU"], "n": [5, 9]}))
    assert len(fl) == 1
    assert fl.loc[0, "n"] == 5
    fc = leaflet_geojson(world_layer(), pa.table({"iso_a3": ["FRA"], "rate": [1.5]}),
                         layer_key="iso_a3", columns=("rate",))
    props = {f["properties"]["iso_a3"]: f["properties"] for f in fc["features"]}
    assert props["FRA"]["rate"] == 1.5
    assert props["DEU"]["rate"] is None


def test_static_maps_are_written(tmp_path) -> None:
    import geopandas as gpd
    from shapely.geometry import box

    from tiplab.reports import choropleth, flow_map, hotspot_map

    layer = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
                             crs="EPSG:4326")
    vals = pa.table({"region": ["A", "B"], "rate": [1.0, 3.0], "gi_class": ["hot", "cold"]})
    p1 = hotspot_map(layer, vals, path=tmp_path / "h.png")
    p2 = choropleth(layer, vals, key="region", layer_key="code", value="rate",
                    path=tmp_path / "c.svg")
    p3 = flow_map(pa.table({"origin_country": ["NGA"], "country_of_exploitation": ["ITA"],
                            "n": [3]}), path=tmp_path / "f.png")
    assert p1.read_bytes()[:4] == b"\x89PNG"
    assert p3.read_bytes()[:4] == b"\x89PNG"
    assert b"<svg" in p2.read_bytes()[:400]


def test_corridors_off_the_world_layer_are_named_not_dropped(tmp_path) -> None:
    from tiplab.reports import flow_lines, flow_map, off_map_note, unmapped_flows

    corridors = pa.table({"origin_country": ["NGA", "ROU", "Europe", "VNM", "ALB"],
                          "country_of_exploitation": ["XTL", "ITA", "GBR", "GBR", "GRC"],
                          "n": [40, 30, 20, 10, 2]})
    off = unmapped_flows(corridors, top=4)
    assert off[["origin_country", "country_of_exploitation", "not_on_map"]].values.tolist() \
        == [["NGA", "XTL", "XTL"], ["Europe", "GBR", "Europe"]]
    assert len(flow_lines(corridors, top=4)) == 2  # ROU-ITA and VNM-GBR are drawn
    note = off_map_note(off)
    assert note.startswith("2 of the top corridors are not drawn")
    assert "Europe, XTL" in note
    assert off_map_note(unmapped_flows(corridors.slice(1, 1))) == ""
    # Only off-map corridors: the map still renders and says nothing could be drawn.
    svg = flow_map(corridors.slice(0, 1), path=tmp_path / "f.svg", top=5).read_text()
    assert "No corridor can be drawn" in svg
    assert "XTL" in svg


@pytest.mark.filterwarnings("ignore:The alternative hypothesis:DeprecationWarning")
def test_vectorised_gi_star_and_global_moran_equal_esda() -> None:
    """The vectorised versions are checked against esda 2.9 itself (the reference
    implementation of Ord & Getis 1995 and Moran's I with permutations)."""
    import esda
    from libpysal.weights import lat2W

    from tiplab.analysis.hotspots import gi_star_z, global_moran

    rng = np.random.default_rng(3)
    w = lat2W(6, 5)
    years = rng.gamma(2.0, 50.0, size=(30, 6))
    years[:, 2] = 7.0  # a year with the same rate everywhere: z = 0, as the page skips it
    z = gi_star_z(years, w)
    for j in (0, 1, 3, 4, 5):
        ref = esda.G_Local(years[:, j], w, transform="B", permutations=0, star=True)
        np.testing.assert_allclose(z[:, j], ref.Zs, rtol=1e-10, atol=1e-12)
    assert (z[:, 2] == 0).all()
    y = years[:, 0]
    np.random.seed(11)
    ref = esda.Moran(y, w, permutations=499)
    got = global_moran(y, w, permutations=499, seed=11)
    assert got["I"] == pytest.approx(ref.I, rel=1e-12)
    assert got["expected"] == pytest.approx(ref.EI)
    assert got["p_value"] == pytest.approx(ref.p_sim)


def _simulated_regions(tmp_path):
    import json

    from tiplab.simulate.country import build_country, geojson
    from tiplab.simulate.settings import SimulationSettings

    s = SimulationSettings()
    country = build_country(42, s.n_regions, 20_000, "XTL", "Tiplandia", s.prevalence)
    path = tmp_path / "regions.geojson"
    path.write_text(json.dumps(geojson(country)), encoding="utf-8")
    return path, country


def test_the_simulated_country_joins_the_world_where_its_geometry_is(tmp_path) -> None:
    from shapely.ops import unary_union

    from tiplab.reports import country_from_regions, flow_lines, unmapped_flows, world_layer
    from tiplab.reports.maps import EQUAL_EARTH

    path, country = _simulated_regions(tmp_path)
    xtl = country_from_regions(path, iso_a3="XTL", name="Tiplandia")
    outline = unary_union(country.geometries)
    assert xtl.geometry.iloc[0].symmetric_difference(outline).area < 1e-6 * outline.area
    world = world_layer(xtl)
    assert len(world) == len(world_layer()) + 1
    assert world.set_index("iso_a3").loc["XTL", "name"] == "Tiplandia"
    corridors = pa.table({"origin_country": ["ROU", "NGA", "XTL"],
                          "country_of_exploitation": ["XTL", "XTL", "XTL"], "n": [30, 20, 50]})
    assert unmapped_flows(corridors, top=5, extra=xtl).empty
    assert not unmapped_flows(corridors, top=5).empty  # without it, XTL is off the map
    lines = flow_lines(corridors, top=5, extra=xtl)
    assert len(lines) == 2  # the domestic XTL-XTL row is not a corridor
    inside = xtl.geometry.iloc[0]
    from shapely.geometry import Point

    assert all(inside.contains(Point(*ln["path"][-1])) for ln in lines.to_dict("records"))
    # the equal-area size of the country, for the anchor test below
    assert xtl.to_crs(EQUAL_EARTH).area.iloc[0] > 1e10


def test_an_anchor_moves_the_simulated_country_and_keeps_its_size(tmp_path) -> None:
    from tiplab.analysis.errors import InputDataError
    from tiplab.reports import country_centroids, country_from_regions
    from tiplab.reports.maps import EQUAL_EARTH

    path, _country = _simulated_regions(tmp_path)
    home = country_from_regions(path, iso_a3="XTL", name="Tiplandia")
    moved = country_from_regions(path, iso_a3="XTL", name="Tiplandia", anchor=(22.0, 8.5))
    point = country_centroids(moved).set_index("iso_a3").loc["XTL"]
    assert point["lon"] == pytest.approx(22.0, abs=0.3)
    assert point["lat"] == pytest.approx(8.5, abs=0.3)
    a0 = home.to_crs(EQUAL_EARTH).area.iloc[0]
    a1 = moved.to_crs(EQUAL_EARTH).area.iloc[0]
    assert a1 == pytest.approx(a0, rel=0.03)  # rescaled for the new latitude
    with pytest.raises(InputDataError, match="anchor of XTL"):
        country_from_regions(path, iso_a3="XTL", name="Tiplandia", anchor=(200.0, 0.0))


def test_cli_routes_draws_the_simulated_country_from_its_regions(tmp_path) -> None:
    from typer.testing import CliRunner

    from tiplab.cli import app

    sim = tmp_path / "demo"
    runner = CliRunner()
    made = runner.invoke(app, ["simulate", "--seed", "3", "--victims", "600", "--years",
                               "2020-2022", "--agencies", "immigration", "--out", str(sim)])
    assert made.exit_code == 0, made.output
    # the immigration service records origin and destination countries
    base = ["routes", "--file", str(sim / "immigration.csv"), "--profile",
            str(sim / "immigration.profile.yaml"), "--country-regions",
            str(sim / "country" / "regions.geojson")]
    res = runner.invoke(app, [*base, "--anchor", "21.5,8", "--out", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "flows.png").stat().st_size > 10_000
    bad = runner.invoke(app, [*base, "--anchor", "east", "--out", str(tmp_path / "o2"),
                              "--json"])
    assert bad.exit_code == 2
    assert "--anchor 'east': write LON,LAT" in bad.output
