"""The Bayesian methods through estimate() and the CLI, and the method comparison with its
recommendation."""

from __future__ import annotations

import json

import numpy as np
import pytest
from mse_helpers import DATA, load
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab.estimation import CaptureTable, EstimationError, estimate
from tiplab.estimation.compare import compare_methods

SMALL_LCMCR = {"chains": 2, "burnin": 300, "samples": 200, "thin": 2}


def independent(seed: int) -> CaptureTable:
    rng = np.random.default_rng(seed)
    caught = rng.random((4000, 4)) < np.array([0.3, 0.25, 0.35, 0.2])
    counts = np.bincount(caught @ (1 << np.arange(4)), minlength=16)
    return CaptureTable.from_patterns("ABCD", range(1, 16), counts[1:])


def two_classes(seed: int) -> CaptureTable:
    rng = np.random.default_rng(seed)
    visible = rng.random(4000) < 0.3
    p = np.where(visible[:, None], [0.6, 0.55, 0.6, 0.5], [0.08, 0.1, 0.07, 0.09])
    caught = rng.random((4000, 4)) < p
    counts = np.bincount(caught @ (1 << np.arange(4)), minlength=16)
    return CaptureTable.from_patterns("ABCD", range(1, 16), counts[1:])


def test_bayesian_methods_return_an_ordinary_result() -> None:
    table = load("kosovo_1999_4lists.csv")
    d = estimate(table, "dga")
    assert d.interval_type == "posterior credible interval"
    assert d.interval[0] <= d.estimate <= d.interval[1]
    assert d.details["top_models"][0]["probability"] > 0
    json.dumps(d.to_dict(), allow_nan=False)  # strict JSON
    lc = estimate(table, "lcmcr", seed=3, bayes=SMALL_LCMCR)
    assert {"rhat", "ess", "converged"} <= set(lc.fit)
    assert lc.settings["chains"] == 2
    with pytest.raises(EstimationError, match="unknown setting"):
        estimate(table, "lcmcr", bayes={"chain": 2})
    with pytest.raises(EstimationError, match="unknown setting"):
        estimate(table, "dga", bayes={"K": 3})


def test_without_heterogeneity_lcmcr_agrees_with_the_log_linear_models() -> None:
    comp = compare_methods(independent(1), bayes={
        "lcmcr": {"chains": 2, "burnin": 1000, "samples": 400, "thin": 4}})
    assert comp.heterogeneity["detected"] is False
    assert any("no individual heterogeneity" in r for r in comp.reasons)
    assert comp.recommended == "lcmcr"
    lc, sw = comp.row("lcmcr"), comp.row("stepwise")
    assert lc is not None
    assert sw is not None
    assert lc["lower"] <= sw["estimate"] <= lc["upper"]
    assert {r["method"] for r in comp.rows} >= {"stepwise", "lcmcr", "dga", "main"}


def test_heterogeneity_is_reported_and_non_convergence_is_never_silent() -> None:
    comp = compare_methods(two_classes(2), bayes={"lcmcr": SMALL_LCMCR})
    assert comp.heterogeneity["detected"] is True
    assert any("heterogeneity detected" in r for r in comp.reasons)
    assert comp.recommended == "lcmcr"
    lc = comp.row("lcmcr")
    assert lc is not None
    if not lc["converged"]:
        assert any("NOT converged" in r and "R-hat" in r for r in comp.reasons)


def test_with_two_lists_only_the_log_linear_methods_remain() -> None:
    table = CaptureTable.from_patterns("AB", [1, 2, 3], [400, 300, 100])
    comp = compare_methods(table)
    assert comp.recommended == "stepwise"
    assert "3 lists" in (comp.row("lcmcr") or {}).get("error", "")


def test_the_cli_estimates_with_lcmcr_and_compares_as_json() -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["estimate", str(DATA / "uk2013_6lists.csv"), "--method",
                              "lcmcr", "--chains", "2", "--burnin", "200", "--samples", "100",
                              "--thin", "2", "--json"])
    assert out.exit_code == 0, out.output
    body = json.loads(out.output)
    assert body["method"] == "lcmcr"
    assert body["interval_type"] == "posterior credible interval"
    assert body["fit"]["converged"] in (True, False)
    if not body["fit"]["converged"]:
        assert any("have not converged" in w for w in body["warnings"])
    cmp = runner.invoke(app, ["estimate", str(DATA / "western_us_5lists.csv"), "--nboot", "0",
                              "--compare", "--chains", "2", "--burnin", "200", "--samples",
                              "100", "--json"])
    assert cmp.exit_code == 0, cmp.output
    comparison = json.loads(cmp.output)["comparison"]
    assert [m["method"] for m in comparison["methods"]][:2] == ["stepwise", "main"]
    assert comparison["recommended"] in {m["method"] for m in comparison["methods"]}
    assert comparison["reasons"]
