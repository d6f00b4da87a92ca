"""Differentially private count tables: scales against OpenDP's accountant, consistency of
the post-processed tables, contribution bounding, public domains, the noise law and the
error bounds (statistically: OpenDP's sampler cannot be seeded), and bad input."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tiplab.errors import TiplabError
from tiplab.privacy import dp
from tiplab.privacy.budget import Spend, zcdp_to_epsilon

DOMS = {"region": ("A", "B", "C"), "year": ("2020", "2021"), "form": ("F1", "F2", "F3")}


def _rows(n_per_cell: int = 3, *, person_ids: bool = True) -> pa.Table:
    """Every (region, year) pair with ``n_per_cell`` persons, each with one form (F1 or F2;
    F3 is declared but never used)."""
    regions, years, forms, pids = [], [], [], []
    i = 0
    for r in DOMS["region"]:
        for y in DOMS["year"]:
            for j in range(n_per_cell):
                regions.append(r)
                years.append(y)
                forms.append(["F1" if j % 2 else "F2"])
                pids.append(f"p{i}")
                i += 1
    cols: dict[str, object] = {"region": regions, "year": years, "form": forms}
    if person_ids:
        cols["person_id"] = pids
    return pa.table(cols)


def _opendp() -> Any:
    import opendp.prelude as odp

    odp.enable_features("contrib")
    return odp


# -- scales against OpenDP's own accountant -------------------------------------------

def test_laplace_scales_match_the_closed_form_and_opendps_map() -> None:
    odp = _opendp()
    res = dp.dp_tables(_rows(), ("region", "year", "form"), epsilon=0.8, domains=DOMS)
    k = res.max_contributions
    assert k == 2  # form is a list: the default cap for list dimensions
    assert [m.dimensions for m in res.measurements] == [
        (), ("region",), ("year",), ("form",), ("region", "year", "form")]
    assert res.measurements[-1].share == pytest.approx(2 / 3)
    space = odp.vector_domain(odp.atom_domain(T="i64")), odp.l1_distance(T="i64")
    for m in res.measurements:
        target = 0.8 * m.share
        assert m.sensitivity == k
        assert m.scale == pytest.approx(k / target, rel=1e-9)  # discrete Laplace: ε = k/scale
        meas = odp.m.make_laplace(*space, scale=m.scale)
        assert meas.map(k) == m.loss
        assert m.loss <= target
        assert m.loss == pytest.approx(target, rel=1e-9)
        assert m.accuracy == odp.discrete_laplacian_scale_to_accuracy(m.scale, alpha=0.05)
    assert math.fsum(m.loss for m in res.measurements) <= 0.8
    assert (res.epsilon, res.delta, res.rho) == (0.8, 0.0, None)
    assert res.scale == res.measurements[-1].scale


def test_opendp_reference_numbers_for_the_laplace_mechanism() -> None:
    # Reference: ../shared/reference/stack_notes.md (OpenDP 0.16 API notes): a count with
    # then_laplace(scale=2.0) gives ε = 0.5 at d_in = 1, and
    # discrete_laplacian_scale_to_accuracy(2.0, alpha=0.05) = 6.43.
    res = dp.dp_count(pa.table({"person_id": ["a", "b", "b", "c"]}), epsilon=0.5)
    m = res.measurements[0]
    assert m.scale == pytest.approx(2.0, rel=1e-9)
    assert m.loss == pytest.approx(0.5, rel=1e-9)
    assert res.table["error"][0].as_py() == pytest.approx(6.43, abs=0.005)
    assert res.unit == "persons"
    assert res.debug["true"][0] == 3  # distinct persons


def test_gaussian_scales_match_opendps_map_and_conversion() -> None:
    odp = _opendp()
    res = dp.dp_tables(_rows(), ("region", "year", "form"), epsilon=1.0, delta=1e-7,
                       mechanism="gaussian", domains=DOMS)
    k = res.max_contributions
    space = odp.vector_domain(odp.atom_domain(T="i64")), odp.l2_distance(T=float)
    assert res.rho is not None
    for m in res.measurements:
        full = len(m.dimensions) == 3
        # each person adds 1 to at most k distinct cells: L2 = √k; a margin may stack them
        assert m.sensitivity == pytest.approx(math.sqrt(k) if full else k)
        target = res.rho * m.share
        assert m.scale == pytest.approx(m.sensitivity / math.sqrt(2 * target), rel=1e-9)
        meas = odp.m.make_gaussian(*space, scale=m.scale)
        assert meas.map(m.sensitivity) == m.loss
        assert m.loss <= target
        assert m.accuracy == odp.discrete_gaussian_scale_to_accuracy(m.scale, alpha=0.05)
    assert math.fsum(m.loss for m in res.measurements) <= res.rho
    assert zcdp_to_epsilon(res.rho, 1e-7) <= 1.0
    assert zcdp_to_epsilon(res.rho, 1e-7) == pytest.approx(1.0, rel=1e-6)
    assert (res.epsilon, res.delta) == (1.0, 1e-7)
    by_rho = dp.dp_tables(_rows(), ("region", "year"), rho=0.05, delta=1e-6,
                          mechanism="gaussian", domains=DOMS)
    assert by_rho.rho == 0.05
    assert by_rho.epsilon == pytest.approx(zcdp_to_epsilon(0.05, 1e-6))


def test_a_split_and_marginals_set_the_measured_tables_and_their_shares() -> None:
    res = dp.dp_tables(_rows(), ("region", "year", "form"), epsilon=1.0, domains=DOMS,
                       marginals=[("region", "year"), ()], split=[3, 1, 4])
    assert [m.dimensions for m in res.measurements] == [
        ("region", "year"), (), ("region", "year", "form")]
    assert [m.share for m in res.measurements] == pytest.approx([3 / 8, 1 / 8, 1 / 2])
    assert set(res.margins) == {"total", "region", "year", "form", "region×year"}
    only = dp.dp_tables(_rows(), ("region",), epsilon=1.0, domains=DOMS, marginals=[])
    assert [m.share for m in only.measurements] == [1.0]


# -- post-processing: one consistent table -------------------------------------------

def _check_consistent(res: dp.DPTable) -> None:
    counts = res.counts()
    assert res.table["count"].type == pa.int64()
    assert (counts >= 0).all()
    total = res.margins["total"]["count"][0].as_py()
    assert counts.sum() == total
    for i, d in enumerate(res.dimensions):
        other = tuple(j for j in range(counts.ndim) if j != i)
        margin = np.asarray(res.margins[d]["count"].to_numpy()) if len(res.dimensions) > 1 \
            else counts
        assert (counts.sum(axis=other) == margin).all()
        assert margin.sum() == total
    assert (res.table["error"].to_numpy() >= 0).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_released_tables_are_consistent_non_negative_integers(data: st.DataObject) -> None:
    sizes = data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3), label="sizes")
    names = ("a", "b", "c")[: len(sizes)]
    doms = {n: tuple(f"{n}{i}" for i in range(s)) for n, s in zip(names, sizes, strict=True)}
    n = data.draw(st.integers(0, 40), label="persons")
    cols = {nm: [data.draw(st.sampled_from(doms[nm])) for _ in range(n)] for nm in names}
    eps = data.draw(st.sampled_from([0.05, 1.0, 20.0]), label="epsilon")
    mech = data.draw(st.sampled_from(["laplace", "gaussian"]), label="mechanism")
    extra = {"delta": 1e-6} if mech == "gaussian" else {}
    res = dp.dp_tables(pa.table(cols, schema=pa.schema([(nm, pa.string()) for nm in names])),
                       names, epsilon=eps, domains=doms, mechanism=mech, **extra)
    _check_consistent(res)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_post_processing_holds_its_invariants_for_any_noisy_input(data: st.DataObject) -> None:
    shape = tuple(data.draw(st.lists(st.integers(1, 5), min_size=1, max_size=3)))
    d = len(shape)
    tables = [(), *[(i,) for i in range(d)]] if d > 1 else [()]
    tables.append(tuple(range(d)))
    values, variances = [], []
    for keep in tables:
        size = math.prod(shape[i] for i in keep)
        values.append(np.array(data.draw(st.lists(st.integers(-60, 60), min_size=size,
                                                  max_size=size))))
        variances.append(data.draw(st.sampled_from([0.5, 2.0, 50.0])))
    post = dp.post_process(shape, tables, values, variances)
    rel = post.released.reshape(shape)
    fit = post.fitted.reshape(shape)
    assert post.released.dtype == np.int64
    assert (rel >= 0).all()
    assert (post.fitted >= -1e-9).all()
    # every released cell is the floor or the ceiling of its fitted value
    assert (np.abs(rel - fit) < 1 + 1e-6).all()
    assert abs(rel.sum() - fit.sum()) <= 0.5 + 1e-6
    # the first dimension's margin is rounded within 1 (the rounding chain starts there)
    first = tuple(range(1, d))
    assert np.abs(rel.sum(axis=first) - fit.sum(axis=first)).max() < 1 + 1e-6
    # the fitted table keeps the least-squares total and one-way margins when they are
    # non-negative (otherwise their projection onto the simplex of the total)
    wls = post.wls.reshape(shape)
    for i in range(d):
        other = tuple(j for j in range(d) if j != i)
        w_margin = wls.sum(axis=other)
        if (w_margin >= 0).all() and wls.sum() >= 0:
            np.testing.assert_allclose(fit.sum(axis=other), w_margin, atol=1e-6)
    if (post.wls >= 0).all():
        np.testing.assert_allclose(post.fitted, post.wls)


def test_rounding_keeps_every_one_way_margin_within_one_nearly_always() -> None:
    # Seeded simulation of sparse noisy tables (the hard case: many empty cells). The module
    # docstring states "about 0.5%" of such tables with a one-way margin off by more than 1.
    rng = np.random.default_rng(0)
    off, worst = 0, 0.0
    runs = 400
    for _ in range(runs):
        d = int(rng.integers(2, 4))
        shape = tuple(int(x) for x in rng.integers(2, 7, d))
        tables = [(), *[(i,) for i in range(d)], tuple(range(d))]
        truth = rng.poisson(0.5, shape) * (rng.random(shape) < 0.5)
        values = [dp._margin_of(truth.astype(float), t).ravel() for t in tables]
        values = [v + rng.laplace(0, 1.0, v.size) for v in values]
        post = dp.post_process(shape, tables, values, [2.0] * len(tables))
        rel, fit = post.released.reshape(shape), post.fitted.reshape(shape)
        dev = max(float(np.abs(rel.sum(axis=tuple(j for j in range(d) if j != i))
                               - fit.sum(axis=tuple(j for j in range(d) if j != i))).max())
                  for i in range(d))
        off += dev >= 1 + 1e-6
        worst = max(worst, dev)
    assert off / runs <= 0.02
    assert worst < 4


def test_least_squares_recovers_an_exact_table_and_keeps_its_margins() -> None:
    rng = np.random.default_rng(3)
    shape = (4, 3, 5)
    x = rng.integers(1, 30, shape).astype(float)
    tables = [(), (0,), (1,), (2,), (0, 1, 2)]
    values = [dp._margin_of(x, t).ravel() for t in tables]
    post = dp.post_process(shape, tables, values, [4.0, 1.0, 1.0, 1.0, 2.0])
    np.testing.assert_allclose(post.wls, x.ravel(), atol=1e-6)
    assert (post.released == x.ravel()).all()
    # noisy but consistent input: the fit's margins are exactly the least-squares ones
    noisy = [v + rng.normal(0, 3, v.shape) for v in values]
    post = dp.post_process(shape, tables, noisy, [9.0] * 5)
    w = post.wls.reshape(shape)
    for t in tables[1:4]:
        np.testing.assert_allclose(dp._margin_of(w, t).sum(), w.sum())


# -- contribution bounding -------------------------------------------------------------

def test_a_person_with_five_rows_counts_in_at_most_k_cells() -> None:
    # p has five rows in five cells; q one row
    rows = pa.table({"person_id": ["p", "p", "p", "p", "p", "q"],
                     "region": ["A", "B", "C", "A", "B", "C"],
                     "year": ["2020", "2020", "2020", "2021", "2021", "2021"]})
    one = dp.dp_tables(rows, ("region", "year"), epsilon=1.0, domains=DOMS)
    assert one.max_contributions == 1
    assert one.debug["true"].sum() == 2  # p once, q once
    assert one.rows_truncated == 4
    assert one.unit == "persons"
    two = dp.dp_tables(rows, ("region", "year"), epsilon=1.0, domains=DOMS,
                       max_contributions=2)
    assert two.debug["true"].sum() == 3
    assert two.rows_truncated == 3
    assert two.measurements[-1].sensitivity == 2
    # the choice is seeded: the same seed keeps the same cells
    again = dp.dp_tables(rows, ("region", "year"), epsilon=1.0, domains=DOMS,
                         max_contributions=2)
    assert (again.debug["true"] == two.debug["true"]).all()


def test_the_cells_kept_depend_only_on_the_persons_own_rows() -> None:
    base = {"person_id": ["p"] * 6, "region": ["A", "B", "C"] * 2,
            "year": ["2020"] * 3 + ["2021"] * 3}
    kept_by_seed = []
    for seed in range(6):
        alone = dp.dp_tables(pa.table(base), ("region", "year"), epsilon=1.0, domains=DOMS,
                             max_contributions=2, bounding_seed=seed).debug["true"]
        others = {k: v + w for (k, v), w in zip(base.items(), (
            [f"o{i}" for i in range(30)], ["A", "B", "C"] * 10, ["2021"] * 30), strict=True)}
        crowd = dp.dp_tables(pa.table(others), ("region", "year"), epsilon=1.0, domains=DOMS,
                             max_contributions=2, bounding_seed=seed).debug["true"]
        crowd_only = dp.dp_tables(pa.table({k: v[6:] for k, v in others.items()}),
                                  ("region", "year"), epsilon=1.0, domains=DOMS,
                                  bounding_seed=seed).debug["true"]
        assert (crowd - crowd_only == alone).all()
        kept_by_seed.append(tuple(np.nonzero(alone)[0]))
    assert len(set(kept_by_seed)) > 1  # the seed changes the choice


def test_a_person_counts_once_per_cell_and_lists_are_exploded() -> None:
    rows = pa.table({"person_id": ["p", "p", "q"],
                     "region_of_exploitation": ["A", "A", "B"],
                     "exploitation_forms": [["F1", "F1"], ["F1"], ["F1", "F2"]]})
    res = dp.dp_tables(rows, ("region", "form"), epsilon=1.0, domains=DOMS)
    true = res.debug["true"].reshape(3, 3)
    assert true.tolist() == [[1, 0, 0], [1, 1, 0], [0, 0, 0]]
    assert res.rows_truncated == 0
    assert any("person-values, not persons" in n for n in res.notes)


def test_without_person_ids_the_unit_is_the_record() -> None:
    res = dp.dp_tables(_rows(2, person_ids=False), ("region", "year"), epsilon=1.0,
                       domains=DOMS)
    assert res.unit == "records"
    assert res.debug["true"].sum() == 12
    assert any("protected less" in n for n in res.notes)
    forced = dp.dp_tables(_rows(2), ("region",), epsilon=1.0, domains=DOMS, unit_column=None)
    assert forced.unit == "records"


def test_rows_without_a_person_id_count_as_persons_of_their_own() -> None:
    rows = pa.table({"person_id": ["p", None, None], "region": ["A", "B", "B"]})
    res = dp.dp_tables(rows, ("region",), epsilon=1.0, domains=DOMS)
    assert res.debug["true"].tolist() == [1, 2, 0]
    assert any("without a person id" in n for n in res.notes)


# -- public domains ----------------------------------------------------------------------

def test_cells_come_from_the_declared_domains_not_from_the_data() -> None:
    rows = pa.table({"person_id": ["a", "b", "c", "d", "e"],
                     "region": ["A", "A", "Z", None, "B"],
                     "form": [["F1"], ["F9"], ["F1"], ["F2"], []]})
    res = dp.dp_tables(rows, ("region", "form"), epsilon=1.0, domains=DOMS)
    assert res.table.num_rows == 9
    assert res.table.column_names == ["region", "form", "count", "error"]
    assert ("C", "F3") in set(zip(res.table["region"].to_pylist(),
                                  res.table["form"].to_pylist(), strict=True))
    assert "Z" not in res.table["region"].to_pylist()
    # F9 and Z are undeclared, None is missing, [] has no form: 4 out of domain
    assert res.out_of_domain == 4
    assert res.debug["true"].sum() == 1
    assert res.margins["region"]["region"].to_pylist() == ["A", "B", "C"]


def test_year_is_derived_from_the_registration_date() -> None:
    rows = pa.table({"person_id": ["a", "b", "c"],
                     "registration_date": pa.array([dt.date(2020, 5, 1), dt.date(2021, 1, 2),
                                                    dt.date(2019, 12, 31)], pa.date32())})
    res = dp.dp_tables(rows, ("year",), epsilon=1.0,
                       domains=dp.build_domains(("year",), years=(2020, 2021)))
    assert res.table["year"].to_pylist() == ["2020", "2021"]
    assert res.debug["true"].tolist() == [1, 1]
    assert res.out_of_domain == 1


def test_build_domains_from_code_lists_and_a_year_range() -> None:
    doms = dp.build_domains(("region", "year", "form", "sex", "age_band", "citizenship",
                             "custom"), years=(2015, 2024), regions=["XT-02", "XT-01"],
                            extra={"custom": [1, 2]})
    assert doms["year"] == tuple(str(y) for y in range(2015, 2025))
    assert doms["region"] == ("XT-01", "XT-02")
    assert len(doms["form"]) == 12
    assert "Feminine" in doms["sex"]
    assert "48+" in doms["age_band"]
    assert "VNM" in doms["citizenship"]
    assert doms["custom"] == ("1", "2")


# -- the noise law and the error bounds (statistical) ---------------------------------

def test_raw_laplace_noise_has_the_theoretical_variance_and_coverage() -> None:
    rows = _rows(4)
    doms = {"region": DOMS["region"], "cell": tuple(f"c{i}" for i in range(2000))}
    rows = pa.table({"person_id": rows["person_id"], "region": rows["region"],
                     "cell": ["c0"] * rows.num_rows})
    noise, errs = [], []
    for _ in range(4):
        res = dp.plain_laplace_table(rows, ("region", "cell"), epsilon=0.5, domains=doms)
        noise.append(res.debug["raw"][0] - res.debug["true"])
        errs.append(res.table["error"].to_numpy())
    x = np.concatenate(noise).astype(float)
    scale = res.scale
    assert scale == pytest.approx(2.0, rel=1e-9)
    t = math.exp(-1 / scale)
    var = 2 * t / (1 - t) ** 2  # discrete Laplace variance
    # tolerance: 5 standard errors of a sample variance, se ≈ σ² √((κ - 1) / n), κ ≈ 6
    se = var * math.sqrt(5 / x.size)
    assert abs(x.var() - var) < 5 * se
    assert abs(x.mean()) < 5 * math.sqrt(var / x.size)
    # OpenDP's 95% accuracy a: P(|X| > a) ≤ 5%; exactly P(|X| ≥ ⌊a⌋+1) = 2t^(⌊a⌋+1)/(1+t)
    a = float(np.concatenate(errs)[0])
    p_in = 1 - 2 * t ** (math.floor(a) + 1) / (1 + t)
    assert p_in >= 0.95
    cover = (np.abs(x) <= a).mean()
    assert abs(cover - p_in) < 4 * math.sqrt(p_in * (1 - p_in) / x.size)


def test_raw_gaussian_noise_has_the_theoretical_variance() -> None:
    doms = {"cell": tuple(f"c{i}" for i in range(3000))}
    rows = pa.table({"person_id": ["a", "b"], "cell": ["c0", "c1"]})
    x_all = []
    for _ in range(3):
        res = dp.dp_tables(rows, ("cell",), rho=0.02, delta=1e-7, mechanism="gaussian",
                           domains=doms, marginals=[])
        x_all.append(res.debug["raw"][-1] - res.debug["true"])
    x = np.concatenate(x_all).astype(float)
    sigma = res.scale
    assert sigma == pytest.approx(1 / math.sqrt(2 * 0.02), rel=1e-9)
    # a discrete Gaussian of σ = 5 has variance σ² to 1e-80; Gaussian kurtosis 3
    se = sigma**2 * math.sqrt(2 / x.size)
    assert abs(x.var() - sigma**2) < 5 * se


def test_post_processed_error_bounds_cover_at_least_95_percent() -> None:
    rng = np.random.default_rng(7)
    doms = {"r": tuple(f"r{i}" for i in range(12)), "y": tuple(str(y) for y in range(5)),
            "f": tuple(f"f{i}" for i in range(8))}
    n = 1500
    p_form = np.array([0.4, 0.3, 0.15, 0.1, 0.05, 0, 0, 0])
    rows = pa.table({"person_id": [f"p{i}" for i in range(n)],
                     "r": rng.choice(doms["r"], n), "y": rng.choice(doms["y"], n),
                     "f": rng.choice(doms["f"], n, p=p_form)})
    hit, cells, m_hit, m_cells = 0, 0, 0, 0
    for _ in range(6):
        res = dp.dp_tables(rows, ("r", "y", "f"), epsilon=0.5, domains=doms)
        true = res.debug["true"]
        c = res.table["count"].to_numpy()
        hit += int((np.abs(c - true) <= res.table["error"].to_numpy()).sum())
        cells += true.size
        cube = true.reshape(12, 5, 8)
        for i, d in enumerate(("r", "y", "f")):
            t = cube.sum(axis=tuple(j for j in range(3) if j != i))
            m = res.margins[d]
            m_hit += int((np.abs(m["count"].to_numpy() - t) <= m["error"].to_numpy()).sum())
            m_cells += t.size
    assert hit / cells >= 0.95
    assert m_hit / m_cells >= 0.9  # 150 margin cells: binomial slack below 95%


def test_post_processing_beats_plain_laplace_on_a_simulated_country(tmp_path: Path) -> None:
    from tiplab.simulate import SimulationSettings, simulate

    simulate(SimulationSettings(seed=3, victims=5000), tmp_path)
    v = pq.read_table(tmp_path / "truth" / "victims.parquet").filter(pc.field("seen_any"))
    rows = pa.table({"person_id": pc.cast(v["true_id"], pa.string()),
                     "region": v["region_of_exploitation"], "year": v["year"],
                     "form": v["exploitation_form"]})
    regions = pacsv.read_csv(tmp_path / "truth" / "regions.csv")["code"].to_pylist()
    doms = dp.build_domains(("region", "year", "form"), years=(2015, 2024), regions=regions)
    post, base = [], []
    for _ in range(3):
        r = dp.dp_tables(rows, ("region", "year", "form"), epsilon=1.0, domains=doms)
        b = dp.plain_laplace_table(rows, ("region", "year", "form"), epsilon=1.0,
                                   domains=doms)
        truth = r.debug["true"]
        assert truth.sum() == v.num_rows  # the known persons, each in one cell
        post.append(np.abs(r.table["count"].to_numpy() - truth).mean())
        base.append(np.abs(b.table["count"].to_numpy() - truth).mean())
        total = r.margins["total"]["count"][0].as_py()
        assert abs(total - truth.sum()) < 6 * r.margins["total"]["error"][0].as_py()
    # benchmarks/bench_dp.py measures about 35% lower on the 50,000-victim country
    assert np.mean(post) < 0.85 * np.mean(base)


# -- results ----------------------------------------------------------------------------

def test_result_round_trips_to_json_and_keeps_raw_noise_private() -> None:
    res = dp.dp_tables(_rows(), ("region", "year"), epsilon=1.0, domains=DOMS,
                       data_version="v42")
    d = json.loads(json.dumps(res.to_dict()))
    assert d["data_version"] == "v42"
    assert d["unit"] == "persons"
    assert d["dimensions"] == ["region", "year"]
    assert len(d["table"]) == 6
    assert set(d["table"][0]) == {"region", "year", "count", "error"}
    assert "debug" not in d
    assert "raw" not in json.dumps(d)
    pub = res.public_dict()
    assert "rows_truncated" not in pub
    assert "out_of_domain" not in pub
    arrow = res.to_arrow()
    meta = json.loads(arrow.schema.metadata[b"tiplab"])
    assert meta["epsilon"] == 1.0
    assert "rows_truncated" not in meta
    assert arrow.column_names == ["region", "year", "count", "error"]
    spend = res.spend(release="r1")
    assert isinstance(spend, Spend)
    assert (spend.epsilon, spend.delta, spend.release) == (1.0, 0.0, "r1")
    assert spend.query == "count of persons by region × year"


# -- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"dimensions": ("region", "nation")}, "unknown dimension 'nation'"),
    ({"dimensions": ()}, "at least one dimension"),
    ({"dimensions": ("region", "region")}, "given twice"),
    ({"epsilon": 0.0}, "ε must be a finite number > 0"),
    ({"epsilon": -1.0}, "ε must be a finite number > 0"),
    ({"epsilon": math.nan}, "ε must be a finite number > 0"),
    ({"domains": {**DOMS, "region": ()}}, "domain of dimension 'region' is empty"),
    ({"domains": {"year": DOMS["year"]}}, "no domain declared for dimension 'region'"),
    ({"domains": None}, "domains of the dimensions must be declared"),
    ({"domains": {**DOMS, "region": ("A", "A")}}, "repeats A"),
    ({"mechanism": "exponential"}, "unknown mechanism 'exponential'"),
    ({"mechanism": "gaussian"}, "needs δ in"),
    ({"delta": 1e-6}, "pure ε-DP"),
    ({"marginals": [("region", "year")]}, "always measured"),
    ({"marginals": [("sex",)]}, "sex is not a dimension"),
    ({"split": [1.0, 2.0]}, "split has 2 weights but 4 tables"),
    ({"marginals": [()], "split": [1.0, 0.0]}, "must be > 0"),
    ({"max_contributions": 0}, "max_contributions must be a whole number ≥ 1"),
    ({"alpha": 1.5}, r"alpha must be in \(0, 1\)"),
])
def test_bad_input_is_refused_with_a_message(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"dimensions": ("region", "year"), "epsilon": 1.0,
                               "domains": DOMS, **kwargs}
    with pytest.raises(dp.DPError, match=message) as info:
        dp.dp_tables(_rows(), **args)  # type: ignore[arg-type]  # deliberately bad input
    assert isinstance(info.value, TiplabError)


def test_other_entry_points_refuse_bad_input() -> None:
    with pytest.raises(dp.DPError, match="needs the period"):
        dp.build_domains(("year",))
    with pytest.raises(dp.DPError, match="list of regions"):
        dp.build_domains(("region",))
    with pytest.raises(dp.DPError, match="no code list for dimension 'colour'"):
        dp.build_domains(("colour",))
    with pytest.raises(dp.DPError, match="first year is after the last"):
        dp.year_domain(2024, 2015)
    with pytest.raises(dp.DPError, match="either ε"):
        dp.dp_count(_rows(), epsilon=1.0, rho=0.1, delta=1e-7, mechanism="gaussian")
    with pytest.raises(dp.DPError, match="ρ belongs to the Gaussian"):
        dp.dp_count(_rows(), epsilon=1.0, rho=0.1)
    with pytest.raises(dp.DPError, match="ε must be"):
        dp.plain_laplace_table(_rows(), ("region",), epsilon=0, domains=DOMS)
    with pytest.raises(dp.DPError, match="full cross table among"):
        dp.post_process((2,), [()], [np.array([1])], [1.0])
