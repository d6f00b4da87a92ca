"""DP synthetic microdata (MST): tree selection, consistency, budget, utility, bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.optimize import minimize

from tiplab.errors import TiplabError
from tiplab.privacy.dp import opendp
from tiplab.privacy.synth import (
    SynthError,
    SynthResult,
    SynthSettings,
    _allocate,
    _project_table,
    flag_columns,
    marginal_utility,
    primary_value,
    synthesize,
    unique_matches,
)

A_VALUES = ("a0", "a1", "a2", "a3")
#: share of rows where B copies A; otherwise B is uniform over its 4 values
COPY = 0.9


def _dependent(n: int = 20_000, seed: int = 7) -> tuple[pa.Table, dict[str, list[object]]]:
    """A and B strongly dependent (B = A with probability 0.9, else uniform), C, D, E
    independent of everything: the known truth the tree must find."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 4, n)
    b = np.where(rng.random(n) < COPY, a, rng.integers(0, 4, n))
    c = rng.choice(3, n, p=[0.5, 0.3, 0.2])
    d = rng.integers(0, 5, n)
    e = rng.random(n) < 0.3
    table = pa.table({
        "person_id": np.arange(n), "A": [A_VALUES[i] for i in a],
        "B": [f"b{i}" for i in b], "C": [f"c{i}" for i in c], "D": 2015 + d, "E": e,
        "note": ["free text"] * n,
    })
    domains: dict[str, list[object]] = {
        "A": list(A_VALUES), "B": ["b0", "b1", "b2", "b3"], "C": ["c0", "c1", "c2", "cX"],
        "D": list(range(2015, 2022)), "E": [False, True],
    }
    return table, domains


def _tvd(real: pa.Table, syn: pa.Table, cols: list[str]) -> float:
    return marginal_utility(real, syn, cols, ways=(len(cols),))[len(cols)].mean_tvd


# -- known truth ---------------------------------------------------------------------------

def test_tree_picks_the_strong_pair_and_keeps_its_2way() -> None:
    table, domains = _dependent()
    res = synthesize(table, domains, rho=50.0, seed=1)
    # the A–B score is ~ n·0.9·(1 - 1/4)·2 ≈ 27,000 counts; every other pair's is sampling
    # noise (~ hundreds); the Gumbel scale at this ρ is 0.35, so A–B comes first
    assert set(res.edges[0]) == {"A", "B"}
    assert len(res.edges) == 4
    # tolerance: noise σ ≈ 0.4 counts and rounding ≤ 1 count per cell and parent value, so
    # the 16-cell table of 20,000 rows is off by well under 0.005 in TVD
    assert _tvd(table, res.table, ["A", "B"]) < 0.005
    # the known truth: P(B copies A) = 0.9 + 0.1/4 = 0.925; sampling error of 20,000 rows
    # is 0.002 (one s.e.), so 0.01 is a 5 s.e. tolerance
    a = [x[1] for x in res.table.column("A").to_pylist()]
    b = [x[1] for x in res.table.column("B").to_pylist()]
    assert abs(np.mean([x == y for x, y in zip(a, b, strict=True)]) - 0.925) < 0.01
    # without the tree the dependence is lost: independent A, B agree 1/4 of the time, a
    # TVD of about 0.675 from the real table
    ind = synthesize(table, domains, rho=50.0, seed=1, structure="independent")
    assert ind.edges == ()
    assert _tvd(table, ind.table, ["A", "B"]) > 0.5


def test_n_defaults_to_the_noisy_total_and_can_be_set() -> None:
    table, domains = _dependent(n=5_000)
    res = synthesize(table, domains, rho=10.0, seed=2)
    # σ of the 1-ways is about 0.6 counts here; the pooled total is within a few counts
    assert abs(res.n - 5_000) <= 5
    assert res.table.num_rows == res.n
    fixed = synthesize(table, domains, rho=10.0, seed=2, n=1234)
    assert fixed.n == fixed.table.num_rows == 1234
    empty = synthesize(table, domains, rho=10.0, n=0)
    assert empty.table.num_rows == 0
    assert empty.table.column_names == list(domains)


