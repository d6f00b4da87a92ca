"""Agreement between coders: Cohen's κ (two coders) and Fleiss' κ (three or more), per code.

Each code is judged separately and binary: over the coding units (sentences) every coder
either applied the code to a unit or did not. κ compares the observed agreement with the
agreement expected by chance from how often each coder (Cohen) or all coders together
(Fleiss) apply the code:

    κ = (p_o - p_e) / (1 - p_e)

When p_e = 1 (every coder left the code off every unit, or applied it to every unit) κ is
undefined: there is nothing to agree on beyond chance, so the row says so instead of a number.
Readings follow Landis & Koch (1977), "The measurement of observer agreement for categorical
data", Biometrics 33(1):159-174, table 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["KappaRow", "agreement_by_code", "cohen_kappa", "fleiss_kappa", "landis_koch"]

#: (upper bound, reading), Landis & Koch (1977)
_READINGS = ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"),
             (0.80, "substantial"), (1.0, "almost perfect"))
_EPS = 1e-12


def landis_koch(kappa: float | None) -> str:
    """Landis & Koch's reading of κ: poor (< 0), slight (0-0.20), fair (0.21-0.40),
    moderate (0.41-0.60), substantial (0.61-0.80), almost perfect (0.81-1)."""
    if kappa is None or math.isnan(kappa):
        return "undefined"
    k = round(kappa, 10)
    if k < 0:
        return "poor"
    for upper, word in _READINGS[1:]:
        if k <= upper:
            return word
    return "almost perfect"


def _cohen_parts(a: Sequence[int], b: Sequence[int]) -> tuple[float, float]:
    if len(a) != len(b):
        raise ValueError(f"the two coders rated {len(a)} and {len(b)} units: give both the "
                         "same units in the same order")
    if not a:
        raise ValueError("no units to compare")
    n = len(a)
    observed = sum(1 for x, y in zip(a, b, strict=True) if x == y) / n
    cats = set(a) | set(b)
    expected = sum((sum(1 for x in a if x == c) / n) * (sum(1 for y in b if y == c) / n)
                   for c in cats)
    return observed, expected


def cohen_kappa(a: Sequence[int], b: Sequence[int]) -> float:
    """Cohen's κ of two coders' ratings of the same units.

    Parameters
    ----------
    a, b : sequence of int
        One rating per unit (e.g. 1 = code applied, 0 = not); any category labels work.

    Returns
    -------
    float
        κ = (p_o - p_e) / (1 - p_e), with p_e from each coder's own category shares
        (Cohen 1960). ``nan`` when p_e = 1 (both coders used one and the same category for
        every unit): κ is undefined.

    Raises
    ------
    ValueError
        When the sequences differ in length or are empty.
    """
    observed, expected = _cohen_parts(a, b)
    if expected >= 1 - _EPS:
        return math.nan
    return (observed - expected) / (1 - expected)


def _fleiss_parts(counts: Sequence[Sequence[int]]) -> tuple[float, float, int]:
    if not counts:
        raise ValueError("no units to compare")
    width = len(counts[0])
    raters = sum(counts[0])
    for i, row in enumerate(counts):
        if len(row) != width:
            raise ValueError(f"row {i} has {len(row)} categories, row 0 has {width}")
        if any(x < 0 for x in row):
            raise ValueError(f"row {i} has a negative count")
        if sum(row) != raters:
            raise ValueError(f"row {i} has {sum(row)} ratings, row 0 has {raters}: every unit "
                             "must be rated by the same number of coders")
    if raters < 2:
        raise ValueError("Fleiss' kappa needs at least two ratings per unit")
    n_items = len(counts)
    p_i = [(sum(x * x for x in row) - raters) / (raters * (raters - 1)) for row in counts]
    observed = sum(p_i) / n_items
    shares = [sum(row[j] for row in counts) / (n_items * raters) for j in range(width)]
    expected = sum(p * p for p in shares)
    return observed, expected, raters


def fleiss_kappa(counts: Sequence[Sequence[int]]) -> float:
    """Fleiss' κ for units each rated by the same number of coders.

    Parameters
    ----------
    counts : sequence of sequence of int
        ``counts[i][j]`` = how many coders put unit ``i`` in category ``j``; every row sums
        to the same number of coders n ≥ 2.

    Returns
    -------
    float
        κ = (P̄ - P̄_e) / (1 - P̄_e), where P̄ is the mean over units of the share of agreeing
        coder pairs and P̄_e the sum of squared overall category shares (Fleiss 1971).
        ``nan`` when P̄_e = 1 (one category used for every rating).

    Raises
    ------
    ValueError
        For no rows, rows of unequal length or unequal totals, or fewer than two coders.
    """
    observed, expected, _ = _fleiss_parts(counts)
    if expected >= 1 - _EPS:
        return math.nan
    return (observed - expected) / (1 - expected)


@dataclass(frozen=True)
class KappaRow:
    """Agreement on one code.

    ``positive`` is the number of units that at least one coder coded with the code;
    ``observed`` and ``expected`` are p_o and p_e; ``kappa`` is ``None`` when undefined,
    and ``label`` then says why.
    """

    code: str
    method: str
    units: int
    coders: int
    positive: int
    observed: float
    expected: float
    kappa: float | None
    label: str


def agreement_by_code(codings: Mapping[str, Mapping[str, set[str]]], units: Sequence[str],
                      codes: Sequence[str]) -> list[KappaRow]:
    """κ per code over the coding units, for two coders (Cohen) or more (Fleiss).

    Parameters
    ----------
    codings : mapping
        coder -> unit id -> set of code keys the coder applied to that unit. A unit missing
        from a coder's mapping counts as coded with nothing.
    units : sequence of str
        The unit ids every coder coded (e.g. the sentences of notes that all finished).
    codes : sequence of str
        The codes to report, in the order of the rows.

    Returns
    -------
    list of KappaRow
        One row per code, in the order of ``codes``.

    Raises
    ------
    ValueError
        With fewer than two coders, no units, or a repeated unit id.
    """
    coders = sorted(codings)
    if len(coders) < 2:
        raise ValueError(f"agreement needs at least two coders, got {len(coders)}")
    if not units:
        raise ValueError("no units to compare")
    if len(set(units)) != len(units):
        raise ValueError("a unit id is repeated: give each unit once")
    method = "cohen" if len(coders) == 2 else "fleiss"
    rows: list[KappaRow] = []
    for code in codes:
        ratings = [[int(code in codings[c].get(u, ())) for u in units] for c in coders]
        positive = sum(1 for i in range(len(units)) if any(r[i] for r in ratings))
        if method == "cohen":
            observed, expected = _cohen_parts(ratings[0], ratings[1])
        else:
            counts = [[len(coders) - sum(r[i] for r in ratings), sum(r[i] for r in ratings)]
                      for i in range(len(units))]
            observed, expected, _ = _fleiss_parts(counts)
        if expected >= 1 - _EPS:
            why = ("no coder applied this code to any unit" if positive == 0 else
                   "every coder applied this code to every unit")
            kappa: float | None = None
            label = f"undefined: {why}, so agreement by chance is certain"
        else:
            kappa = (observed - expected) / (1 - expected)
            label = landis_koch(kappa)
        rows.append(KappaRow(code=code, method=method, units=len(units), coders=len(coders),
                             positive=positive, observed=observed, expected=expected,
                             kappa=kappa, label=label))
    return rows
