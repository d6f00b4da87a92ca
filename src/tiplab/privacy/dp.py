"""Differentially private count tables of persons, measured with OpenDP and made consistent.

:func:`dp_tables` releases a cross table (say region × year × form of exploitation) together
with its margins and total, all under one privacy budget, in the manner of the US Census
Bureau's TopDown algorithm (Abowd et al. 2022, *Harvard Data Science Review*): several
tables are measured with noise, then post-processed into one table whose counts are
non-negative integers that add up exactly to the released margins and total.

**Privacy unit.** One person. With a ``person_id`` column the table may hold several rows per
person (one per record, or one per form after exploding a list); each person's
contributions are *bounded*: she counts in at most ``max_contributions`` = k distinct cells
of the cross table (default 1 when every dimension is a single value per row, 2 when a
dimension is a list such as the forms of exploitation). Extra cells are dropped, chosen by a
seeded hash of the person id and the cell, so the choice depends only on that person's own
rows. Without a person id the unit is the record (``unit="records"``): a person who appears
in several records is protected less, by a factor of the number of her records.

A count-by-cells query in which each person adds 1 to at most k cells has L1 sensitivity k
and L2 sensitivity √k. A margin (a sum over some dimensions) keeps L1 = k but may put all k
into one cell, so its L2 sensitivity is k.

**Domains are public.** The cells are the cross product of the declared values of each
dimension (every region of the workspace, every year of the period, every code of a code
list): never the values found in the data, which would reveal which cells are non-empty. A
declared cell with no person still appears. A value outside its domain (or missing) goes to
no cell and is counted in ``out_of_domain``. :func:`build_domains` builds the domains from
the code lists and a year range.

**Mechanisms** (the noise is drawn by OpenDP measurements on integer vectors, with OpenDP's
secure sampler): the discrete Laplace (pure ε-DP; scale = k / ε of the table) or the discrete
Gaussian (zero-concentrated DP, scale = sensitivity / √(2ρ) of the table; ρ is also reported
as (ε, δ) through OpenDP's conversion). Each scale comes from the closed form above and is
checked with the measurement's own privacy map (``meas.map(d_in)``), and widened by a hair
if the map says it overspends. Budgets compose sequentially (ε, or ρ, add up across the
measured tables).

**Hierarchy and post-processing.** By default the total, every one-way margin and the full
cross table are measured, the cross table with 2/3 of the budget and the others sharing the
rest (``marginals=`` and ``split=`` change both; the full table is always measured). Then:

1. *Weighted least squares* over all noisy measurements, weights 1 / noise variance, solved
   with conjugate gradients on sparse margin matrices (scipy.sparse). The estimate x̂ is a
   real-valued table whose margins agree exactly; it is unbiased.
2. *Non-negativity with the margins held*: the total and every one-way margin of x̂ are
   made non-negative (the total clipped at 0, each margin projected onto the simplex of that
   total; they rarely move), then the table is the Euclidean projection of x̂ onto
   {x ≥ 0, with those margins}: x = max(x̂ - λ_total - λ_dim1[i] - λ_dim2[j] - ..., 0), the
   multipliers λ found by a semismooth Newton method on the dual.
3. *Controlled rounding along the chain of dimensions*: the total is rounded to the nearest
   integer; then the first dimension's margin is rounded to sum to it, each (first, second)
   margin within its first-dimension parent, and so on down to the cells, each time by the
   largest-remainder rule, so every rounded value is the floor or the ceiling of its real
   value. After each level, units are moved between cells of the same parent (augmenting
   paths of the rounding's flow network) until the new dimension's one-way margin is the
   floor or the ceiling of its fitted value too.

What holds after rounding: the released cells are non-negative integers, each the floor or
the ceiling of its fitted value; every released margin and the total are exactly the sums of
the released cells; the total, the first dimension's margin and every margin along the
chain (first × second, ...) are within 1 of the fitted values, and so is every other one-way
margin unless no rounding under the parents already fixed reaches it (rare: about 0.5% of
small random tables with many empty cells, where one value is then off by 2 or 3; the
``error`` column covers that drift too).

**Error bounds.** Each released count carries a 95% error half-width (``alpha=0.05``). For a
raw (not post-processed) noisy count it is OpenDP's accuracy of the mechanism
(``discrete_laplacian_scale_to_accuracy`` / ``discrete_gaussian_scale_to_accuracy``). For a
post-processed count it is built from the least-squares estimate, whose error is a known
linear combination of the noises: its 95% quantile h is computed by Monte Carlo from the
exact noise laws (sums of discrete Laplace noises drawn exactly as differences of negative
binomials; discrete Gaussian sums drawn exactly, or from a normal of the same variance when
more than 32 are summed or σ ≥ 10,000), 20,000 draws with a fixed seed (data-independent,
so no privacy cost). The true count then lies in [max(0, x̂ - h), max(0, x̂ + h)] with
probability at least 95%, and ``error`` is the half-width around the released value that
covers that interval (never less than h). The bound is honest (coverage ≥ 95% whatever the
projection and rounding did) and conservative: benchmarks/bench_dp.py measures about 99%.

:func:`dp_count` releases one count of persons; :func:`plain_laplace_table` is the baseline
the benchmark compares with (the cross table with discrete Laplace noise at the same ε, no
margins, no post-processing: counts may be negative).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, cg

from tiplab.errors import TiplabError

if TYPE_CHECKING:
    from tiplab.privacy.budget import Spend

__all__ = [
    "DIMENSION_COLUMNS", "DPError", "DPTable", "Measurement", "PostProcessed",
    "build_domains", "dp_count", "dp_tables", "margin_key", "opendp", "plain_laplace_table",
    "post_process", "year_domain",
]

log = logging.getLogger(__name__)

Mechanism = Literal["laplace", "gaussian"]
MECHANISMS: tuple[str, ...] = ("laplace", "gaussian")
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
U64 = npt.NDArray[np.uint64]

#: the case column behind each dimension name (a column named like the dimension wins)
DIMENSION_COLUMNS: Mapping[str, str] = MappingProxyType({
    "region": "region_of_exploitation",
    "year": "registration_date",
    "form": "exploitation_forms",
    "sex": "sex",
    "age_band": "age_band",
    "citizenship": "citizenship",
})
#: default cap on the cells one person counts in when a dimension is a list (forms)
LIST_CONTRIBUTIONS = 2
#: share of the budget the full cross table gets by default; the other tables share the rest
FULL_TABLE_SHARE = 2 / 3
#: the largest cross table dp_tables will build
MAX_CELLS = 5_000_000
#: Monte Carlo draws (and their fixed seed) for the error bounds of post-processed counts
MC_DRAWS = 20_000
MC_SEED = 20_260_101
#: discrete Gaussian noise is tabulated exactly below this σ (larger σ: the normal law)
DGAUSS_EXACT = 10_000.0
PUBLIC_OMIT = ("rows_truncated", "out_of_domain")


class DPError(TiplabError):
    """A differentially private table cannot be computed as asked; the message says why."""


@lru_cache(maxsize=1)
def opendp() -> Any:
    """``opendp.prelude`` with the "contrib" features on (OpenDP's vetted-but-not-proven
    measurements, which include every one used here)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    return dp