@pytest.mark.parametrize("epsilon", [0.05, 1.0])
def test_output_has_the_declared_columns_and_only_domain_values(epsilon: float) -> None:
    table, domains = _dependent(n=3_000)
    # a big, mostly empty domain (like 250 citizenships) and values never seen ("cX", 2021)
    table = table.append_column("F", pa.array([f"f{i % 3}" for i in range(table.num_rows)]))
    domains["F"] = [f"f{i}" for i in range(200)]
    res = synthesize(table, domains, epsilon=epsilon, seed=3)
    assert res.table.column_names == list(domains) == list(res.columns)
    for col, dom in domains.items():
        assert set(res.table.column(col).to_pylist()) <= set(dom)
    assert res.table.schema.field("D").type == pa.int64()  # typed as the domain
    assert res.table.schema.field("E").type == pa.bool_()
    # F's 197 empty values are merged for the 2-way steps
    assert res.compressed["F"] < 200
    assert res.rows_dropped == 0


def test_two_columns_need_no_selection_and_one_column_no_tree() -> None:
    table, domains = _dependent(n=2_000)
    two = synthesize(table, {k: domains[k] for k in ("A", "B")}, rho=1.0, seed=4)
    assert [m.kind for m in two.measurements] == ["marginal", "marginal", "marginal"]
    assert two.marginals == (("A",), ("B",), ("A", "B"))
    one = synthesize(table, {"C": domains["C"]}, rho=1.0, seed=4)
    assert one.edges == ()
    assert one.marginals == (("C",),)
    # the whole budget on the one measurement, so its map is ρ
    assert one.rho == pytest.approx(1.0, rel=1e-9)
    assert one.rho <= 1.0


# -- the budget ----------------------------------------------------------------------------

def test_reported_budget_is_the_sum_of_opendp_maps() -> None:
    table, domains = _dependent(n=4_000)
    res = synthesize(table, domains, epsilon=1.0, delta=1e-7, seed=5)
    dp = opendp()
    counts = dp.vector_domain(dp.atom_domain(T="i64")), dp.symmetric_distance()
    scores = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.linf_distance(T=float)
    maps = []
    for m in res.measurements:
        if m.kind == "marginal":
            meas = (counts >> dp.t.then_count_by_categories(
                categories=list(range(m.cells)), null_category=False, MO="L2Distance<int>")
                >> dp.m.then_gaussian(scale=m.scale))
            maps.append(meas.map(1))
        else:
            meas = scores >> dp.m.then_noisy_max(dp.zero_concentrated_divergence(),
                                                 scale=m.scale)
            maps.append(meas.map(1.0))
        assert maps[-1] == pytest.approx(m.rho, rel=1e-12)
    d = len(domains)
    kinds = [m.kind for m in res.measurements]
    assert kinds.count("marginal") == d + (d - 1)
    assert kinds.count("select") == d - 1
    assert res.rho == pytest.approx(math.fsum(maps), rel=1e-12)
    # ρ was chosen as the largest whose conversion is ε ≤ 1: nothing left unspent
    assert res.rho <= res.target_rho * (1 + 1e-12)
    assert res.rho == pytest.approx(res.target_rho, rel=1e-6)
    assert 0.9999 < res.epsilon <= 1.0
    assert res.delta == 1e-7


def test_rho_is_stated_as_epsilon_delta_by_opendp() -> None:
    # Reference (../shared/reference/stack_notes.md, "OpenDP 0.16: API notes", OpenDP
    # 0.16.0): ρ = 1/18 converts to ε = 1.71 at δ = 1e-7
    table, domains = _dependent(n=1_000)
    res = synthesize(table, domains, rho=1 / 18, delta=1e-7, seed=6)
    assert res.rho <= 1 / 18
    assert res.epsilon == pytest.approx(1.71, abs=0.005)
    spend = res.spend()
    assert spend.rho == res.rho
    assert spend.delta == 1e-7
    assert spend.epsilon == pytest.approx(res.epsilon)


