"""The arithmetic of a privacy-budget ledger: what releases spent, what is left, and whether a
new release fits under the cap. No storage: the web app keeps the entries and calls these.

**Composition.** :func:`total` uses *basic sequential composition*: the ε of every spend add
up, and so do the δ (Dwork & Roth 2014, *The Algorithmic Foundations of Differential
Privacy*, Theorem 3.16). It holds for any mix of mechanisms and any order of releases, which
is why the ledger uses it. A spend measured in zero-concentrated DP (the discrete Gaussian, ρ)
enters with the (ε, δ) its ρ converts to at its own δ; OpenDP's conversion
(``make_zCDP_to_approxDP``, the bound of Canonne, Kamath & Steinke 2020) does that, through
:func:`zcdp_to_epsilon`.

:func:`total_zcdp` is tighter for a list made only of zCDP spends: ρ adds up exactly under
composition (Bun & Steinke 2016, Lemma 2.3), so the sum of the ρ is converted once, at the
sum of the δ. Use it only when every spend of the dataset is zCDP.

Sums are compared with the caps with a relative tolerance of 1e-9, so that float rounding
(0.1 + 0.2 > 0.3) never refuses a release that fits exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

from tiplab.errors import TiplabError

#: relative slack when comparing a sum of privacy losses with a cap (float rounding only)
RTOL = 1e-9


class BudgetError(TiplabError):
    """A spend or a budget is malformed (negative ε, δ outside [0, 1), ...)."""


class BudgetExceeded(BudgetError):
    """A new release would spend more than the dataset's privacy budget allows."""

    def __init__(self, message: str, *, needed: tuple[float, float],
                 spent: tuple[float, float], cap: tuple[float, float],
                 remaining: tuple[float, float]) -> None:
        super().__init__(message)
        self.needed = needed
        self.spent = spent
        self.cap = cap
        self.remaining = remaining


@dataclass(frozen=True)
class Spend:
    """One privacy-loss entry of the ledger: what one release (or one item of it) spent.

    ``epsilon`` and ``delta`` are what the spend costs under (ε, δ)-DP; a zCDP spend also
    keeps its ``rho`` (its ε is then the conversion of ρ at its δ, see :meth:`from_rho`).
    ``release`` groups the items of one release (the refusal message counts releases);
    ``dataset`` names the data the budget belongs to.
    """

    epsilon: float
    delta: float = 0.0
    rho: float | None = None
    mechanism: str = ""
    query: str = ""
    dataset: str = ""
    release: str = ""

    def __post_init__(self) -> None:
        where = f"privacy spend {self.query!r}" if self.query else "privacy spend"
        if not (math.isfinite(self.epsilon) and self.epsilon >= 0):
            raise BudgetError(f"{where}: ε must be a finite number ≥ 0 (got {self.epsilon})")
        if not (math.isfinite(self.delta) and 0 <= self.delta < 1):
            raise BudgetError(f"{where}: δ must be in [0, 1) (got {self.delta})")
        if self.rho is not None:
            if not (math.isfinite(self.rho) and self.rho > 0):
                raise BudgetError(f"{where}: ρ must be a finite number > 0 (got {self.rho})")
            if self.delta <= 0:
                raise BudgetError(f"{where}: a zCDP spend (ρ={self.rho:g}) needs the δ at "
                                  "which its ε was converted; use Spend.from_rho(rho, delta)")

    @classmethod
    def from_rho(cls, rho: float, delta: float, **fields: Any) -> Spend:
        """A zCDP spend: ``epsilon`` is ρ converted to (ε, δ) at ``delta`` by OpenDP."""
        return cls(epsilon=zcdp_to_epsilon(rho, delta), delta=delta, rho=rho, **fields)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Spend:
        known = set(cls.__dataclass_fields__)
        extra = set(d) - known
        if extra:
            raise BudgetError(f"privacy spend: unknown field(s) {', '.join(sorted(extra))}")
        rho = d.get("rho")
        return cls(epsilon=float(d["epsilon"]), delta=float(d.get("delta") or 0.0),
                   rho=None if rho is None else float(rho),
                   **{k: str(d[k]) for k in ("mechanism", "query", "dataset", "release")
                      if d.get(k) is not None})


@dataclass(frozen=True)
class Budget:
    """The caps of one dataset: total ε and total δ that all its releases may spend."""

    epsilon_cap: float
    delta_cap: float = 0.0
    dataset: str = ""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.epsilon_cap) and self.epsilon_cap > 0):
            raise BudgetError(f"the ε cap must be a finite number > 0 (got {self.epsilon_cap})")
        if not (math.isfinite(self.delta_cap) and 0 <= self.delta_cap < 1):
            raise BudgetError(f"the δ cap must be in [0, 1) (got {self.delta_cap})")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def total(spends: Iterable[Spend]) -> tuple[float, float]:
    """(ε, δ) spent by ``spends`` under basic sequential composition: both add up.

    zCDP spends enter with the (ε, δ) they carry (their ρ converted at their δ).
    """
    items = list(spends)
    return math.fsum(s.epsilon for s in items), math.fsum(s.delta for s in items)