# -- results ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Measurement:
    """One noisy table measured from the data: which margin, its share of the budget, the
    sensitivity, the noise scale and the privacy loss OpenDP's map gives for it."""

    dimensions: tuple[str, ...]
    cells: int
    share: float
    sensitivity: float
    scale: float
    #: ε (Laplace) or ρ (Gaussian) from ``meas.map(sensitivity)``
    loss: float
    #: OpenDP's 95% (1 - alpha) half-width of one raw noisy cell
    accuracy: float

    def to_dict(self) -> dict[str, Any]:
        return {"dimensions": list(self.dimensions), "cells": self.cells, "share": self.share,
                "sensitivity": self.sensitivity, "scale": self.scale, "loss": self.loss,
                "accuracy": self.accuracy}


@dataclass(frozen=True)
class DPTable:
    """A released differentially private count table and how it was made.

    ``table`` holds one row per cell of the declared domains: the dimension columns
    (strings), ``count`` (the released integer) and ``error`` (the 1 - alpha half-width).
    ``margins`` maps ``"total"``, ``"region"``, ``"region×year"``... to the released margin
    tables (same columns). ``rows_truncated`` and ``out_of_domain`` are exact counts for the
    analyst, not differentially private: :meth:`public_dict` leaves them out. ``debug``
    holds the raw noisy measurements and intermediate estimates for tests; it is never part
    of :meth:`to_dict`, :meth:`public_dict` or :meth:`to_arrow`.
    """

    table: pa.Table
    epsilon: float
    delta: float
    rho: float | None
    mechanism: str
    scale: float
    unit: str
    max_contributions: int
    rows_truncated: int
    out_of_domain: int
    dimensions: tuple[str, ...]
    domains: Mapping[str, tuple[str, ...]]
    margins: Mapping[str, pa.Table]
    data_version: str
    parameters: Mapping[str, Any]
    notes: tuple[str, ...]
    measurements: tuple[Measurement, ...] = ()
    post_processed: bool = True
    error_method: str = ""
    debug: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def counts(self) -> IntArray:
        """The released counts as an array shaped like the domains (C order)."""
        shape = tuple(len(self.domains[d]) for d in self.dimensions)
        return np.asarray(self.table.column("count").to_numpy(), np.int64).reshape(shape)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every field but ``debug`` (tables as lists of rows)."""
        return {
            "table": self.table.to_pylist(),
            "epsilon": self.epsilon, "delta": self.delta, "rho": self.rho,
            "mechanism": self.mechanism, "scale": self.scale, "unit": self.unit,
            "max_contributions": self.max_contributions,
            "rows_truncated": self.rows_truncated, "out_of_domain": self.out_of_domain,
            "dimensions": list(self.dimensions),
            "domains": {k: list(v) for k, v in self.domains.items()},
            "margins": {k: v.to_pylist() for k, v in self.margins.items()},
            "data_version": self.data_version,
            "parameters": _jsonable(dict(self.parameters)),
            "notes": list(self.notes),
            "measurements": [m.to_dict() for m in self.measurements],
            "post_processed": self.post_processed,
            "error_method": self.error_method,
        }

    def public_dict(self) -> dict[str, Any]:
        """:meth:`to_dict` without the exact (not differentially private) diagnostics."""
        d = self.to_dict()
        for k in PUBLIC_OMIT:
            d.pop(k, None)
        return d

    def to_arrow(self) -> pa.Table:
        """The released table, with the publication-safe metadata as JSON under the schema
        metadata key ``tiplab``."""
        meta = {k: v for k, v in self.public_dict().items() if k not in ("table", "margins")}
        return self.table.replace_schema_metadata(
            {"tiplab": json.dumps(meta, ensure_ascii=False)})

    def spend(self, query: str = "", **fields: Any) -> Spend:
        """The :class:`tiplab.privacy.budget.Spend` this table costs."""
        from tiplab.privacy.budget import Spend

        query = query or ("count of " + self.unit + (" by " + " × ".join(self.dimensions)
                                                     if self.dimensions else ""))
        return Spend(epsilon=self.epsilon, delta=self.delta, rho=self.rho,
                     mechanism=self.mechanism, query=query, **fields)


# -- domains ---------------------------------------------------------------------------

def year_domain(first: int, last: int) -> tuple[str, ...]:
    """Every year from ``first`` to ``last`` inclusive, as strings."""
    if first > last:
        raise DPError(f"years {first}-{last}: the first year is after the last")
    return tuple(str(y) for y in range(int(first), int(last) + 1))


def build_domains(dimensions: Sequence[str], *, years: tuple[int, int] | None = None,
                  regions: Sequence[str] | None = None,
                  extra: Mapping[str, Sequence[object]] | None = None
                  ) -> dict[str, tuple[str, ...]]:
    """The public domain of each dimension, known before the data is looked at.

    ``year`` from the ``years`` range; ``region`` from the workspace's list of regions;
    ``form``, ``sex`` and ``age_band`` from the HTCDS/CTDC code lists
    (:mod:`tiplab.records.codes`); ``citizenship`` from the alpha-3 codes the importer
    accepts (:mod:`tiplab.records.countries`). ``extra`` gives
    (or overrides) the domain of any dimension.
    """
    from tiplab.records import codes

    out: dict[str, tuple[str, ...]] = {}
    given = dict(extra or {})
    for d in dimensions:
        if d in given:
            out[d] = tuple(str(v) for v in given[d])
        elif d == "year":
            if years is None:
                raise DPError("the domain of 'year' needs the period: pass years=(first, last)")
            out[d] = year_domain(*years)
        elif d == "region":
            if not regions:
                raise DPError("the domain of 'region' needs the workspace's list of regions: "
                              "pass regions=[...]")
            out[d] = tuple(sorted(str(r) for r in regions))
        elif d == "form":
            out[d] = tuple(codes.EXPLOITATION_FORMS)
        elif d == "sex":
            out[d] = tuple(codes.GENDER)
        elif d == "age_band":
            out[d] = tuple(codes.AGE_BANDS)
        elif d == "citizenship":
            from tiplab.records.countries import country_names

            # the alpha-3 codes the importer accepts (ISO 3166-1 and Kosovo's XKX)
            out[d] = tuple(sorted(set(country_names().values())))
        else:
            raise DPError(f"no code list for dimension {d!r}: pass its values with "
                          f"extra={{{d!r}: [...]}}")
    return out


# -- public functions ------------------------------------------------------------------

def dp_tables(rows: pa.Table, dimensions: Sequence[str] = ("region", "year", "form"), *,
              epsilon: float | None = None,
              domains: Mapping[str, Sequence[object]] | None = None,
              mechanism: str = "laplace", delta: float | None = None,
              rho: float | None = None,
              marginals: Sequence[Sequence[str]] | None = None,
              split: Sequence[float] | None = None,
              max_contributions: int | None = None,
              unit_column: str | None = "person_id", bounding_seed: int = 0,
              alpha: float = 0.05, data_version: str = "") -> DPTable:
    """A differentially private cross table with consistent margins, under one budget.

    Parameters
    ----------
    rows : pyarrow.Table
        Case rows (persons or records): a column per dimension (named like the dimension or
        like the case field behind it, see :data:`DIMENSION_COLUMNS`; ``year`` is derived
        from ``registration_date``; list columns are exploded), and ``unit_column``.
    dimensions : sequence of str
        The dimensions of the cross table, in the order of the rounding chain.
    epsilon : float
        Total ε. Laplace: pure ε-DP. Gaussian: with ``delta``, the (ε, δ) target, turned
        into ρ with OpenDP's conversion; or pass ``rho`` instead.
    domains : mapping
        The public values of each dimension (see :func:`build_domains`).
    mechanism : {"laplace", "gaussian"}
    delta, rho : float, optional
        Gaussian only.
    marginals : sequence of sequences of str, optional
        The tables measured besides the full cross table (default: the total and every
        one-way margin).
    split : sequence of float, optional
        Budget weights of ``(*marginals, full table)``, proportional (default: the full table
        2/3, the others sharing 1/3 equally).
    max_contributions : int, optional
        k: cells one person may count in (default 1, or 2 if a dimension is a list).
    unit_column : str or None
        The person id column; when absent (or None) the unit is the record.
    bounding_seed : int
        Seed of the choice of the cells kept for persons over the cap.
    alpha : float
        Error half-widths are for 1 - alpha coverage.
    data_version : str
        The snapshot version the rows come from (recorded on the result).

    Returns
    -------
    DPTable

    Notes
    -----
    Assumes the domains are public (fixed without looking at the data) and that the rows of
    one person share one id. The noise comes from OpenDP's secure sampler, so a release
    cannot be reproduced from a seed; only the bounding choice is seeded.
    """
    dims = _check_dimensions(dimensions, rows)
    doms = _check_domains(dims, domains)
    mech = _check_mechanism(mechanism)
    _check_alpha(alpha)
    target = _target(mech, epsilon, delta, rho)
    shape = tuple(len(doms[d]) for d in dims)
    n_cells = math.prod(shape)
    if n_cells > MAX_CELLS:
        raise DPError(f"the cross table {' × '.join(dims)} would have {n_cells:,} cells "
                      f"(more than {MAX_CELLS:,}): use fewer dimensions or coarser domains")
    keeps = _marginal_keeps(dims, marginals)
    full = tuple(range(len(dims)))
    tables = [*keeps, full]
    weights = _weights(split, len(tables))
    contrib = _contributions(rows, dims, doms, max_contributions, unit_column,
                             bounding_seed)
    k = contrib.max_contributions

    measured: list[Measurement] = []
    noisy: list[IntArray] = []
    variances: list[float] = []
    noise_laws: list[tuple[str, float]] = []
    cube = contrib.counts.reshape(shape)
    total_w = math.fsum(weights)
    for keep, w in zip(tables, weights, strict=True):
        share = w / total_w
        true = _margin_of(cube, keep).ravel()
        is_full = keep == full
        if mech == "laplace":
            sens = float(k)
            meas, scale, loss = _calibrate_laplace(k, target.epsilon * share)
        else:
            sens = math.sqrt(k) if is_full else float(k)
            meas, scale, loss = _calibrate_gaussian(sens, target.rho * share)
        released = np.asarray(meas(true.tolist()), dtype=np.int64)
        measured.append(Measurement(tuple(dims[i] for i in keep), int(true.size), share, sens,
                                    scale, loss, _accuracy(mech, scale, alpha)))
        noisy.append(released)
        variances.append(_noise_variance(mech, scale))
        noise_laws.append((mech, scale))

    post = post_process(shape, tables, noisy, variances)
    errors = _ErrorModel(shape, tables, variances, noise_laws, post.operator, alpha)
    cells = post.released
    cell_err = _released_error(cells, post.wls, errors.half_width(full))
    table = _arrow_table(dims, doms, full, cells, cell_err)
    margins: dict[str, pa.Table] = {}
    for keep in _released_margins(len(dims), keeps):
        m_rel = _margin_of(cells.reshape(shape), keep).ravel()
        m_wls = _margin_of(post.wls.reshape(shape), keep).ravel()
        err = _released_error(m_rel, m_wls, errors.half_width(keep))
        margins[margin_key(dims, keep)] = _arrow_table(dims, doms, keep, m_rel, err)

    eps_out, delta_out, rho_out = _reported_loss(mech, target,
                                                 math.fsum(m.loss for m in measured))
    params = {
        "dimensions": list(dims), "epsilon": epsilon, "delta": delta, "rho": rho,
        "mechanism": mech, "marginals": [[dims[i] for i in kp] for kp in keeps],
        "split": [w / total_w for w in weights], "max_contributions": k,
        "unit_column": unit_column, "bounding_seed": bounding_seed, "alpha": alpha,
        "domain_sizes": {d: len(doms[d]) for d in dims},
    }
    return DPTable(
        table=table, epsilon=eps_out, delta=delta_out, rho=rho_out, mechanism=mech,
        scale=measured[-1].scale, unit=contrib.unit, max_contributions=k,
        rows_truncated=contrib.rows_truncated, out_of_domain=contrib.out_of_domain,
        dimensions=dims, domains=MappingProxyType(doms), margins=MappingProxyType(margins),
        data_version=data_version, parameters=MappingProxyType(params),
        notes=tuple(_notes(contrib, mech, post=True)),
        measurements=tuple(measured), post_processed=True,
        error_method=("least-squares error quantile (Monte Carlo from the exact noise laws), "
                      "widened to cover the released value; coverage ≥ "
                      f"{100 * (1 - alpha):g}%"),
        debug=MappingProxyType({"raw": tuple(noisy), "wls": post.wls, "fitted": post.fitted,
                                "true": contrib.counts, "half_width": errors.half_width(full)}),
    )


def plain_laplace_table(rows: pa.Table, dimensions: Sequence[str], *, epsilon: float,
                        domains: Mapping[str, Sequence[object]] | None = None,
                        max_contributions: int | None = None,
                        unit_column: str | None = "person_id", bounding_seed: int = 0,
                        alpha: float = 0.05, data_version: str = "") -> DPTable:
    """The baseline: the cross table with discrete Laplace noise of scale k / ε on every
    cell, no margins measured, no post-processing (counts may be negative; margins are sums
    of noisy cells). Same contribution bounding and domains as :func:`dp_tables`.

    ``error`` is OpenDP's 1 - alpha accuracy for a cell, and for a margin the 1 - alpha
    quantile of the sum of its cells' noises (Monte Carlo, exact law).
    """
    dims = _check_dimensions(dimensions, rows)
    doms = _check_domains(dims, domains)
    _check_alpha(alpha)
    target = _target("laplace", epsilon, None, None)
    shape = tuple(len(doms[d]) for d in dims)
    contrib = _contributions(rows, dims, doms, max_contributions, unit_column,
                             bounding_seed)
    k = contrib.max_contributions
    meas, scale, loss = _calibrate_laplace(k, target.epsilon)
    eps_out = _reported_loss("laplace", target, loss)[0]
    noisy = np.asarray(meas(contrib.counts.tolist()), dtype=np.int64)
    acc = _accuracy("laplace", scale, alpha)
    full = tuple(range(len(dims)))
    table = _arrow_table(dims, doms, full, noisy, np.full(noisy.size, acc))
    margins: dict[str, pa.Table] = {}
    for keep in _released_margins(len(dims), []):
        summed = math.prod(shape) // max(1, math.prod(shape[i] for i in keep))
        h = _quantile_of_sum([(1.0, summed, ("laplace", scale))], alpha)
        vals = _margin_of(noisy.reshape(shape), keep).ravel()
        margins[margin_key(dims, keep)] = _arrow_table(dims, doms, keep, vals,
                                                       np.full(vals.size, h))
    return DPTable(
        table=table, epsilon=eps_out, delta=0.0, rho=None, mechanism="laplace", scale=scale,
        unit=contrib.unit, max_contributions=k, rows_truncated=contrib.rows_truncated,
        out_of_domain=contrib.out_of_domain, dimensions=dims,
        domains=MappingProxyType(doms), margins=MappingProxyType(margins),
        data_version=data_version,
        parameters=MappingProxyType({"dimensions": list(dims), "epsilon": epsilon,
                                     "mechanism": "laplace", "max_contributions": k,
                                     "unit_column": unit_column, "alpha": alpha,
                                     "bounding_seed": bounding_seed}),
        notes=tuple(_notes(contrib, "laplace", post=False)),
        measurements=(Measurement(dims, noisy.size, 1.0, float(k), scale, loss, acc),),
        post_processed=False,
        error_method="OpenDP accuracy of the discrete Laplace mechanism (raw cells)",
        debug=MappingProxyType({"raw": (noisy,), "true": contrib.counts}),
    )


def dp_count(rows: pa.Table, *, epsilon: float | None = None, mechanism: str = "laplace",
             delta: float | None = None, rho: float | None = None,
             unit_column: str | None = "person_id", alpha: float = 0.05,
             data_version: str = "") -> DPTable:
    """One differentially private count: the number of persons (distinct ``unit_column``
    values; rows when there is none), sensitivity 1.

    The noisy count is clipped at 0 (post-processing that never moves it away from the
    truth); ``error`` is OpenDP's 1 - alpha accuracy of the mechanism.
    """
    mech = _check_mechanism(mechanism)
    _check_alpha(alpha)
    target = _target(mech, epsilon, delta, rho)
    if unit_column and unit_column in rows.column_names:
        ids = rows.column(unit_column)
        n = int(pc.count_distinct(ids).as_py()) + int(ids.null_count)
        unit = "persons"
    else:
        n, unit = rows.num_rows, "records"
    if mech == "laplace":
        meas, scale, loss = _calibrate_laplace(1, target.epsilon)
    else:
        meas, scale, loss = _calibrate_gaussian(1.0, target.rho)
    eps_out, delta_out, rho_out = _reported_loss(mech, target, loss)
    raw = int(meas([n])[0])
    acc = _accuracy(mech, scale, alpha)
    table = pa.table({"count": pa.array([max(0, raw)], pa.int64()),
                      "error": pa.array([acc], pa.float64())})
    notes = [_unit_note(unit, 1)]
    return DPTable(
        table=table, epsilon=eps_out, delta=delta_out, rho=rho_out, mechanism=mech,
        scale=scale, unit=unit, max_contributions=1, rows_truncated=0, out_of_domain=0,
        dimensions=(), domains=MappingProxyType({}),
        margins=MappingProxyType({"total": table}), data_version=data_version,
        parameters=MappingProxyType({"epsilon": epsilon, "delta": delta, "rho": rho,
                                     "mechanism": mech, "unit_column": unit_column,
                                     "alpha": alpha}),
        notes=tuple(notes),
        measurements=(Measurement((), 1, 1.0, 1.0, scale, loss, acc),),
        post_processed=True, error_method=f"OpenDP accuracy of the {mech} mechanism",
        debug=MappingProxyType({"raw": (np.array([raw]),), "true": np.array([n])}),
    )


def margin_key(dimensions: Sequence[str], keep: Sequence[int]) -> str:
    """The name of a margin in :attr:`DPTable.margins`: ``"total"`` or ``"region×year"``."""
    return "×".join(dimensions[i] for i in keep) if keep else "total"


# -- validation ------------------------------------------------------------------------

@dataclass(frozen=True)
class _Target:
    epsilon: float
    delta: float
    rho: float


def _reported_loss(mech: Mechanism, target: _Target, loss: float
                   ) -> tuple[float, float, float | None]:
    """(ε, δ, ρ) to report: the budget asked for, once OpenDP's maps (``loss``, summed over
    the measurements) are checked to fit in it; ε of a ρ is OpenDP's conversion."""
    if mech == "laplace":
        if loss > target.epsilon * (1 + 1e-12):  # pragma: no cover - calibration ensures it
            raise DPError(f"the measurements spend ε={loss}, more than the {target.epsilon} "
                          "asked for")
        return target.epsilon, 0.0, None
    from tiplab.privacy.budget import zcdp_to_epsilon

    if loss > target.rho * (1 + 1e-12):  # pragma: no cover - calibration ensures it
        raise DPError(f"the measurements spend ρ={loss}, more than the {target.rho} asked "
                      "for")
    eps = zcdp_to_epsilon(target.rho, target.delta)
    if target.epsilon and eps <= target.epsilon * (1 + 1e-12):
        eps = target.epsilon
    return eps, target.delta, target.rho


