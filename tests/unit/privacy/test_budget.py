"""The privacy-budget arithmetic: composition, the cap, what remains, zCDP conversion."""

from __future__ import annotations

import json
import math

import pytest

from tiplab.errors import TiplabError
from tiplab.privacy.budget import (
    Budget,
    BudgetError,
    BudgetExceeded,
    Spend,
    check,
    remaining,
    rho_for_epsilon,
    total,
    total_zcdp,
    zcdp_to_epsilon,
)

# Reference (../shared/reference/stack_notes.md, "OpenDP 0.16: API notes", checked with
# OpenDP 0.16.0): a discrete Gaussian of scale 3 on a count has ρ = 1/18 = 0.0556, and
# make_fix_delta(make_zCDP_to_approxDP(meas), delta=1e-7).map(1) gives (1.71, 1e-7).
RHO_SCALE_3 = 1 / 18
EPS_SCALE_3_DELTA_1E7 = 1.71


def _ledger() -> list[Spend]:
    return [Spend(epsilon=0.3, mechanism="laplace", query="by region", release="r1",
                  dataset="X"),
            Spend(epsilon=0.2, mechanism="laplace", query="by year", release="r1",
                  dataset="X"),
            Spend(epsilon=0.1, release="r2", dataset="X"),
            Spend(epsilon=0.2, release="r3", dataset="X")]


def test_total_is_basic_sequential_composition() -> None:
    spends = [Spend(0.25), Spend(0.5, delta=1e-8), Spend(0.125, delta=2e-8)]
    eps, delta = total(spends)
    assert eps == 0.875
    assert delta == pytest.approx(3e-8, rel=1e-12)
    assert total([]) == (0.0, 0.0)


def test_remaining_after_spends() -> None:
    budget = Budget(epsilon_cap=1.0, delta_cap=1e-6, dataset="X")
    eps, delta = remaining(_ledger(), budget)
    assert eps == pytest.approx(0.2, abs=1e-12)
    assert delta == 1e-6
    # never below zero, even on a ledger that overspent (a cap lowered afterwards)
    assert remaining(_ledger(), Budget(epsilon_cap=0.5)) == (0.0, 0.0)


def test_check_refuses_with_a_message_that_says_what_where_and_how() -> None:
    budget = Budget(epsilon_cap=1.0, dataset="X")
    with pytest.raises(BudgetExceeded) as info:
        check(_ledger(), Spend(epsilon=0.5, query="by form"), budget)
    msg = str(info.value)
    assert ("this release needs ε=0.50; 0.80 of the cap 1.00 is already spent on X "
            "(3 releases); 0.20 remains") in msg
    assert "Lower the release's ε to at most 0.20" in msg
    assert isinstance(info.value, TiplabError)
    assert info.value.needed == (0.5, 0.0)
    assert info.value.remaining[0] == pytest.approx(0.2)


def test_check_accepts_what_fits_exactly_despite_float_rounding() -> None:
    budget = Budget(epsilon_cap=0.3)
    # 0.1 + 0.2 = 0.30000000000000004 in floats; the release still fits
    assert check([Spend(0.1)], Spend(0.2), budget) is None
    assert check([Spend(0.1), Spend(0.1)], [Spend(0.05), Spend(0.05)], budget) is None
    with pytest.raises(BudgetExceeded):
        check([Spend(0.1)], [Spend(0.1), Spend(0.1001)], budget)


def test_check_counts_releases_not_items_and_names_the_dataset_from_the_ledger() -> None:
    spends = [Spend(0.2, release="a", dataset="Tiplandia cases"),
              Spend(0.2, release="a", dataset="Tiplandia cases"),
              Spend(0.5)]
    with pytest.raises(BudgetExceeded, match=r"already spent on Tiplandia cases "
                                             r"\(2 releases\)"):
        check(spends, Spend(0.2), Budget(epsilon_cap=1.0))
    with pytest.raises(BudgetExceeded, match=r"on this dataset \(1 release\)"):
        check([Spend(0.9)], Spend(0.2), Budget(epsilon_cap=1.0))