def test_independent_baseline_spends_everything_on_the_1ways() -> None:
    table, domains = _dependent(n=2_000)
    res = synthesize(table, domains, rho=0.2, structure="independent", seed=8,
                     split=(1.0, 0.0, 0.0))
    assert [m.kind for m in res.measurements] == ["marginal"] * len(domains)
    assert res.rho == pytest.approx(0.2, rel=1e-9)
    assert res.compressed == {k: len(v) for k, v in domains.items()}


# -- consistency of the fitted marginals ------------------------------------------------

def test_projection_matches_a_generic_solver() -> None:
    y = np.array([[5.0, -2.0, 1.0], [0.5, 3.0, -1.0], [2.0, 2.0, 2.0]])
    r = np.array([4.0, 3.0, 5.0])
    c = np.array([6.0, 3.0, 3.0])
    x, res = _project_table(y, r, c)
    # reference: scipy 1.17 SLSQP on min ||x - y||² s.t. row/column sums, x ≥ 0 (the last
    # column sum follows from the others, and SLSQP needs independent constraints)
    cons = [{"type": "eq", "fun": lambda v, i=i: v.reshape(3, 3)[i].sum() - r[i]}
            for i in range(3)]
    cons += [{"type": "eq", "fun": lambda v, j=j: v.reshape(3, 3)[:, j].sum() - c[j]}
             for j in range(2)]
    ref = minimize(lambda v: ((v - y.ravel()) ** 2).sum(), np.ones(9), method="SLSQP",
                   bounds=[(0, None)] * 9, constraints=cons,
                   options={"ftol": 1e-14, "maxiter": 500})
    assert ref.success
    np.testing.assert_allclose(x.ravel(), ref.x, atol=1e-6)
    assert (x >= 0).all()
    assert res < 1e-8
    np.testing.assert_allclose(x.sum(axis=1), r, atol=1e-9)


def test_fitted_marginals_agree_on_shared_columns() -> None:
    table, domains = _dependent(n=3_000)
    res = synthesize(table, domains, epsilon=0.5, seed=9)
    fit = res.debug["fit"]
    for q, p in fit.parent.items():
        t = fit.tables[q]
        assert (t >= 0).all()
        np.testing.assert_allclose(t.sum(axis=1), fit.z[p], atol=1e-6 * fit.total + 1e-9)
        np.testing.assert_allclose(t.sum(axis=0), fit.z[q], atol=1e-6 * fit.total + 1e-9)
    for z in fit.z:
        assert (z >= 0).all()
        assert z.sum() == pytest.approx(fit.total)


def test_allocation_is_unbiased_and_rounds_to_floor_or_ceiling() -> None:
    rng = np.random.default_rng(0)
    w = np.array([0.37, 0.21, 0.0, 0.42])
    draws = np.array([_allocate(w, 7, rng) for _ in range(20_000)])
    assert (draws.sum(axis=1) == 7).all()
    share = 7 * w / w.sum()
    assert ((draws == np.floor(share)) | (draws == np.ceil(share))).all()
    # the mean of 20,000 draws of a 0/1 excess has s.e. ≤ 0.0036; 0.015 is 4 s.e.
    np.testing.assert_allclose(draws.mean(axis=0), share, atol=0.015)


# -- utility and disclosure: hand-checked -----------------------------------------------

def test_marginal_utility_by_hand() -> None:
    real = pa.table({"x": ["a", "a", "b", "b"], "y": ["u", "v", "u", "v"]})
    syn = pa.table({"x": ["a", "b", "b", "b"], "y": ["u", "u", "v", "v"]})
    u = marginal_utility(real, syn, ways=(1, 2))
    # x: (1/2, 1/2) vs (1/4, 3/4) -> TVD 1/4; y: equal -> 0
    assert u[1].mean_tvd == pytest.approx(0.125)
    assert u[1].max_tvd == pytest.approx(0.25)
    assert u[1].worst == ("x",)
    assert u[1].mean_l1 == pytest.approx(0.25)
    # cells (a,u) (a,v) (b,u) (b,v): 1/4 each vs 1/4, 0, 1/4, 1/2 -> ½(0 + ¼ + 0 + ¼)
    assert u[2].mean_tvd == pytest.approx(0.25)
    assert u[2].sets == u[2].sets_total == 1
    assert json.loads(json.dumps(u.to_dict()))["ways"][0]["way"] == 1