def _check_dimensions(dimensions: Sequence[str], rows: pa.Table) -> tuple[str, ...]:
    if isinstance(dimensions, str):
        dimensions = (dimensions,)
    dims = tuple(str(d) for d in dimensions)
    if not dims:
        raise DPError("a table needs at least one dimension (for a single count use "
                      "dp_count)")
    dup = sorted({d for d in dims if dims.count(d) > 1})
    if dup:
        raise DPError(f"dimension(s) given twice: {', '.join(dup)}")
    for d in dims:
        _column(rows, d)
    return dims


def _check_domains(dims: tuple[str, ...], domains: Mapping[str, Sequence[object]] | None
                   ) -> dict[str, tuple[str, ...]]:
    if domains is None:
        raise DPError("the domains of the dimensions must be declared (they are public; "
                      "taking them from the data would reveal which cells are empty): pass "
                      "domains=build_domains(dimensions, years=..., regions=...)")
    out: dict[str, tuple[str, ...]] = {}
    for d in dims:
        if d not in domains:
            raise DPError(f"no domain declared for dimension {d!r}: add domains[{d!r}] "
                          "(see build_domains)")
        values = tuple(str(v) for v in domains[d])
        if not values:
            raise DPError(f"the domain of dimension {d!r} is empty: declare its values")
        dup = sorted({v for v in values if values.count(v) > 1})
        if dup:
            raise DPError(f"the domain of dimension {d!r} repeats {', '.join(dup[:5])}")
        out[d] = values
    return out