def total_zcdp(spends: Sequence[Spend], delta: float | None = None) -> tuple[float, float]:
    """(ε, δ) of a list of zCDP spends composed in zCDP: the ρ add up, then one conversion.

    ``delta`` is where the sum is converted (default: the sum of the spends' δ, which keeps
    the result comparable with :func:`total`). Tighter than :func:`total` because the square
    root in the conversion is paid once. Raises :class:`BudgetError` if a spend has no ρ.
    """
    if not spends:
        return 0.0, 0.0
    plain = [s.query or s.mechanism or "?" for s in spends if s.rho is None]
    if plain:
        raise BudgetError(f"zCDP composition needs a ρ on every spend; {len(plain)} have none "
                          f"({', '.join(plain[:3])}): use total() for mixed ledgers")
    d = math.fsum(s.delta for s in spends) if delta is None else float(delta)
    rho = math.fsum(float(s.rho) for s in spends if s.rho is not None)
    return zcdp_to_epsilon(rho, d), d


def remaining(spends: Iterable[Spend], budget: Budget) -> tuple[float, float]:
    """(ε, δ) still available under ``budget`` after ``spends`` (never below zero)."""
    eps, delta = total(spends)
    return max(0.0, budget.epsilon_cap - eps), max(0.0, budget.delta_cap - delta)


def check(spends: Iterable[Spend], new: Spend | Sequence[Spend], budget: Budget) -> None:
    """Raise :class:`BudgetExceeded` if ``new`` (one spend or the items of one release) does
    not fit in what ``spends`` left of ``budget``; return None when it fits."""
    spent = list(spends)
    fresh = [new] if isinstance(new, Spend) else list(new)
    e_old, d_old = total(spent)
    e_new, d_new = total(fresh)
    e_left, d_left = remaining(spent, budget)
    dataset = budget.dataset or next((s.dataset for s in spent if s.dataset), "") \
        or "this dataset"
    n_rel = _releases(spent)
    history = (f"{_num(e_old)} of the cap {_num(budget.epsilon_cap)} is already spent on "
               f"{dataset} ({n_rel} release{'s' if n_rel != 1 else ''})")
    if not _fits(e_old + e_new, budget.epsilon_cap):
        raise BudgetExceeded(
            f"this release needs ε={_num(e_new)}; {history}; {_num(e_left)} remains. Lower "
            f"the release's ε to at most {_num(e_left)}, or have the data steward raise the "
            "cap", needed=(e_new, d_new), spent=(e_old, d_old),
            cap=(budget.epsilon_cap, budget.delta_cap), remaining=(e_left, d_left))
    if not _fits(d_old + d_new, budget.delta_cap):
        raise BudgetExceeded(
            f"this release needs δ={d_new:.3g}; {d_old:.3g} of the δ cap "
            f"{budget.delta_cap:.3g} is already spent on {dataset} ({n_rel} "
            f"release{'s' if n_rel != 1 else ''}); {d_left:.3g} remains. Use the Laplace "
            "mechanism (δ = 0) or a smaller δ, or have the data steward raise the δ cap",
            needed=(e_new, d_new), spent=(e_old, d_old),
            cap=(budget.epsilon_cap, budget.delta_cap), remaining=(e_left, d_left))


@lru_cache(maxsize=256)
def zcdp_to_epsilon(rho: float, delta: float) -> float:
    """ε of a ρ-zCDP guarantee at ``delta``, by OpenDP's conversion (``make_zCDP_to_approxDP``).

    Assumes ρ > 0 and 0 < δ < 1. The conversion depends on ρ only, so it is computed on a
    reference Gaussian measurement whose privacy map gives exactly that ρ.
    """
    if not (math.isfinite(rho) and rho > 0):
        raise BudgetError(f"ρ must be a finite number > 0 (got {rho})")
    if not (0 < delta < 1):
        raise BudgetError(f"converting ρ to (ε, δ) needs 0 < δ < 1 (got {delta})")
    from tiplab.privacy.dp import opendp

    dp = opendp()
    meas = dp.m.make_gaussian(dp.atom_domain(T=int, nan=False), dp.absolute_distance(T=float),
                              scale=1.0)
    # a Gaussian of scale 1 has ρ = d_in² / 2, so d_in = √(2ρ) gives the ρ asked for
    d_in = math.sqrt(2.0 * rho)
    approx = dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(meas), delta=delta)
    eps, _ = approx.map(d_in)
    return float(eps)


@lru_cache(maxsize=64)
def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """The largest ρ whose OpenDP conversion at ``delta`` gives at most ``epsilon``."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise BudgetError(f"ε must be a finite number > 0 (got {epsilon})")
    from tiplab.privacy.dp import opendp

    dp = opendp()
    # ρ ≤ ε always (ε = ρ + 2√(ρ log(1/δ)) at worst), which bounds the search
    return float(dp.binary_search(lambda r: zcdp_to_epsilon(r, delta) <= epsilon,
                                  bounds=(1e-300, float(epsilon))))


def _fits(value: float, cap: float) -> bool:
    return value <= cap * (1 + RTOL) + 1e-15


def _releases(spends: Sequence[Spend]) -> int:
    named = {s.release for s in spends if s.release}
    return len(named) + sum(1 for s in spends if not s.release)


def _num(x: float) -> str:
    """0.5 -> '0.50'; 0.125 -> '0.125'; 0.0004 -> '0.0004' (two decimals unless that hides
    digits)."""
    s = f"{x:.2f}"
    return s if abs(float(s) - x) < 1e-9 else f"{x:.3g}"