def test_marginal_utility_samples_sets_and_counts_nulls() -> None:
    real = pa.table({"x": ["a", None], "y": ["u", "u"], "z": [1, 2]})
    syn = pa.table({"x": ["a", "a"], "y": ["u", "u"], "z": [1, 2]})
    u = marginal_utility(real, syn, ways=(1, 2), max_sets=2, seed=3)
    # missing is a value: x is (½ a, ½ missing) vs (1 a) -> TVD ½
    assert u[1].sets == 2
    assert u[1].sets_total == 3
    assert u[2].sets == 2
    assert u[2].sets_total == 3
    full = marginal_utility(real, syn, ways=(1,))
    assert full[1].max_tvd == pytest.approx(0.5)
    assert full[1].worst == ("x",)
    assert full[1].mean_tvd == pytest.approx(0.5 / 3)


def test_unique_matches_by_hand() -> None:
    real = pa.table({"x": ["a", "a", "b", "b"], "y": ["u", "v", "u", "u"]})
    syn = pa.table({"x": ["a", "a", "a", "b"], "y": ["u", "u", "v", "v"]})
    m = unique_matches(real, syn)
    # real uniques: (a,u), (a,v); synthetic uniques: (a,v), (b,v); both: (a,v)
    assert (m.real_unique, m.synthetic_unique, m.matched) == (2, 2, 1)
    assert m.share == pytest.approx(0.25)


# -- list columns ------------------------------------------------------------------------

def test_list_columns_become_primary_value_or_flags() -> None:
    t = pa.table({"forms": [["ForcedLabour", "SexualExploitation"], [], None,
                            ["SexualExploitation"]]})
    p = primary_value(t, "forms", name="form")
    assert p.column_names == ["form"]
    assert p.column("form").to_pylist() == ["ForcedLabour", None, None, "SexualExploitation"]
    f, doms = flag_columns(t, "forms", ["SexualExploitation", "ForcedLabour"], prefix="f")
    assert f.column_names == ["f.SexualExploitation", "f.ForcedLabour"]
    assert f.column("f.SexualExploitation").to_pylist() == [True, False, None, True]
    assert f.column("f.ForcedLabour").to_pylist() == [True, False, None, False]
    assert doms == {"f.SexualExploitation": (False, True), "f.ForcedLabour": (False, True)}
    # several chunks, sliced (as tables read from Parquet come): same answers
    pieces = pa.concat_tables([t.slice(2, 2), t.slice(0, 2)])
    f2, _ = flag_columns(pieces, "forms", ["ForcedLabour"])
    assert f2.column("forms.ForcedLabour").to_pylist() == [None, False, True, False]
    with pytest.raises(SynthError, match="holds lists"):
        synthesize(t, {"forms": ["ForcedLabour"]}, rho=1.0)
    with pytest.raises(SynthError, match="not a list column"):
        primary_value(p, "form")


# -- bad input ---------------------------------------------------------------------------

def test_out_of_domain_values_are_dropped_counted_and_reported() -> None:
    table = pa.table({"A": ["a0", "X", "a1", "X", "a0", "a1"] * 50,
                      "B": ["b0", "b1", None, "b0", "b1", "b0"] * 50})
    res = synthesize(table, {"A": ["a0", "a1"], "B": ["b0", "b1"]}, rho=5.0, seed=1)
    # in each block of 6 rows, two have A = X and one has no B: 3 of every 6 rows dropped
    assert res.out_of_domain == {"A": 100, "B": 50}
    assert res.rows_in == 300
    assert res.rows_dropped == 150
    assert "X" not in res.table.column("A").to_pylist()
    assert None not in res.table.column("B").to_pylist()
    assert abs(res.n - 150) <= 5
    public = res.public_dict(rows=False)
    assert not {"rows_in", "rows_dropped", "out_of_domain"} & set(public)
    assert res.to_dict(rows=False)["out_of_domain"] == {"A": 100, "B": 50}