def _check_mechanism(mechanism: str) -> Mechanism:
    if mechanism == "laplace":
        return "laplace"
    if mechanism == "gaussian":
        return "gaussian"
    raise DPError(f"unknown mechanism {mechanism!r}: use one of {', '.join(MECHANISMS)}")


def _check_alpha(alpha: float) -> None:
    if not (0 < alpha < 1):
        raise DPError(f"alpha must be in (0, 1) (got {alpha}); 0.05 gives 95% error bounds")


def _positive(name: str, value: float | None) -> float:
    if value is None or not (math.isfinite(value) and value > 0):
        raise DPError(f"{name} must be a finite number > 0 (got {value})")
    return float(value)


def _target(mech: Mechanism, epsilon: float | None, delta: float | None,
            rho: float | None) -> _Target:
    if mech == "laplace":
        if delta:
            raise DPError("the Laplace mechanism is pure ε-DP and spends no δ: drop delta, or "
                          "use mechanism='gaussian'")
        if rho is not None:
            raise DPError("ρ belongs to the Gaussian mechanism: use mechanism='gaussian'")
        return _Target(_positive("ε", epsilon), 0.0, 0.0)
    from tiplab.privacy.budget import rho_for_epsilon

    if delta is None or not (0 < delta < 1):
        raise DPError(f"the Gaussian mechanism needs δ in (0, 1) (got {delta}) to state its "
                      "privacy loss as (ε, δ): pass delta=1e-7, say")
    if rho is not None:
        if epsilon is not None:
            raise DPError("give either ε (with δ) or ρ for the Gaussian mechanism, not both")
        return _Target(0.0, float(delta), _positive("ρ", rho))
    eps = _positive("ε", epsilon)
    return _Target(eps, float(delta), rho_for_epsilon(eps, float(delta)))


