"""Agreement between coders against values worked out by hand (in the comments) and against
Fleiss' worked example as printed on Wikipedia, with statsmodels as a second opinion."""

from __future__ import annotations

import math

import pytest

from tiplab.qualitative.agreement import (
    agreement_by_code,
    cohen_kappa,
    fleiss_kappa,
    landis_koch,
)


def test_cohen_kappa_of_a_two_by_two_table_by_hand():
    # 50 units:          B yes   B no
    #           A yes      20       5     (A says yes 25/50 = 0.5)
    #           A no       10      15
    # (B says yes 30/50 = 0.6)
    # p_o = (20 + 15) / 50 = 0.70
    # p_e = 0.5 * 0.6 + 0.5 * 0.4 = 0.30 + 0.20 = 0.50
    # kappa = (0.70 - 0.50) / (1 - 0.50) = 0.40
    a = [1] * 20 + [1] * 5 + [0] * 10 + [0] * 15
    b = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.40, abs=1e-12)
    assert landis_koch(0.40) == "fair"


def test_cohen_kappa_perfect_chance_and_undefined():
    assert cohen_kappa([1, 0, 1, 0], [1, 0, 1, 0]) == pytest.approx(1.0)
    # A: 1 1 0 0, B: 1 0 1 0 -> p_o = 2/4 = 0.5, p_e = .5*.5 + .5*.5 = 0.5, kappa = 0
    assert cohen_kappa([1, 1, 0, 0], [1, 0, 1, 0]) == pytest.approx(0.0)
    # A: 1 1 0 0, B: 0 0 1 1 -> p_o = 0, p_e = 0.5, kappa = -1
    assert cohen_kappa([1, 1, 0, 0], [0, 0, 1, 1]) == pytest.approx(-1.0)
    # nobody ever applies the code: p_e = 1, kappa undefined
    assert math.isnan(cohen_kappa([0, 0, 0], [0, 0, 0]))
    with pytest.raises(ValueError, match="same units"):
        cohen_kappa([1, 0], [1])
    with pytest.raises(ValueError, match="no units"):
        cohen_kappa([], [])


# Fleiss' kappa worked example, Wikipedia "Fleiss' kappa" (section "Worked example"; 10
# subjects, 14 raters, 5 categories): P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
WIKIPEDIA = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_worked_example():
    assert fleiss_kappa(WIKIPEDIA) == pytest.approx(0.210, abs=5e-4)
    from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss

    assert fleiss_kappa(WIKIPEDIA) == pytest.approx(sm_fleiss(WIKIPEDIA), abs=1e-12)


def test_fleiss_kappa_bad_input():
    with pytest.raises(ValueError, match="same number of coders"):
        fleiss_kappa([[1, 2], [2, 2]])
    with pytest.raises(ValueError, match="at least two"):
        fleiss_kappa([[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="categories"):
        fleiss_kappa([[1, 2], [1, 1, 1]])
    assert math.isnan(fleiss_kappa([[3, 0], [3, 0]]))


def test_agreement_by_code_two_coders_uses_cohen():
    units = [f"u{i}" for i in range(6)]
    codings = {
        "ana": {"u0": {"FL02"}, "u1": {"FL02", "FL07"}, "u2": set(), "u3": {"FL07"}},
        "ben": {"u0": {"FL02"}, "u1": {"FL07"}, "u3": {"FL07"}, "u4": {"FL02"}},
    }  # units missing from a coder's mapping count as coded with nothing
    rows = agreement_by_code(codings, units, ["FL02", "FL07", "FL09"])
    fl02, fl07, fl09 = rows
    # FL02: ana 1 1 0 0 0 0, ben 1 0 0 0 1 0 -> p_o = 4/6, p_e = (2/6)(2/6) + (4/6)(4/6)
    # = 4/36 + 16/36 = 20/36 -> kappa = (24/36 - 20/36) / (16/36) = 0.25
    assert fl02.method == "cohen"
    assert fl02.coders == 2
    assert fl02.units == 6
    assert fl02.positive == 3  # u0, u1, u4
    assert fl02.observed == pytest.approx(4 / 6)
    assert fl02.expected == pytest.approx(20 / 36)
    assert fl02.kappa == pytest.approx(0.25)
    assert fl02.label == "fair"
    # FL07: identical (u1, u3) -> kappa 1
    assert fl07.kappa == pytest.approx(1.0)
    assert fl07.label == "almost perfect"
    # FL09: nobody -> undefined, and the label says why
    assert fl09.kappa is None
    assert fl09.positive == 0
    assert fl09.label.startswith("undefined: no coder applied this code")


def test_agreement_by_code_three_coders_uses_fleiss():
    # code X on 4 units by 3 coders: applied by 3, 2, 0, 1 coders.
    # counts (not, applied): [0,3] [1,2] [3,0] [2,1]
    # P_i = (sum n^2 - 3) / (3*2): 1, 1/3, 1, 1/3 -> P-bar = 2/3
    # p(applied) = (3+2+0+1)/12 = 0.5 -> P-bar_e = 0.25 + 0.25 = 0.5
    # kappa = (2/3 - 1/2) / (1/2) = 1/3
    codings = {"a": {"1": {"X"}, "2": {"X"}, "4": {"X"}},
               "b": {"1": {"X"}, "2": {"X"}},
               "c": {"1": {"X"}, "3": set()}}
    (row,) = agreement_by_code(codings, ["1", "2", "3", "4"], ["X"])
    assert row.method == "fleiss"
    assert row.coders == 3
    assert row.positive == 3
    assert row.observed == pytest.approx(2 / 3)
    assert row.expected == pytest.approx(0.5)
    assert row.kappa == pytest.approx(1 / 3)
    assert row.label == "fair"
    (every,) = agreement_by_code({k: {u: {"X"} for u in "12"} for k in "abc"}, ["1", "2"],
                                 ["X"])
    assert every.kappa is None
    assert "every coder applied" in every.label


def test_agreement_by_code_bad_input():
    with pytest.raises(ValueError, match="at least two coders"):
        agreement_by_code({"a": {}}, ["1"], ["X"])
    with pytest.raises(ValueError, match="no units"):
        agreement_by_code({"a": {}, "b": {}}, [], ["X"])
    with pytest.raises(ValueError, match="repeated"):
        agreement_by_code({"a": {}, "b": {}}, ["1", "1"], ["X"])


@pytest.mark.parametrize(("kappa", "label"), [
    (-0.1, "poor"), (0.0, "slight"), (0.2, "slight"), (0.21, "fair"), (0.4, "fair"),
    (0.41, "moderate"), (0.6, "moderate"), (0.61, "substantial"), (0.8, "substantial"),
    (0.81, "almost perfect"), (1.0, "almost perfect"), (None, "undefined"),
    (float("nan"), "undefined"),
])
def test_landis_koch_labels(kappa, label):
    # Landis & Koch (1977), Biometrics 33(1):159-174, table 1
    assert landis_koch(kappa) == label