@pytest.mark.parametrize(("domains", "options", "match"), [
    ({"Z": ["z"]}, {"rho": 1.0}, "does not have"),
    ({"A": []}, {"rho": 1.0}, "empty"),
    ({"A": ["a0", "a0"]}, {"rho": 1.0}, "twice"),
    ({"A": ["a0", None]}, {"rho": 1.0}, "None"),
    ({}, {"rho": 1.0}, "no columns"),
    ({"A": ["a0"]}, {"epsilon": 0.0}, "epsilon must be"),
    ({"A": ["a0"]}, {"epsilon": -1.0}, "epsilon must be"),
    ({"A": ["a0"]}, {"epsilon": float("nan")}, "epsilon must be"),
    ({"A": ["a0"]}, {"rho": 0.0}, "rho must be"),
    ({"A": ["a0"]}, {}, "exactly one"),
    ({"A": ["a0"]}, {"epsilon": 1.0, "rho": 1.0}, "exactly one"),
    ({"A": ["a0"]}, {"epsilon": 1.0, "delta": 0.0}, "delta"),
    ({"A": ["a0"]}, {"rho": 1.0, "split": (0.0, 0.5, 0.5)}, "split"),
    ({"A": ["a0"]}, {"rho": 1.0, "split": (1.0, 1.0)}, "split"),
    ({"A": ["a0"]}, {"rho": 1.0, "split": (0.5, 0.5, 0.0)}, "no budget"),
    ({"A": ["a0"]}, {"rho": 1.0, "split": (0.5, 0.0, 0.5)}, "no budget"),
    ({"A": ["a0"]}, {"rho": 1.0, "structure": "chain"}, "structure"),
    ({"A": ["a0"]}, {"rho": 1.0, "n": -1}, "n must be"),
])
def test_bad_input_is_refused(domains: dict[str, list[object]], options: dict[str, object],
                              match: str) -> None:
    table = pa.table({"A": ["a0", "a1"]})
    with pytest.raises(SynthError, match=match) as err:
        synthesize(table, domains, **options)
    assert isinstance(err.value, TiplabError)


def test_repeated_person_is_refused() -> None:
    table = pa.table({"person_id": [1, 2, 2], "A": ["a0", "a1", "a1"]})
    with pytest.raises(SynthError, match="one row per person"):
        synthesize(table, {"A": ["a0", "a1"]}, rho=1.0)
    # without the unit column the caller vouches for one row per person
    res = synthesize(table, {"A": ["a0", "a1"]}, rho=1.0, unit_column=None)
    assert res.columns == ("A",)


def test_utility_refuses_bad_input() -> None:
    t = pa.table({"x": ["a"]})
    with pytest.raises(SynthError, match="no column"):
        marginal_utility(t, t, ["y"])
    with pytest.raises(SynthError, match="ways"):
        marginal_utility(t, t, ways=(2,))
    with pytest.raises(SynthError, match="empty"):
        marginal_utility(t, t.slice(0, 0))


# -- round trips -------------------------------------------------------------------------

def test_settings_and_result_round_trip_through_json() -> None:
    s = SynthSettings(epsilon=2.0, delta=1e-8, split=(0.5, 0.25, 0.25), seed=3, n=100)
    assert SynthSettings.from_dict(json.loads(json.dumps(s.to_dict()))) == s
    with pytest.raises(SynthError, match="unknown field"):
        SynthSettings.from_dict({**s.to_dict(), "colour": 1})
    table, domains = _dependent(n=500)
    res = synthesize(table, domains, s, data_version="v7")
    assert isinstance(res, SynthResult)
    d = json.loads(json.dumps(res.to_dict()))
    assert d["data_version"] == "v7"
    assert d["n"] == 100
    assert len(d["table"]) == 100
    assert d["parameters"]["split"] == [0.5, 0.25, 0.25]
    assert SynthSettings.from_dict(d["parameters"]) == s
    assert d["domains"]["E"] == [False, True]
    assert [tuple(e) for e in d["edges"]] == list(res.edges)