def _marginal_keeps(dims: tuple[str, ...], marginals: Sequence[Sequence[str]] | None
                    ) -> list[tuple[int, ...]]:
    full = tuple(range(len(dims)))
    if marginals is None:
        keeps: list[tuple[int, ...]] = [()]
        if len(dims) > 1:
            keeps += [(i,) for i in range(len(dims))]
        return keeps
    out: list[tuple[int, ...]] = []
    for m in marginals:
        names = (m,) if isinstance(m, str) else tuple(m)
        bad = [x for x in names if x not in dims]
        if bad:
            raise DPError(f"marginal {' × '.join(names) or 'total'}: {', '.join(bad)} is not "
                          f"a dimension of the table ({', '.join(dims)})")
        keep = tuple(sorted({dims.index(x) for x in names}))
        if keep == full:
            raise DPError("the full cross table is always measured: leave it out of "
                          "marginals")
        if keep in out:
            raise DPError(f"marginal {' × '.join(names) or 'total'} is listed twice")
        out.append(keep)
    return out


def _weights(split: Sequence[float] | None, n_tables: int) -> list[float]:
    if split is None:
        if n_tables == 1:
            return [1.0]
        other = (1 - FULL_TABLE_SHARE) / (n_tables - 1)
        return [other] * (n_tables - 1) + [FULL_TABLE_SHARE]
    w = [float(x) for x in split]
    if len(w) != n_tables:
        raise DPError(f"split has {len(w)} weights but {n_tables} tables are measured (the "
                      "marginals, then the full cross table)")
    if not all(math.isfinite(x) and x > 0 for x in w):
        raise DPError(f"every budget weight in split must be > 0 (got {w})")
    return w


# -- contributions ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Contributions:
    counts: IntArray
    unit: str
    max_contributions: int
    rows_truncated: int
    units_truncated: int
    out_of_domain: int
    null_units: int
    list_dims: tuple[str, ...]


def _column(rows: pa.Table, dim: str) -> tuple[str, pa.Array]:
    candidates = [dim]
    if dim in DIMENSION_COLUMNS:
        candidates.append(DIMENSION_COLUMNS[dim])
    for name in candidates:
        if name in rows.column_names:
            col = rows.column(name)
            arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
            return name, arr
    known = ", ".join(DIMENSION_COLUMNS)
    raise DPError(f"unknown dimension {dim!r}: the rows have no column "
                  f"{' or '.join(repr(c) for c in candidates)} (known dimensions: {known}; "
                  f"columns: {', '.join(rows.column_names)})")


def _as_strings(dim: str, arr: pa.Array) -> pa.Array:
    if dim == "year" and (pa.types.is_temporal(arr.type)):
        arr = pc.year(arr)
    return pc.cast(arr, pa.string())


def _codes(values: pa.Array, domain: tuple[str, ...]) -> IntArray:
    idx = pc.index_in(values, value_set=pa.array(domain, pa.string()))
    return np.asarray(idx.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)


def _contributions(rows: pa.Table, dims: tuple[str, ...], doms: dict[str, tuple[str, ...]],
                   max_contributions: int | None, unit_column: str | None,
                   seed: int) -> _Contributions:
    """Explode the rows into (row, cell) contributions, then bound each unit to k cells."""
    n = rows.num_rows
    shape = tuple(len(doms[d]) for d in dims)
    n_cells = math.prod(shape)
    base = np.arange(n, dtype=np.int64)
    codes: list[IntArray] = []
    list_dims: list[str] = []
    for d in dims:
        _, arr = _column(rows, d)
        if pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type):
            list_dims.append(d)
            lengths = np.asarray(pc.list_value_length(arr).fill_null(0)
                                 .to_numpy(zero_copy_only=False), np.int64)
            flat = _codes(_as_strings(d, pc.list_flatten(arr)), doms[d])
            offsets = np.concatenate([[0], np.cumsum(lengths)])
            lens = lengths[base]
            eff = np.maximum(lens, 1)  # an empty or missing list is one missing value
            rep = np.repeat(np.arange(base.size), eff)
            starts = np.cumsum(eff) - eff
            pos = np.arange(rep.size) - starts[rep]
            src = offsets[base][rep] + pos
            has = lens[rep] > 0
            new = np.full(rep.size, -1, np.int64)
            new[has] = flat[src[has]]
            codes = [c[rep] for c in codes]
            base = base[rep]
            codes.append(new)
        else:
            codes.append(_codes(_as_strings(d, arr), doms[d])[base])
    valid = np.ones(base.size, bool)
    for c in codes:
        valid &= c >= 0
    out_of_domain = int((~valid).sum())
    cell = np.ravel_multi_index(tuple(c[valid] for c in codes), shape) if valid.any() \
        else np.empty(0, np.int64)
    row = base[valid]

    k = max_contributions if max_contributions is not None else (
        LIST_CONTRIBUTIONS if list_dims else 1)
    if not (isinstance(k, int | np.integer) and k >= 1):
        raise DPError(f"max_contributions must be a whole number ≥ 1 (got {k})")
    k = int(k)
    seed_mix = _splitmix(np.array([seed & 0xFFFFFFFFFFFFFFFF], np.uint64))[0]

    null_units = 0
    if unit_column and unit_column in rows.column_names:
        unit = "persons"
        ids = pc.cast(rows.column(unit_column), pa.string()).combine_chunks()
        enc = pc.dictionary_encode(ids)
        unit_code = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False),
                               np.int64)
        uniq = enc.dictionary.to_pylist()
        unit_hash = np.empty(len(uniq) + n, np.uint64)
        unit_hash[:len(uniq)] = _hash_ids(uniq)
        nulls = np.where(unit_code < 0)[0]
        null_units = int(nulls.size)
        # a row without an id is its own person (hashed by its content, below)
        unit_code[nulls] = len(uniq) + nulls
        unit_hash[len(uniq):] = _row_keys(n, row, cell)
        unit_of = unit_code[row]
    else:
        unit = "records"
        unit_hash = _row_keys(n, row, cell)
        unit_of = row
    # one contribution per (unit, cell): a person counts once in a cell
    key = np.unique(unit_of * n_cells + cell)
    u, c = key // n_cells, key % n_cells
    prio = _splitmix(unit_hash[u] ^ _splitmix(c.astype(np.uint64) ^ seed_mix))
    order = np.lexsort((prio, u))
    u, c = u[order], c[order]
    first = np.r_[True, u[1:] != u[:-1]] if u.size else np.empty(0, bool)
    run_start = np.maximum.accumulate(np.where(first, np.arange(u.size), 0)) \
        if u.size else np.empty(0, np.int64)
    rank = np.arange(u.size) - run_start
    keep = rank < k
    counts = np.bincount(c[keep], minlength=n_cells).astype(np.int64)
    return _Contributions(counts=counts, unit=unit, max_contributions=k,
                          rows_truncated=int((~keep).sum()),
                          units_truncated=int(np.unique(u[~keep]).size),
                          out_of_domain=out_of_domain, null_units=null_units,
                          list_dims=tuple(list_dims))


def _splitmix(x: U64) -> U64:
    """SplitMix64 finaliser (Steele et al. 2014), vectorised; uint64 arithmetic wraps."""
    z = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)).astype(np.uint64)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)).astype(np.uint64)
    return (z ^ (z >> np.uint64(31))).astype(np.uint64)


def _hash_ids(ids: Sequence[object]) -> U64:
    out = np.empty(len(ids), np.uint64)
    for i, v in enumerate(ids):
        digest = hashlib.blake2b(str(v).encode("utf-8"), digest_size=8).digest()
        out[i] = np.uint64(int.from_bytes(digest, "little"))
    return out