def test_check_refuses_delta_over_its_cap() -> None:
    budget = Budget(epsilon_cap=10.0, delta_cap=1e-6)
    spent = [Spend(1.0, delta=9e-7)]
    with pytest.raises(BudgetExceeded, match=r"needs δ=2e-07; 9e-07 of the δ cap 1e-06"):
        check(spent, Spend(1.0, delta=2e-7), budget)
    assert check(spent, Spend(1.0, delta=1e-7), budget) is None
    with pytest.raises(BudgetExceeded, match="Laplace mechanism"):
        check([], Spend(1.0, delta=1e-9), Budget(epsilon_cap=10.0))


def test_zcdp_conversion_matches_the_reference_and_the_closed_form_bound() -> None:
    eps = zcdp_to_epsilon(RHO_SCALE_3, 1e-7)
    assert eps == pytest.approx(EPS_SCALE_3_DELTA_1E7, abs=0.005)
    # Bun & Steinke 2016, Prop. 1.3: ε ≤ ρ + 2√(ρ log 1/δ); OpenDP's conversion is tighter
    assert eps < RHO_SCALE_3 + 2 * math.sqrt(RHO_SCALE_3 * math.log(1e7))
    assert eps > RHO_SCALE_3


def test_rho_for_epsilon_inverts_the_conversion() -> None:
    rho = rho_for_epsilon(1.0, 1e-7)
    assert zcdp_to_epsilon(rho, 1e-7) <= 1.0
    assert zcdp_to_epsilon(rho, 1e-7) == pytest.approx(1.0, rel=1e-6)
    assert rho_for_epsilon(EPS_SCALE_3_DELTA_1E7, 1e-7) == pytest.approx(RHO_SCALE_3,
                                                                         rel=0.01)


def test_zcdp_spends_compose_tighter_in_rho() -> None:
    spends = [Spend.from_rho(0.01, 1e-8, query=f"q{i}") for i in range(4)]
    assert spends[0].epsilon == pytest.approx(zcdp_to_epsilon(0.01, 1e-8))
    basic = total(spends)
    tight = total_zcdp(spends)
    assert tight[1] == pytest.approx(basic[1])
    assert tight[0] == pytest.approx(zcdp_to_epsilon(0.04, 4e-8))
    assert tight[0] < 0.6 * basic[0]
    with pytest.raises(BudgetError, match="needs a ρ on every spend"):
        total_zcdp([*spends, Spend(0.1, query="laplace count")])
    assert total_zcdp([]) == (0.0, 0.0)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"epsilon": -0.1}, "ε must be a finite number ≥ 0"),
    ({"epsilon": math.inf}, "ε must be a finite number ≥ 0"),
    ({"epsilon": 0.1, "delta": 1.0}, r"δ must be in \[0, 1\)"),
    ({"epsilon": 0.1, "rho": 0.01}, "needs the δ at which its ε was converted"),
    ({"epsilon": 0.1, "delta": 1e-9, "rho": -1.0}, "ρ must be a finite number > 0"),
])
def test_bad_spends_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(BudgetError, match=message):
        Spend(**kwargs)


def test_bad_budgets_and_conversions_are_refused() -> None:
    with pytest.raises(BudgetError, match="ε cap must be a finite number > 0"):
        Budget(epsilon_cap=0.0)
    with pytest.raises(BudgetError, match=r"δ cap must be in \[0, 1\)"):
        Budget(epsilon_cap=1.0, delta_cap=-1e-9)
    with pytest.raises(BudgetError, match="needs 0 < δ < 1"):
        zcdp_to_epsilon(0.1, 0.0)
    with pytest.raises(BudgetError, match="ρ must be"):
        zcdp_to_epsilon(0.0, 1e-7)


def test_spend_round_trips_through_json() -> None:
    s = Spend.from_rho(0.02, 1e-7, mechanism="gaussian", query="by region", dataset="X",
                       release="r9")
    back = Spend.from_dict(json.loads(json.dumps(s.to_dict())))
    assert back == s
    assert Budget(1.0, 1e-6, "X").to_dict() == {"epsilon_cap": 1.0, "delta_cap": 1e-6,
                                                 "dataset": "X"}
    with pytest.raises(BudgetError, match="unknown field"):
        Spend.from_dict({"epsilon": 0.1, "cost": 3})