def _row_keys(n: int, row: IntArray, cell: IntArray) -> U64:
    """A key per row that depends only on the row's own cells (XOR of their hashes), so a
    record's choice of cells does not move when other records come or go."""
    keys = np.zeros(n, np.uint64)
    if row.size:
        np.bitwise_xor.at(keys, row, _splitmix(cell.astype(np.uint64) + np.uint64(1)))
    return keys


# -- mechanisms ------------------------------------------------------------------------

def calibrate(build: Callable[[float], Any], d_in: float | int, target: float,
              scale: float) -> tuple[Any, float, float]:
    """The measurement at ``scale`` if OpenDP's map says it spends at most ``target``, else
    the same with the scale widened a hair at a time (float rounding in the map)."""
    for _ in range(100):
        meas = build(scale)
        loss = float(meas.map(d_in))
        if loss <= target:
            return meas, scale, loss
        scale *= 1 + 1e-12
    raise DPError(f"no noise scale found for a privacy loss of {target}")  # pragma: no cover


def _calibrate_laplace(k: int, epsilon: float) -> tuple[Any, float, float]:
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l1_distance(T="i64")
    # discrete Laplace: ε = Δ1 / scale
    return calibrate(lambda s: dp.m.make_laplace(*space, scale=s), k, epsilon, k / epsilon)


def _calibrate_gaussian(sens: float, rho: float) -> tuple[Any, float, float]:
    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.l2_distance(T=float)
    # discrete Gaussian: ρ = Δ2² / (2 scale²)
    return calibrate(lambda s: dp.m.make_gaussian(*space, scale=s), float(sens), rho,
                      sens / math.sqrt(2 * rho))


def _accuracy(mech: str, scale: float, alpha: float) -> float:
    dp = opendp()
    if mech == "laplace":
        return float(dp.discrete_laplacian_scale_to_accuracy(scale, alpha=alpha))
    return float(dp.discrete_gaussian_scale_to_accuracy(scale, alpha=alpha))


def _noise_variance(mech: str, scale: float) -> float:
    if mech == "laplace":
        t = math.exp(-1 / scale)
        return 2 * t / (1 - t) ** 2
    # a discrete Gaussian's variance is σ² to within 1e-8 relative once σ ≥ 1
    return _dgauss_table(scale)[2] if scale < DGAUSS_EXACT else scale * scale


@lru_cache(maxsize=64)
def _dgauss_table(sigma: float) -> tuple[IntArray, FloatArray, float]:
    """Support, CDF and variance of the discrete Gaussian N_Z(0, σ²) (mass beyond 14σ is
    below 1e-40 and dropped)."""
    half = math.ceil(14 * sigma) + 1
    support = np.arange(-half, half + 1, dtype=np.int64)
    logp = -(support.astype(float) ** 2) / (2 * sigma * sigma)
    p = np.exp(logp - logp.max())
    p /= p.sum()
    var = float(np.sum(p * support.astype(float) ** 2))
    return support, np.cumsum(p), var


# -- post-processing -------------------------------------------------------------------

@dataclass(frozen=True)
class PostProcessed:
    """Estimates from noisy measurements: ``wls`` (least squares, real), ``fitted`` (non-
    negative, real, margins held) and ``released`` (non-negative integers)."""

    wls: FloatArray
    fitted: FloatArray
    released: IntArray
    operator: _Normal


class _Normal:
    """The normal-equations operator M = Σ_K w_K A_Kᵀ A_K of the least-squares fit, applied
    through sparse margin matrices, and solves with it by conjugate gradients (M has at most
    2^D distinct eigenvalues, so CG converges in that many steps)."""

    def __init__(self, shape: tuple[int, ...], tables: Sequence[tuple[int, ...]],
                 weights: Sequence[float]) -> None:
        self.shape = shape
        self.n = math.prod(shape)
        self.mats = [_margin_matrix(shape, keep) for keep in tables]
        self.weights = list(weights)
        self.op = LinearOperator((self.n, self.n), matvec=self._matvec, dtype=np.float64)

    def _matvec(self, v: FloatArray) -> FloatArray:
        v = np.asarray(v, np.float64).ravel()
        out = np.zeros(self.n)
        for w, a in zip(self.weights, self.mats, strict=True):
            out += w * (a.T @ (a @ v))
        return out

    def rhs(self, values: Sequence[FloatArray]) -> FloatArray:
        out = np.zeros(self.n)
        for w, a, y in zip(self.weights, self.mats, values, strict=True):
            out += w * (a.T @ np.asarray(y, np.float64))
        return out

    def solve(self, b: FloatArray) -> FloatArray:
        scale = float(np.abs(b).max()) or 1.0
        rhs = b / scale
        x, _ = cg(self.op, rhs, rtol=1e-12, atol=0.0, maxiter=50 * 2 ** len(self.shape) + 100)
        x = np.asarray(x, np.float64)
        # 1e-12 may be out of float reach on big tables; 1e-8 is far below the noise
        resid = float(np.linalg.norm(self._matvec(x) - rhs))
        if resid > 1e-8 * max(1.0, float(np.linalg.norm(rhs))):  # pragma: no cover
            raise DPError(f"the least-squares fit did not converge (residual {resid:.3g})")
        return x * scale


def post_process(shape: tuple[int, ...], tables: Sequence[tuple[int, ...]],
                 values: Sequence[npt.ArrayLike], variances: Sequence[float]
                 ) -> PostProcessed:
    """Consistent non-negative integer table from noisy margins (see the module docstring).

    ``tables`` lists the measured margins as tuples of kept dimension indices (the full
    table, all dimensions, must be one of them); ``values`` the noisy margins (flattened in
    C order); ``variances`` the noise variance of each. Deterministic: tests call it with
    any noisy values they like.
    """
    full = tuple(range(len(shape)))
    if full not in [tuple(t) for t in tables]:
        raise DPError("post-processing needs the full cross table among the measurements")
    op = _Normal(shape, tables, [1.0 / v for v in variances])
    wls = op.solve(op.rhs([np.asarray(v, np.float64) for v in values]))
    fitted = _fit_nonnegative(wls, shape)
    released = _round_chain(fitted, shape)
    return PostProcessed(wls=wls, fitted=fitted, released=released, operator=op)


def _margin_index(shape: tuple[int, ...], keep: Sequence[int]) -> IntArray:
    """For every cell of the full table (C order), its index in the margin over ``keep``."""
    n = math.prod(shape)
    if not keep:
        return np.zeros(n, np.int64)
    coords = np.unravel_index(np.arange(n), shape)
    return np.asarray(np.ravel_multi_index(tuple(coords[i] for i in keep),
                                           tuple(shape[i] for i in keep)), np.int64)


def _margin_matrix(shape: tuple[int, ...], keep: Sequence[int]) -> sp.csr_matrix:
    n = math.prod(shape)
    rows = _margin_index(shape, keep)
    m = math.prod(shape[i] for i in keep)
    return sp.csr_matrix((np.ones(n), (rows, np.arange(n))), shape=(m, n))


def _margin_of(cube: npt.NDArray[Any], keep: Sequence[int]) -> npt.NDArray[Any]:
    drop = tuple(i for i in range(cube.ndim) if i not in keep)
    return cube.sum(axis=drop) if drop else cube


def _simplex(v: FloatArray, total: float) -> FloatArray:
    """Euclidean projection of ``v`` onto {x ≥ 0, Σx = total} (Held et al. 1974)."""
    if total <= 0:
        return np.zeros_like(v)
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - total
    ind = np.arange(1, v.size + 1)
    cond = u - css / ind > 0
    r = int(ind[cond][-1])
    theta = css[cond][-1] / r
    return np.asarray(np.maximum(v - theta, 0.0), np.float64)


def _fit_nonnegative(wls: FloatArray, shape: tuple[int, ...]) -> FloatArray:
    """Project ``wls`` onto {x ≥ 0} keeping its (non-negative) total and one-way margins."""
    cube = wls.reshape(shape)
    total = max(0.0, float(cube.sum()))
    if total == 0.0:
        return np.zeros_like(wls)
    if (wls >= 0).all():
        return wls.copy()
    d = len(shape)
    targets = [np.array([total])]
    mats = [_margin_matrix(shape, ())]
    if d > 1:
        for i in range(d):
            targets.append(_simplex(_margin_of(cube, (i,)).ravel(), total))
            mats.append(_margin_matrix(shape, (i,)))
    b_mat = sp.vstack(mats).tocsr()
    m = np.concatenate(targets)
    return _project_with_margins(wls, b_mat, m)


def _project_with_margins(xh: FloatArray, b_mat: sp.csr_matrix, m: FloatArray,
                          max_iter: int = 100) -> FloatArray:
    """argmin ½‖x - x̂‖² subject to B x = m, x ≥ 0, by a semismooth Newton method on the
    concave dual φ(λ) = ½‖x(λ) - x̂‖² + λᵀ(B x(λ) - m) with x(λ) = max(x̂ - Bᵀλ, 0); the
    Newton system B D Bᵀ is small (one row per margin cell)."""
    lam = np.zeros(b_mat.shape[0])
    tol = 1e-9 * max(1.0, float(np.abs(m).max()))
    ridge = 1e-10 * max(1.0, float(b_mat.shape[1]))

    def phi(lv: FloatArray) -> tuple[float, FloatArray]:
        xv = np.maximum(xh - b_mat.T @ lv, 0.0)
        return float(0.5 * np.dot(xv - xh, xv - xh) + lv @ (b_mat @ xv - m)), xv

    f, x = phi(lam)
    for _ in range(max_iter):
        grad = b_mat @ x - m
        if np.abs(grad).max() <= tol:
            break
        active = (x > 0).astype(np.float64)
        h = (b_mat.multiply(active) @ b_mat.T).toarray()
        step = np.linalg.lstsq(h + ridge * np.eye(h.shape[0]), grad, rcond=None)[0]
        t = 1.0
        while True:
            f_new, x_new = phi(lam + t * step)
            if f_new >= f - 1e-12 * max(1.0, abs(f)) or t < 1e-10:
                break
            t /= 2
        lam, f, x = lam + t * step, f_new, x_new
    else:  # pragma: no cover - has not happened in any test or fuzz run
        log.warning("non-negative fit: margins held only to %.3g after %d Newton steps",
                    float(np.abs(b_mat @ x - m).max()), max_iter)
    return np.asarray(x, np.float64)


def _round_chain(fitted: FloatArray, shape: tuple[int, ...]) -> IntArray:
    """Controlled rounding down the chain total → dim 1 → dim 1 × 2 → ... → cells, each
    level by largest remainder within its parent (ties: the earlier cell), then repaired so
    that the level's new dimension keeps its one-way margin within 1 (the floor or the
    ceiling of its fitted value; see :func:`_repair_margin`)."""
    cube = np.maximum(fitted, 0.0).reshape(shape)
    parent = np.array([int(np.floor(cube.sum() + 0.5))], np.int64)
    d = len(shape)
    for level in range(1, d + 1):
        real = _margin_of(cube, tuple(range(level))).reshape(parent.size, shape[level - 1])
        rounded = _round_within(real, parent)
        if level > 1:
            _repair_margin(rounded, real, _margin_of(cube, (level - 1,)).ravel())
        parent = rounded.ravel()
    return parent


def _repair_margin(rounded: IntArray, real: FloatArray, margin: FloatArray,
                   max_moves: int = 100_000) -> None:
    """Move units between cells of the same row of ``rounded`` until every column sum is the
    floor or the ceiling of ``margin`` (the column's fitted total), keeping every cell the
    floor or the ceiling of its real value and every row sum unchanged. In place.

    A step a → c lowers a cell of column a that was rounded up and raises a cell of column c
    (same row) that was rounded down, in the row where that costs least. First columns over
    their ceiling give units to columns below it, then columns under their floor take units
    from columns above it; one-step moves are made in bulk, and when none is left a move
    follows a shortest path of columns. These are augmenting paths of the rounding's flow
    network (Ford & Fulkerson), so the repair succeeds whenever such a rounding exists below
    the fixed rows; rarely none does, and a column is then off by a unit or two.
    """
    low = np.floor(real + 1e-9)
    high = np.ceil(real - 1e-9)
    frac = real - low
    lo_t = np.floor(margin + 1e-9)
    hi_t = np.ceil(margin - 1e-9)
    can_down = rounded > low
    can_up = rounded < high
    for phase in ("over", "under"):
        for _ in range(max_moves):
            col = rounded.sum(axis=0)
            if phase == "over":
                give = np.maximum(col - hi_t, 0).astype(np.int64)
                take = np.maximum(hi_t - col, 0).astype(np.int64)
                done = not give.any()
            else:
                give = np.maximum(col - lo_t, 0).astype(np.int64)
                take = np.maximum(lo_t - col, 0).astype(np.int64)
                done = not take.any()
            if done:
                break
            if _direct_moves(rounded, low, high, frac, give, take, can_down, can_up):
                continue
            reach = (can_down.T.astype(np.int64) @ can_up.astype(np.int64)) > 0
            path = _column_path(reach, give > 0, take > 0)
            if path is None:
                # no rounding below these rows reaches it; the drift stays (and the error
                # column covers it)
                log.debug("controlled rounding: a one-way margin stays off by %d",
                          int(max(give.max(), take.max())))
                break
            for a, c in itertools.pairwise(path):
                rows = np.where(can_down[:, a] & can_up[:, c])[0]
                best = rows[np.argmax(frac[rows, c] - frac[rows, a])]
                rounded[best, a] -= 1
                rounded[best, c] += 1
                can_down[best] = rounded[best] > low[best]
                can_up[best] = rounded[best] < high[best]


def _direct_moves(rounded: IntArray, low: FloatArray, high: FloatArray, frac: FloatArray,
                  give: IntArray, take: IntArray, can_down: npt.NDArray[np.bool_],
                  can_up: npt.NDArray[np.bool_]) -> bool:
    """The one-step moves of :func:`_repair_margin` in bulk: from each column that gives to
    each that takes, as many units as both allow, in the rows where that costs least. In
    place; True if anything moved."""
    moved = False
    for a in np.where(give > 0)[0]:
        for c in np.where(take > 0)[0]:
            need = int(min(give[a], take[c]))
            if need <= 0 or a == c:
                continue
            rows = np.where(can_down[:, a] & can_up[:, c])[0]
            if not rows.size:
                continue
            chosen = rows[np.argsort(frac[rows, a] - frac[rows, c], kind="stable")[:need]]
            rounded[chosen, a] -= 1
            rounded[chosen, c] += 1
            can_down[chosen] = rounded[chosen] > low[chosen]
            can_up[chosen] = rounded[chosen] < high[chosen]
            give[a] -= chosen.size
            take[c] -= chosen.size
            moved = True
    return moved


def _column_path(reach: npt.NDArray[np.bool_], sources: npt.NDArray[np.bool_],
                 sinks: npt.NDArray[np.bool_]) -> list[int] | None:
    """Shortest path (breadth first) in the column graph from any source to any sink."""
    prev = np.full(reach.shape[0], -2, np.int64)
    frontier = list(np.where(sources)[0])
    for s in frontier:
        prev[s] = -1
    while frontier:
        nxt: list[int] = []
        for a in frontier:
            for c in np.where(reach[a] & (prev == -2))[0]:
                prev[c] = a
                if sinks[c]:
                    path = [int(c)]
                    while prev[path[-1]] >= 0:
                        path.append(int(prev[path[-1]]))
                    return path[::-1]
                nxt.append(int(c))
        frontier = nxt
    return None


def _round_within(real: FloatArray, parent: IntArray) -> IntArray:
    low = np.floor(real + 1e-9)
    frac = real - low
    extra = parent - low.sum(axis=1).astype(np.int64)
    order = np.argsort(-frac, axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(real.shape[1])[None, :].repeat(real.shape[0], 0),
                      axis=1)
    out = low.astype(np.int64) + (rank < extra[:, None]).astype(np.int64)
    for i in np.where(extra < 0)[0]:  # pragma: no cover - float error at an integer boundary
        for j in np.argsort(frac[i], kind="stable")[: -extra[i]]:
            out[i, j] = max(0, out[i, j] - 1)
    return np.asarray(out, np.int64)


# -- error bounds ----------------------------------------------------------------------

class _ErrorModel:
    """The 1 - alpha quantile of the least-squares error of one cell of any margin (every
    cell of a margin has the same error law: the design is symmetric under permuting the
    values of a dimension)."""

    def __init__(self, shape: tuple[int, ...], tables: Sequence[tuple[int, ...]],
                 variances: Sequence[float], laws: Sequence[tuple[str, float]],
                 op: _Normal, alpha: float) -> None:
        self.shape, self.tables, self.laws, self.op = shape, tables, laws, op
        self.weights = [1.0 / v for v in variances]
        self.alpha = alpha
        self._cache: dict[tuple[int, ...], float] = {}

    def half_width(self, keep: tuple[int, ...]) -> float:
        if keep not in self._cache:
            q = (_margin_index(self.shape, keep) == 0).astype(np.float64)
            g = self.op.solve(q)
            classes: list[tuple[float, int, tuple[str, float]]] = []
            for w, a, law in zip(self.weights, self.op.mats, self.laws, strict=True):
                coef = w * (a @ g)
                scale = float(np.abs(coef).max()) or 1.0
                vals, counts = np.unique(np.round(coef / scale, 9), return_counts=True)
                classes += [(float(v) * scale, int(c), law) for v, c in zip(vals, counts,
                                                                           strict=True)
                            if abs(v) > 1e-12]
            self._cache[keep] = _quantile_of_sum(classes, self.alpha)
        return self._cache[keep]


def _quantile_of_sum(classes: Sequence[tuple[float, int, tuple[str, float]]],
                     alpha: float) -> float:
    """1 - alpha quantile of |Σ_classes coef · (sum of `count` iid noises of the law)|."""
    rng = np.random.default_rng(MC_SEED)
    err = np.zeros(MC_DRAWS)
    for coef, count, (mech, scale) in classes:
        err += coef * _sum_of_noises(rng, mech, scale, count)
    return float(np.quantile(np.abs(err), 1 - alpha))


def _sum_of_noises(rng: np.random.Generator, mech: str, scale: float, count: int
                   ) -> FloatArray:
    if mech == "laplace":
        # discrete Laplace = difference of two geometrics; a sum of `count` geometrics is
        # negative binomial, so the sum is drawn exactly
        p = -math.expm1(-1 / scale)
        a = rng.negative_binomial(count, p, MC_DRAWS)
        b = rng.negative_binomial(count, p, MC_DRAWS)
        return np.asarray(a - b, np.float64)
    if count > 32 or scale >= DGAUSS_EXACT:
        return rng.normal(0.0, math.sqrt(count * _noise_variance(mech, scale)), MC_DRAWS)
    support, cdf, _ = _dgauss_table(scale)
    u = rng.random((MC_DRAWS, count))
    draws = support[np.minimum(np.searchsorted(cdf, u), support.size - 1)]
    return np.asarray(draws.sum(axis=1), np.float64)


def _released_error(released: npt.ArrayLike, wls: npt.ArrayLike, h: float) -> FloatArray:
    """Half-width around each released value covering [max(0, x̂-h), max(0, x̂+h)], never
    below h: holds the truth whenever |x̂ - truth| ≤ h."""
    r = np.asarray(released, np.float64)
    x = np.asarray(wls, np.float64)
    lo, hi = np.maximum(0.0, x - h), np.maximum(0.0, x + h)
    # up to the next hundredth, so that showing two decimals never narrows the bound
    width = np.maximum.reduce([np.full(r.shape, h), r - lo, hi - r])
    return np.asarray(np.ceil(width * 100 - 1e-9) / 100, np.float64)


# -- output ----------------------------------------------------------------------------

def _released_margins(d: int, keeps: Sequence[tuple[int, ...]]) -> list[tuple[int, ...]]:
    out: list[tuple[int, ...]] = [()]
    if d > 1:
        out += [(i,) for i in range(d)]
    out += [k for k in keeps if k not in out]
    return out


def _arrow_table(dims: tuple[str, ...], doms: Mapping[str, tuple[str, ...]],
                 keep: Sequence[int], counts: npt.ArrayLike, errors: FloatArray
                 ) -> pa.Table:
    shape = tuple(len(doms[dims[i]]) for i in keep)
    n = math.prod(shape)
    cols: dict[str, pa.Array] = {}
    coords = np.unravel_index(np.arange(n), shape) if keep else ()
    for j, i in enumerate(keep):
        cols[dims[i]] = pa.array(doms[dims[i]], pa.string()).take(pa.array(coords[j]))
    cols["count"] = pa.array(np.asarray(counts, np.int64), pa.int64())
    cols["error"] = pa.array(np.asarray(errors, np.float64), pa.float64())
    return pa.table(cols)


def _unit_note(unit: str, k: int) -> str:
    if unit == "persons":
        return (f"privacy unit: one person; each person counts in at most {k} cell"
                f"{'s' if k > 1 else ''} of the cross table")
    return ("privacy unit: one record (the rows have no person id): a person who appears in "
            "several records is protected less, in proportion to her number of records")


def _notes(c: _Contributions, mech: str, *, post: bool) -> list[str]:
    notes = [_unit_note(c.unit, c.max_contributions)]
    if c.list_dims:
        notes.append(f"{', '.join(c.list_dims)} can hold several values per row: a person "
                     "counts once in each of her cells (up to the cap), so a margin summed "
                     f"over {', '.join(c.list_dims)} counts person-values, not persons")
    if c.rows_truncated:
        notes.append("some persons had more cells than the cap; the extra cells were dropped "
                     "(chosen by a seeded hash of the person and the cell)")
    if c.out_of_domain:
        notes.append("some rows have a missing value or one outside the declared domains; "
                     "they count in no cell")
    if c.null_units:
        notes.append("rows without a person id were each counted as a person of their own")
    notes.append("cells come from the declared domains, not from the data: an empty cell "
                 "is released like any other")
    if post:
        notes.append("counts are post-processed (least squares, then non-negative with the "
                     "total and one-way margins held, then controlled rounding): they are "
                     "non-negative integers and add up exactly to the released margins")
    else:
        notes.append("raw noisy counts, not post-processed: they may be negative")
    if mech == "gaussian":
        notes.append("privacy loss is zero-concentrated (ρ); ε is its conversion at δ")
    return notes


def _jsonable(v: Any) -> Any:
    if isinstance(v, Mapping):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v
