"""Differentially private synthetic case microdata, made from noisy marginals (MST).

:func:`synthesize` turns a table of persons (one row per person, categorical columns) into
synthetic records that can be published under a differential-privacy guarantee. It follows
MST (McKenna, Miklau & Sheldon 2021, "Winning the NIST contest: a scalable and general
approach to differentially private synthetic data", *Journal of Privacy and
Confidentiality* 11(3); the winner of the 2018 NIST challenge and the method behind
SmartNoise Synth's ``mst``). The CTDC has published DP synthetic case data since 2022 with
Microsoft's Synthetic Data Showcase, also a marginal-based synthesiser.

**Input.** An Arrow table and the public domain of each column to synthesise
(``domains={"sex": [...], "year": [2015, ..., 2024], ...}``: every value the column may
take, from the code lists or the workspace's settings, never from the data, which would
reveal which values occur). Only the declared columns are used, in the declared order.
Values are matched as Arrow casts them to strings (so ``2021`` matches ``"2021"`` and a
boolean matches ``True``/``False``). A row with a value outside its column's domain, or a
missing value, is not synthesised: it is counted per column in ``out_of_domain`` and
``rows_dropped`` (exact figures for the analyst, left out of :meth:`SynthResult.public_dict`);
give missing values an explicit code (``"Unknown"``) to keep them. List columns (forms of
exploitation, means of control) must be made single-valued first: :func:`primary_value`
keeps the first listed value, :func:`flag_columns` makes one yes/no column per code.

**Privacy unit.** One person: the table must hold one row per person (for example
``tiplab.engine.connect(d).for_unit("persons").cases``). With a ``person_id`` column
(``unit_column``) a repeated id is an error. Neighbouring tables differ by one person added
or removed; every measurement below is a count-by-cells or a selection whose sensitivity
under that change is 1.

**Mechanism** (zero-concentrated DP; the budget ρ adds up over the measurements, Bun &
Steinke 2016, and is reported with the (ε, δ) of OpenDP's conversion at ``delta``):

1. *All 1-way marginals* are measured with OpenDP's discrete Gaussian (share ``split[0]``
   of ρ, evenly over the columns).
2. *Domain compression*: values whose noisy count is below 3σ are merged into one cell for
   the 2-way steps (MST's ``compress_domain``; post-processing), so a 250-country domain
   costs little noise when only 20 countries occur.
3. *Tree selection* (share ``split[1]``): each pair of columns is scored by the L1 distance
   between its true 2-way table and the table that independence of the noisy 1-ways
   predicts (a score moves by at most 1 when one person is added or removed); a maximum
   spanning tree is grown Kruskal-style, each of its d - 1 edges picked among the pairs
   joining two components by OpenDP's noisy max (Gumbel noise: the exponential mechanism,
   accounted in zCDP).
4. *The 2-way marginal of each tree edge* is measured (share ``split[2]``).
5. *Estimation* (post-processing): each column's compressed 1-way is the inverse-variance
   pool of its own measurement and of the margins of its edges' measurements, projected
   onto the non-negative vectors summing to the pooled noisy total; each edge's table is
   the Euclidean projection of its measurement onto the non-negative tables with those two
   margins (a dual block-coordinate ascent). The marginals are then non-negative and agree
   on every shared column, so on a tree they define one joint law (the tree model).
6. *Sampling*: ancestral sampling from the first column (the root), P(root) then
   P(child | parent) down the tree; counts are allocated by randomised rounding rather than
   drawn independently (as private-pgm's ``synthetic_data`` does), and a merged cell is split
   back over its values in proportion to their clipped noisy counts. The number of records is
   the noisy total unless ``n`` is given.

The noise comes from OpenDP's samplers (not seeded); ``seed`` only drives the sampling of
records, which is post-processing. ``structure="independent"`` is the no-tree baseline:
the whole budget on the 1-ways and columns sampled independently.

What the synthetic data keeps: every 1-way marginal and the 2-way marginal of each tree
edge (up to noise), and whatever follows from the tree's conditional independences. Other
dependencies are lost, so 3-way marginals and pairs off the tree are only approximated;
:func:`marginal_utility` measures how well.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.errors import TiplabError

if TYPE_CHECKING:
    from tiplab.privacy.budget import Spend

__all__ = [
    "COMPRESS_SIGMAS", "DEFAULT_DELTA", "DEFAULT_SPLIT", "STRUCTURES", "MarginalUtility",
    "SynthError", "SynthMeasurement", "SynthResult", "SynthSettings", "UniqueMatches",
    "WayError", "flag_columns", "marginal_utility", "primary_value", "synthesize",
    "unique_matches",
]

log = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: MST's budget split: 1-way marginals, tree selection, 2-way marginals
DEFAULT_SPLIT: tuple[float, float, float] = (1 / 3, 1 / 3, 1 / 3)
#: δ at which ρ is stated as (ε, δ) unless the caller gives one
DEFAULT_DELTA = 1e-7
#: values with a noisy 1-way count below this many σ are merged for the 2-way steps (MST)
COMPRESS_SIGMAS = 3.0
STRUCTURES: tuple[str, ...] = ("tree", "independent")
#: exact (not differentially private) diagnostics, for the analyst only
PUBLIC_OMIT = ("rows_in", "rows_dropped", "out_of_domain")
#: iterations and tolerance (relative to the total) of the 2-way projections
PROJECTION_ITERS = 2000
PROJECTION_RTOL = 1e-9


class SynthError(TiplabError):
    """Synthetic data cannot be made as asked; the message says what to change."""


# -- settings and results --------------------------------------------------------------

@dataclass(frozen=True)
class SynthSettings:
    """How :func:`synthesize` spends its budget and samples; round-trips through JSON.

    Give the budget as ``epsilon`` (with ``delta``) or as ``rho`` (zCDP), not both.
    ``split`` shares ρ between the 1-way marginals, the tree selection and the 2-way
    marginals (renormalised over the steps that run). ``n`` is the number of synthetic
    records (default: the noisy total); a number given here is published with the records,
    so it must not be the exact count of the input unless that count is public anyway.
    ``seed`` seeds the sampling of records only.
    """

    epsilon: float | None = None
    delta: float = DEFAULT_DELTA
    rho: float | None = None
    split: tuple[float, float, float] = DEFAULT_SPLIT
    structure: str = "tree"
    compress: bool = True
    n: int | None = None
    seed: int | None = None
    unit_column: str | None = "person_id"

    def __post_init__(self) -> None:
        if (self.epsilon is None) == (self.rho is None):
            raise SynthError("give the privacy budget as epsilon= (with delta=) or as rho=, "
                             "exactly one of them")
        for name, v in (("epsilon", self.epsilon), ("rho", self.rho)):
            if v is not None and not (isinstance(v, int | float) and math.isfinite(v)
                                      and v > 0):
                raise SynthError(f"{name} must be a finite number > 0 (got {v!r})")
        if not (isinstance(self.delta, int | float) and 0 < self.delta < 1):
            raise SynthError(f"delta must be in (0, 1) to state the loss as (ε, δ) "
                             f"(got {self.delta!r}); 1e-7 is usual")
        split = tuple(self.split)
        if len(split) != 3 or not all(isinstance(s, int | float) and math.isfinite(s)
                                      and s >= 0 for s in split) or split[0] <= 0:
            raise SynthError(f"split must be three shares ≥ 0 (1-ways, selection, 2-ways) with "
                             f"a positive first share (got {self.split!r})")
        object.__setattr__(self, "split", tuple(float(s) for s in split))
        if self.structure not in STRUCTURES:
            raise SynthError(f"structure must be one of {', '.join(STRUCTURES)} "
                             f"(got {self.structure!r})")
        if self.structure == "tree" and not (split[1] > 0 and split[2] > 0):
            raise SynthError(f"split {self.split!r} gives the tree selection or the 2-way "
                             "marginals no budget: give both a positive share, or use "
                             "structure='independent'")
        if self.n is not None and not (isinstance(self.n, int) and self.n >= 0):
            raise SynthError(f"n must be a whole number ≥ 0 or None (got {self.n!r})")

    def target_rho(self) -> float:
        """The zCDP budget ρ: as given, or the largest ρ whose OpenDP conversion at
        ``delta`` is at most ``epsilon``."""
        if self.rho is not None:
            return float(self.rho)
        from tiplab.privacy.budget import rho_for_epsilon

        assert self.epsilon is not None
        return rho_for_epsilon(float(self.epsilon), float(self.delta))

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["split"] = list(self.split)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SynthSettings:
        extra = set(d) - {f.name for f in dataclasses.fields(cls)}
        if extra:
            raise SynthError(f"synthesis settings: unknown field(s) {', '.join(sorted(extra))}")
        kw = dict(d)
        if "split" in kw:
            kw["split"] = tuple(kw["split"])
        return cls(**kw)


@dataclass(frozen=True)
class SynthMeasurement:
    """One use of the data: a noisy marginal (discrete Gaussian of scale σ) or one round of
    the tree selection (noisy max with Gumbel scale), and the ρ OpenDP's map gives for it
    at a distance of one person."""

    kind: str  # "marginal" or "select"
    columns: tuple[str, ...]
    #: cells of the (compressed) marginal, or candidate pairs of the selection round
    cells: int
    scale: float
    rho: float

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "columns": list(self.columns), "cells": self.cells,
                "scale": self.scale, "rho": self.rho}


@dataclass(frozen=True)
class SynthResult:
    """Synthetic records and how they were made.

    ``table`` has exactly the declared columns, each holding only values of its domain (typed
    as the domain's values are). ``edges`` are the tree's pairs in the order selected;
    ``marginals`` the column sets measured; ``compressed`` the domain size of each column in
    the 2-way steps. ``rows_in``, ``rows_dropped`` and ``out_of_domain`` are exact counts, for
    the analyst only (not in :meth:`public_dict`). ``debug`` holds the noisy measurements and
    fitted marginals for tests; it is never serialised.
    """

    table: pa.Table
    epsilon: float
    delta: float
    rho: float
    #: the ρ the settings allowed (``rho`` spent is at most this, equal up to rounding)
    target_rho: float
    columns: tuple[str, ...]
    domains: Mapping[str, tuple[Any, ...]]
    structure: str
    edges: tuple[tuple[str, str], ...]
    marginals: tuple[tuple[str, ...], ...]
    measurements: tuple[SynthMeasurement, ...]
    compressed: Mapping[str, int]
    n: int
    rows_in: int
    rows_dropped: int
    out_of_domain: Mapping[str, int]
    data_version: str
    parameters: Mapping[str, Any]
    notes: tuple[str, ...]
    debug: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self, *, rows: bool = True) -> dict[str, Any]:
        """JSON-ready: every field but ``debug``; the records as a list of rows unless
        ``rows=False``."""
        d: dict[str, Any] = {
            "epsilon": self.epsilon, "delta": self.delta, "rho": self.rho,
            "target_rho": self.target_rho, "columns": list(self.columns),
            "domains": {k: [_jsonable(v) for v in vs] for k, vs in self.domains.items()},
            "structure": self.structure,
            "edges": [list(e) for e in self.edges],
            "marginals": [list(m) for m in self.marginals],
            "measurements": [m.to_dict() for m in self.measurements],
            "compressed": dict(self.compressed), "n": self.n,
            "rows_in": self.rows_in, "rows_dropped": self.rows_dropped,
            "out_of_domain": dict(self.out_of_domain),
            "data_version": self.data_version,
            "parameters": _jsonable(dict(self.parameters)),
            "notes": list(self.notes),
        }
        if rows:
            d["table"] = [{k: _jsonable(v) for k, v in r.items()}
                          for r in self.table.to_pylist()]
        return d

    def public_dict(self, *, rows: bool = True) -> dict[str, Any]:
        """:meth:`to_dict` without the exact (not differentially private) diagnostics."""
        d = self.to_dict(rows=rows)
        for k in PUBLIC_OMIT:
            d.pop(k, None)
        return d

    def spend(self, query: str = "", **fields: Any) -> Spend:
        """The :class:`tiplab.privacy.budget.Spend` this release costs (zCDP, ρ at δ)."""
        from tiplab.privacy.budget import Spend

        return Spend.from_rho(self.rho, self.delta, mechanism="gaussian",
                              query=query or "synthetic records of " + ", ".join(self.columns),
                              **fields)


# -- list columns ------------------------------------------------------------------------

def primary_value(table: pa.Table, column: str, *, name: str | None = None) -> pa.Table:
    """``table`` with the list column ``column`` replaced by its first value (null when the
    list is empty or null), under ``name`` (default: the same name, same position).

    Use it for the primary form of exploitation: the first value as the record stores it.
    """
    arr = _list_column(table, column)
    first = pc.list_element(pc.if_else(pc.greater(pc.list_value_length(arr), 0), arr,
                                       pa.scalar(None, arr.type)), 0)
    i = table.column_names.index(column)
    return table.set_column(i, name or column, first)


def flag_columns(table: pa.Table, column: str, codes: Sequence[str], *,
                 prefix: str | None = None) -> tuple[pa.Table, dict[str, tuple[bool, bool]]]:
    """``table`` with the list column ``column`` replaced by one boolean column per code
    (``"<prefix>.<code>"``, true when the list holds the code), and their domains.

    A null list gives null flags (so the row is counted out of domain by :func:`synthesize`,
    not silently read as "none of them"); an empty list gives all false. Values of the list
    that are not among ``codes`` are ignored, as a flag set cannot show them.
    """
    if not codes:
        raise SynthError(f"flag_columns: no codes given for column {column!r}")
    arr = _list_column(table, column)
    prefix = column if prefix is None else prefix
    out = table.drop_columns([column])
    domains: dict[str, tuple[bool, bool]] = {}
    for code in codes:
        name = f"{prefix}.{code}"
        out = out.append_column(name, _has_code(arr, code))
        domains[name] = (False, True)
    return out, domains


def _has_code(arr: pa.ChunkedArray, code: str) -> pa.ChunkedArray:
    """Per row: whether the list holds ``code`` (null for a null list)."""
    chunks = []
    for chunk in arr.chunks:
        parent = pc.list_parent_indices(chunk).to_numpy(zero_copy_only=False)
        hit = np.asarray(pc.equal(pc.list_flatten(chunk), code).fill_null(False)
                         .to_numpy(zero_copy_only=False), dtype=bool)
        has = np.zeros(len(chunk), dtype=bool)
        has[parent[hit]] = True
        chunks.append(pa.array(has, mask=np.asarray(chunk.is_null().to_numpy(
            zero_copy_only=False), dtype=bool)))
    return pa.chunked_array(chunks, type=pa.bool_())


def _list_column(table: pa.Table, column: str) -> pa.ChunkedArray:
    if column not in table.column_names:
        raise SynthError(f"no column {column!r} in the table (columns: "
                         f"{', '.join(table.column_names)})")
    arr = table.column(column)
    if not (pa.types.is_list(arr.type) or pa.types.is_large_list(arr.type)):
        raise SynthError(f"column {column!r} is not a list column (type {arr.type})")
    return arr


# -- synthesis -------------------------------------------------------------------------

@dataclass
class _Column:
    """One declared column: its domain and the map to the compressed domain of the 2-way
    steps (merged values share the last compressed cell)."""

    name: str
    values: pa.Array
    size: int
    cmap: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))
    csize: int = 0
    merged: IntArray = field(default_factory=lambda: np.zeros(0, np.int64))


def synthesize(persons: pa.Table, domains: Mapping[str, Sequence[object]],
               settings: SynthSettings | None = None, *, data_version: str = "",
               **options: Any) -> SynthResult:
    """Differentially private synthetic records of the declared columns (MST).

    Parameters
    ----------
    persons
        One row per person; the columns named in ``domains`` are synthesised, others
        ignored.
    domains
        Column name → every value it may take (public, never learnt from the data).
    settings
        :class:`SynthSettings`; keyword ``options`` build or override it
        (``synthesize(t, doms, epsilon=1.0)``).
    data_version
        The version of the data the persons were read from, recorded in the result.

    Returns
    -------
    SynthResult
        The records and the privacy loss (ρ summed over the OpenDP measurements, and the
        (ε, δ) of OpenDP's conversion of it).

    Notes
    -----
    Assumes one row per person and categorical columns with public domains; the guarantee
    is for one person added or removed. The synthetic data reproduces the 1-way marginals
    and the 2-way marginals of the tree's edges up to noise; other dependencies are only
    those a tree model implies. See the module docstring for the steps.
    """
    if settings is None:
        settings = SynthSettings(**options)
    elif options:
        settings = dataclasses.replace(settings, **options)
    cols = _check_domains(persons, domains)
    _check_unit(persons, settings.unit_column)
    codes, out_of_domain = _encode(persons, cols)
    rows_in = persons.num_rows
    rows_dropped = rows_in - codes.shape[0]
    if rows_dropped:
        log.info("synthesis: %d of %d rows left out, a value outside its domain (%s)",
                 rows_dropped, rows_in,
                 ", ".join(f"{k}: {v}" for k, v in out_of_domain.items() if v))
    target = settings.target_rho()
    d = len(cols)
    tree = settings.structure == "tree" and d >= 2
    rounds = d - 1 if tree and d > 2 else 0
    w = (settings.split[0], settings.split[1] if rounds else 0.0,
         settings.split[2] if tree else 0.0)
    rho1, rho_sel, rho2 = (target * x / sum(w) for x in w)

    measurements: list[SynthMeasurement] = []
    sigma1, meas1, loss1 = _gaussian_for(rho1 / d)
    y1: list[FloatArray] = []
    for j, c in enumerate(cols):
        y1.append(_measure(meas1(c.size), codes[:, j]))
        measurements.append(SynthMeasurement("marginal", (c.name,), c.size, sigma1, loss1))

    n_hat_1 = _pooled_total([(float(y.sum()), y.size * sigma1 ** 2) for y in y1])
    notes = [_UNIT_NOTE]
    edges: list[tuple[int, int]] = []
    y2: dict[tuple[int, int], FloatArray] = {}
    sigma2 = 0.0
    if tree:
        for c, y in zip(cols, y1, strict=True):
            _compress(c, y, sigma1, settings.compress)
        ccodes = np.stack([c.cmap[codes[:, j]] for j, c in enumerate(cols)], axis=1)
        zi = [np.bincount(c.cmap, weights=y, minlength=c.csize).astype(np.float64)
              for c, y in zip(cols, y1, strict=True)]
        edges = _select_tree(cols, ccodes, zi, n_hat_1, rho_sel, rounds, measurements)
        sigma2, meas2, loss2 = _gaussian_for(rho2 / len(edges))
        for a, b in edges:
            cells = cols[a].csize * cols[b].csize
            flat = ccodes[:, a] * cols[b].csize + ccodes[:, b]
            y2[(a, b)] = _measure(meas2(cells), flat).reshape(cols[a].csize, cols[b].csize)
            measurements.append(SynthMeasurement("marginal", (cols[a].name, cols[b].name),
                                                 cells, sigma2, loss2))
        merged = {c.name: int(c.merged.size) for c in cols if c.merged.size}
        if merged:
            notes.append(f"values with a noisy count below {COMPRESS_SIGMAS:g}σ merged for "
                         "the 2-way steps: "
                         + ", ".join(f"{k} ({v} values)" for k, v in merged.items()))
    else:
        for c in cols:
            _compress(c, np.zeros(c.size), sigma1, False)

    rho = math.fsum(m.rho for m in measurements)
    from tiplab.privacy.budget import zcdp_to_epsilon

    epsilon = zcdp_to_epsilon(rho, settings.delta)
    fit = _fit(cols, y1, sigma1, y2, sigma2, edges)
    n = settings.n if settings.n is not None else max(0, round(fit.total))
    rng = np.random.default_rng(settings.seed)
    sampled = _sample(cols, y1, fit, edges, n, rng)
    table = pa.table({c.name: c.values.take(pa.array(sampled[:, j]))
                      for j, c in enumerate(cols)})
    if tree:
        notes.append("tree edges, in the order selected: " + "; ".join(
            f"{cols[a].name} – {cols[b].name}" for a, b in edges))
    else:
        notes.append("no tree: columns sampled independently from their noisy 1-ways")
    notes.append(f"privacy: ρ = {rho:.6g} zCDP, (ε, δ) = ({epsilon:.4g}, {settings.delta:g}) "
                 "by OpenDP's conversion; noise by OpenDP's discrete Gaussian, tree edges by "
                 "its noisy max (exponential mechanism)")
    if settings.n is None:
        notes.append("the number of records is the noisy total")
    return SynthResult(
        table=table, epsilon=epsilon, delta=float(settings.delta), rho=rho,
        columns=tuple(c.name for c in cols),
        domains={c.name: tuple(c.values.to_pylist()) for c in cols},
        structure=settings.structure,
        edges=tuple((cols[a].name, cols[b].name) for a, b in edges),
        marginals=tuple(m.columns for m in measurements if m.kind == "marginal"),
        measurements=tuple(measurements),
        compressed={c.name: c.csize for c in cols}, n=n,
        rows_in=rows_in, rows_dropped=rows_dropped, out_of_domain=out_of_domain,
        data_version=data_version,
        target_rho=target, parameters=settings.to_dict(),
        notes=tuple(notes),
        debug={"y1": y1, "y2": y2, "sigma1": sigma1, "sigma2": sigma2, "fit": fit,
               "n_hat": fit.total},
    )


_UNIT_NOTE = ("privacy unit: one person (one row per person; neighbouring tables differ by "
              "one person added or removed)")


def _check_domains(persons: pa.Table, domains: Mapping[str, Sequence[object]]
                   ) -> list[_Column]:
    if not domains:
        raise SynthError("no columns to synthesise: pass domains={column: [values...]}")
    cols: list[_Column] = []
    for name, values in domains.items():
        if name not in persons.column_names:
            raise SynthError(f"domains names column {name!r}, which the persons table does "
                             f"not have (columns: {', '.join(persons.column_names)})")
        typ = persons.column(name).type
        if pa.types.is_list(typ) or pa.types.is_large_list(typ):
            raise SynthError(f"column {name!r} holds lists: make it single-valued first with "
                             "primary_value() (first listed value) or flag_columns() (one "
                             "yes/no column per code)")
        vals = list(values)
        if not vals:
            raise SynthError(f"the domain of column {name!r} is empty: list every value it "
                             "may take (from its code list)")
        if any(v is None for v in vals):
            raise SynthError(f"the domain of column {name!r} holds None: give missing values "
                             "an explicit code such as 'Unknown'")
        try:
            arr = pa.array(vals)
            keys = arr.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise SynthError(f"the domain of column {name!r} mixes kinds of values or holds "
                             f"values Arrow cannot read: {e}") from e
        if len(pc.unique(keys)) != len(keys):
            raise SynthError(f"the domain of column {name!r} lists a value twice")
        cols.append(_Column(name=name, values=arr, size=len(vals)))
    return cols


def _check_unit(persons: pa.Table, unit_column: str | None) -> None:
    if not unit_column or unit_column not in persons.column_names:
        return
    ids = persons.column(unit_column)
    distinct = pc.count_distinct(ids, mode="all").as_py()
    if distinct != persons.num_rows:
        raise SynthError(f"the persons table has {persons.num_rows} rows but "
                         f"{distinct} distinct values of {unit_column!r}: the privacy unit is "
                         "one person, so give one row per person "
                         "(engine.for_unit('persons'))")


def _encode(persons: pa.Table, cols: Sequence[_Column]) -> tuple[IntArray, dict[str, int]]:
    """Code of each kept row's value in each column's domain; out-of-domain counts."""
    idx: list[npt.NDArray[Any]] = []
    keep = np.ones(persons.num_rows, dtype=bool)
    out: dict[str, int] = {}
    for c in cols:
        col = persons.column(c.name)
        try:
            as_str = col.cast(pa.string())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise SynthError(f"column {c.name!r} (type {col.type}) cannot be compared with "
                             f"its domain: {e}") from e
        pos = pc.index_in(as_str, value_set=c.values.cast(pa.string()))
        missing = np.asarray(pos.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        out[c.name] = int(missing.sum())
        keep &= ~missing
        idx.append(np.asarray(pos.fill_null(0).to_numpy(zero_copy_only=False), np.int64))
    if not idx:  # pragma: no cover - guarded by _check_domains
        return np.zeros((0, 0), np.int64), out
    return np.stack(idx, axis=1)[keep], out


# -- OpenDP measurements -----------------------------------------------------------------

def _gaussian_for(rho: float) -> tuple[float, Callable[[int], Any], float]:
    """σ of the discrete Gaussian with ρ-zCDP on a count-by-cells (L2 sensitivity 1), a
    builder of the measurement on a vector of cell codes, and its ρ by OpenDP's map."""
    from tiplab.privacy.dp import calibrate, opendp

    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T="i64")), dp.symmetric_distance()

    def build(cells: int, scale: float) -> Any:
        return (space >> dp.t.then_count_by_categories(
            categories=list(range(cells)), null_category=False, MO="L2Distance<int>")
            >> dp.m.then_gaussian(scale=scale))

    # ρ = Δ2² / (2σ²) with Δ2 = 1 for one person added or removed; the map does not depend
    # on the number of cells, so two cells calibrate it
    _, sigma, loss = calibrate(lambda s: build(2, s), 1, rho, 1 / math.sqrt(2 * rho))
    return sigma, lambda cells: build(cells, sigma), loss


def _measure(meas: Any, cell_codes: IntArray) -> FloatArray:
    # a contiguous int64 array crosses into OpenDP in one copy (a list is checked item by
    # item, 25 times slower)
    return np.asarray(meas(np.ascontiguousarray(cell_codes, dtype=np.int64)),
                      dtype=np.float64)


def _noisy_max(rho: float) -> tuple[Any, float, float]:
    """OpenDP's noisy max (Gumbel noise, the exponential mechanism) on scores of L∞
    sensitivity 1, not monotone, accounted in zCDP (ρ = (1/scale)² / 2 there)."""
    from tiplab.privacy.dp import calibrate, opendp

    dp = opendp()
    space = dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.linf_distance(T=float)
    return calibrate(
        lambda s: space >> dp.m.then_noisy_max(dp.zero_concentrated_divergence(), scale=s),
        1.0, rho, 1 / math.sqrt(2 * rho))


# -- the steps of MST --------------------------------------------------------------------

def _compress(c: _Column, y: FloatArray, sigma: float, compress: bool) -> None:
    thr = COMPRESS_SIGMAS * sigma
    rare = np.flatnonzero(y < thr) if compress else np.zeros(0, np.int64)
    c.cmap = np.arange(c.size, dtype=np.int64)
    c.csize = c.size
    c.merged = np.zeros(0, np.int64)
    if rare.size > 1:  # merging one value would change nothing
        kept = np.flatnonzero(y >= thr)
        c.cmap[kept] = np.arange(kept.size)
        c.cmap[rare] = kept.size
        c.csize = kept.size + 1
        c.merged = rare.astype(np.int64)


def _pooled_total(parts: Sequence[tuple[float, float]]) -> float:
    """Inverse-variance mean of several noisy estimates (value, variance) of the total."""
    wsum = math.fsum(1 / v for _, v in parts)
    return math.fsum(x / v for x, v in parts) / wsum


def _select_tree(cols: Sequence[_Column], ccodes: IntArray, zi: Sequence[FloatArray],
                 n_hat: float, rho_sel: float, rounds: int,
                 measurements: list[SynthMeasurement]) -> list[tuple[int, int]]:
    """The spanning tree, grown one edge a round among the pairs that join two components.

    A pair's score is the L1 distance between its true 2-way table (compressed) and the one
    the noisy 1-ways predict under independence: large when the pair depends strongly.
    """
    d = len(cols)
    probs = [_clipped_probs(z) for z in zi]
    scores: dict[tuple[int, int], float] = {}
    for a, b in itertools.combinations(range(d), 2):
        ca, cb = cols[a].csize, cols[b].csize
        true = np.bincount(ccodes[:, a] * cb + ccodes[:, b], minlength=ca * cb)
        indep = n_hat * np.outer(probs[a], probs[b]).ravel()
        scores[(a, b)] = float(np.abs(true - indep).sum())
    parent = list(range(d))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges: list[tuple[int, int]] = []
    if rounds == 0:  # two columns: the one possible edge, no selection needed
        return [(0, 1)]
    meas, scale, loss = _noisy_max(rho_sel / rounds)
    for _ in range(rounds):
        cands = [e for e in scores if find(e[0]) != find(e[1])]
        pick = cands[int(meas([scores[e] for e in cands]))]
        measurements.append(SynthMeasurement("select", (), len(cands), scale, loss))
        edges.append(pick)
        parent[find(pick[0])] = find(pick[1])
    return edges


def _clipped_probs(z: FloatArray) -> FloatArray:
    p = np.clip(z, 0, None)
    s = p.sum()
    return p / s if s > 0 else np.full(z.size, 1 / z.size)


@dataclass
class _Fit:
    """The fitted (consistent, non-negative) marginals: compressed 1-ways ``z``, one table per
    tree edge oriented parent × child, the sampling order and each column's parent."""

    total: float
    z: list[FloatArray]
    tables: dict[int, FloatArray]
    order: list[int]
    parent: dict[int, int]
    residual: float = 0.0


def _fit(cols: Sequence[_Column], y1: Sequence[FloatArray], sigma1: float,
         y2: Mapping[tuple[int, int], FloatArray], sigma2: float,
         edges: Sequence[tuple[int, int]]) -> _Fit:
    d = len(cols)
    # inverse-variance pooling of each column's compressed 1-way: its own measurement (a
    # merged cell sums several noisy counts) and the margins of its edges' measurements
    num = [np.zeros(c.csize) for c in cols]
    den = [np.zeros(c.csize) for c in cols]
    totals: list[tuple[float, float]] = []
    for j, c in enumerate(cols):
        group = np.bincount(c.cmap, minlength=c.csize).astype(np.float64)
        var = group * sigma1 ** 2
        num[j] += np.bincount(c.cmap, weights=y1[j], minlength=c.csize) / var
        den[j] += 1 / var
        totals.append((float(y1[j].sum()), c.size * sigma1 ** 2))
    for (a, b), y in y2.items():
        ca, cb = cols[a].csize, cols[b].csize
        num[a] += y.sum(axis=1) / (cb * sigma2 ** 2)
        den[a] += 1 / (cb * sigma2 ** 2)
        num[b] += y.sum(axis=0) / (ca * sigma2 ** 2)
        den[b] += 1 / (ca * sigma2 ** 2)
        totals.append((float(y.sum()), ca * cb * sigma2 ** 2))
    total = max(0.0, _pooled_total(totals))
    z = [_simplex(num[j] / den[j], total) for j in range(d)]
    # the tree, oriented from the first column by breadth-first search
    adj: dict[int, list[int]] = {j: [] for j in range(d)}
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    order, parent = [0], {}
    for p in order:
        for q in adj[p]:
            if q != 0 and q not in parent:
                parent[q] = p
                order.append(q)
    order += [j for j in range(d) if j not in order]  # no tree: every column a root
    tables: dict[int, FloatArray] = {}
    residual = 0.0
    for q, p in parent.items():
        y = y2[(p, q)] if (p, q) in y2 else y2[(q, p)].T
        tables[q], res = _project_table(y, z[p], z[q])
        residual = max(residual, res)
    return _Fit(total=total, z=z, tables=tables, order=order, parent=parent,
                residual=residual)


def _simplex(v: FloatArray, total: float) -> FloatArray:
    """Euclidean projection of ``v`` onto {x ≥ 0, Σx = total}."""
    if total <= 0:
        return np.zeros(v.size)
    return np.asarray(np.maximum(v - _thresholds(v[None, :], np.array([total]))[0], 0.0),
                      np.float64)


def _thresholds(v: FloatArray, sums: FloatArray) -> FloatArray:
    """Per row i, the τ with Σ_j max(v_ij - τ, 0) = sums_i (sums ≥ 0; τ = max v_i when the
    sum is 0): the shift of the projection of each row onto its simplex."""
    u = -np.sort(-v, axis=1)
    css = np.cumsum(u, axis=1) - sums[:, None]
    k = np.arange(1, v.shape[1] + 1)
    count = (u - css / k > 0).sum(axis=1)
    rows = np.arange(v.shape[0])
    tau = np.where(count > 0, css[rows, np.maximum(count, 1) - 1] / np.maximum(count, 1),
                   u[:, 0])
    return np.asarray(tau, np.float64)


def _project_table(y: FloatArray, r: FloatArray, c: FloatArray) -> tuple[FloatArray, float]:
    """The table nearest ``y`` (Euclidean) among the non-negative ones with row sums ``r``
    and column sums ``c`` (Σr = Σc), and the largest column-sum error left.

    The projection is x = max(y - α_i - β_j, 0); α and β maximise the (concave) dual and are
    found by exact block-coordinate ascent: α given β is a simplex projection of each row,
    β given α one of each column. Rows come last, so row sums are exact and the conditional
    law of the child given the parent is the row, normalised.
    """
    beta = np.zeros(y.shape[1])
    tol = PROJECTION_RTOL * max(1.0, float(r.sum()))
    res = 0.0
    for _ in range(PROJECTION_ITERS):
        alpha = _thresholds(y - beta[None, :], r)
        beta = _thresholds((y - alpha[:, None]).T, c)
        x = np.maximum(y - alpha[:, None] - beta[None, :], 0.0)
        res = float(np.abs(x.sum(axis=1) - r).max())
        if res <= tol:
            break
    alpha = _thresholds(y - beta[None, :], r)
    x = np.maximum(y - alpha[:, None] - beta[None, :], 0.0)
    return x, float(np.abs(x.sum(axis=0) - c).max())


def _allocate(weights: FloatArray, total: int, rng: np.random.Generator) -> IntArray:
    """Whole counts summing to ``total`` in proportion to ``weights``, each the floor or the
    ceiling of its share (systematic randomised rounding: unbiased, far less variable than
    drawing the records independently)."""
    k = weights.size
    s = float(weights.sum())
    w = weights / s if s > 0 else np.full(k, 1 / k)
    share = total * w
    base = np.floor(share)
    frac = share - base
    extra = total - int(base.sum())
    counts = base.astype(np.int64)
    if extra > 0:
        # one uniform offset: cell i gets +1 when a point u, u+1, ... falls in its stretch
        # of the cumulative fractions, so with probability frac_i
        cum = np.concatenate(([0.0], np.cumsum(frac)))
        cum *= extra / cum[-1]
        u = rng.random()
        counts += (np.floor(cum[1:] - u) - np.floor(cum[:-1] - u)).astype(np.int64)
    return counts


def _assign(group_rows: IntArray, weights: FloatArray, rng: np.random.Generator,
            out: IntArray) -> None:
    counts = _allocate(weights, group_rows.size, rng)
    vals = np.repeat(np.arange(weights.size, dtype=np.int64), counts)
    out[group_rows] = rng.permutation(vals)


def _sample(cols: Sequence[_Column], y1: Sequence[FloatArray], fit: _Fit,
            edges: Sequence[tuple[int, int]], n: int,
            rng: np.random.Generator) -> IntArray:
    """``n`` records drawn from the tree model: compressed codes down the tree, then merged
    cells split back over their values."""
    d = len(cols)
    comp = np.zeros((n, d), np.int64)
    for q in fit.order:
        if q not in fit.parent:
            _assign(np.arange(n), fit.z[q], rng, comp[:, q])
            continue
        p = fit.parent[q]
        table = fit.tables[q]
        sort = np.argsort(comp[:, p], kind="stable")
        bounds = np.searchsorted(comp[sort, p], np.arange(cols[p].csize + 1))
        for a in range(cols[p].csize):
            rows = sort[bounds[a]:bounds[a + 1]]
            if rows.size:
                row = table[a]
                # a parent value with no fitted mass (reached only through rounding
                # slack) borrows the child's own law
                _assign(rows, row if row.sum() > 1e-9 else fit.z[q], rng, comp[:, q])
    full = np.zeros((n, d), np.int64)
    for j, c in enumerate(cols):
        inverse = np.full(c.csize, -1, np.int64)
        kept = np.setdiff1d(np.arange(c.size), c.merged)
        inverse[c.cmap[kept]] = kept
        full[:, j] = inverse[comp[:, j]]
        if c.merged.size:
            rows = np.flatnonzero(comp[:, j] == c.csize - 1)
            picked = np.zeros(n, np.int64)
            _assign(rows, np.clip(y1[j][c.merged], 0, None), rng, picked)
            full[rows, j] = c.merged[picked[rows]]
    return full


# -- utility -----------------------------------------------------------------------------

@dataclass(frozen=True)
class WayError:
    """Errors of the k-way marginals: total variation distance (TVD, half the L1 distance
    of the normalised tables) averaged over, and at its worst among, the column sets
    compared."""

    way: int
    sets: int
    sets_total: int
    mean_tvd: float
    max_tvd: float
    worst: tuple[str, ...]

    @property
    def mean_l1(self) -> float:
        return 2 * self.mean_tvd

    @property
    def max_l1(self) -> float:
        return 2 * self.max_tvd

    def to_dict(self) -> dict[str, Any]:
        return {"way": self.way, "sets": self.sets, "sets_total": self.sets_total,
                "mean_tvd": self.mean_tvd, "max_tvd": self.max_tvd,
                "mean_l1": self.mean_l1, "max_l1": self.max_l1, "worst": list(self.worst)}


@dataclass(frozen=True)
class MarginalUtility:
    """How closely a synthetic table's marginals follow the real table's, by way."""

    columns: tuple[str, ...]
    ways: tuple[WayError, ...]
    rows_real: int
    rows_synthetic: int
    max_sets: int | None
    seed: int

    def __getitem__(self, way: int) -> WayError:
        for w in self.ways:
            if w.way == way:
                return w
        raise KeyError(way)

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "ways": [w.to_dict() for w in self.ways],
                "rows_real": self.rows_real, "rows_synthetic": self.rows_synthetic,
                "max_sets": self.max_sets, "seed": self.seed}


def marginal_utility(real: pa.Table, synthetic: pa.Table,
                     columns: Sequence[str] | None = None, ways: Sequence[int] = (1, 2, 3),
                     max_sets: int | None = None, seed: int = 0) -> MarginalUtility:
    """Total variation distance between the normalised k-way marginals of two tables.

    For each k in ``ways`` and each set of k columns (all of them, or ``max_sets`` drawn at
    random with ``seed`` when there are more), the two tables' counts over the set's value
    combinations are divided by their row counts and compared: TVD = ½ Σ |p - q| (0 when the
    marginals agree, 1 when they share no mass; the L1 error is twice it). Missing values
    count as a value of their own. Returns the mean and the largest TVD per k.
    """
    cols = tuple(columns) if columns is not None else tuple(real.column_names)
    if not cols:
        raise SynthError("marginal_utility: no columns to compare")
    for t, label in ((real, "real"), (synthetic, "synthetic")):
        missing = [c for c in cols if c not in t.column_names]
        if missing:
            raise SynthError(f"marginal_utility: the {label} table has no column "
                             f"{', '.join(map(repr, missing))}")
        if t.num_rows == 0:
            raise SynthError(f"marginal_utility: the {label} table is empty; marginals of "
                             "no rows cannot be normalised")
    bad = [k for k in ways if not (isinstance(k, int) and 1 <= k <= len(cols))]
    if bad:
        raise SynthError(f"marginal_utility: ways must be whole numbers from 1 to the number "
                         f"of columns ({len(cols)}); got {bad}")
    if max_sets is not None and max_sets < 1:
        raise SynthError(f"marginal_utility: max_sets must be ≥ 1 or None (got {max_sets})")
    nr, ns = real.num_rows, synthetic.num_rows
    codes, sizes = _joint_codes(real, synthetic, cols)
    rng = np.random.default_rng(seed)
    out = []
    for k in ways:
        sets = list(itertools.combinations(range(len(cols)), k))
        total_sets = len(sets)
        if max_sets is not None and len(sets) > max_sets:
            pick = np.sort(rng.choice(len(sets), size=max_sets, replace=False))
            sets = [sets[i] for i in pick]
        tvds = [_tvd(codes, sizes, s, nr, ns) for s in sets]
        worst = int(np.argmax(tvds))
        out.append(WayError(way=k, sets=len(sets), sets_total=total_sets,
                            mean_tvd=float(np.mean(tvds)), max_tvd=float(tvds[worst]),
                            worst=tuple(cols[i] for i in sets[worst])))
    return MarginalUtility(columns=cols, ways=tuple(out), rows_real=nr, rows_synthetic=ns,
                           max_sets=max_sets, seed=seed)


def _joint_codes(real: pa.Table, synthetic: pa.Table, cols: Sequence[str]
                 ) -> tuple[IntArray, list[int]]:
    """Each column of both tables (real rows first) coded over the union of their values."""
    out, sizes = [], []
    for c in cols:
        both = pa.chunked_array(real.column(c).cast(pa.string()).chunks
                                + synthetic.column(c).cast(pa.string()).chunks,
                                type=pa.string())
        enc = pc.dictionary_encode(both.combine_chunks(), null_encoding="encode")
        out.append(np.asarray(enc.indices.to_numpy(zero_copy_only=False), np.int64))
        sizes.append(len(enc.dictionary))
    return np.stack(out, axis=1), sizes


def _tvd(codes: IntArray, sizes: Sequence[int], subset: Sequence[int], nr: int,
         ns: int) -> float:
    cells = math.prod(sizes[i] for i in subset)
    if cells <= 4_000_000:
        key = np.zeros(codes.shape[0], np.int64)
        for i in subset:
            key = key * sizes[i] + codes[:, i]
    else:  # too many cells for a dense count: number the combinations that occur
        _, key = np.unique(codes[:, list(subset)], axis=0, return_inverse=True)
        key = key.ravel()
        cells = int(key.max()) + 1
    pr = np.bincount(key[:nr], minlength=cells) / nr
    ps = np.bincount(key[nr:], minlength=cells) / ns
    return float(0.5 * np.abs(pr - ps).sum())


# -- disclosure ------------------------------------------------------------------------

@dataclass(frozen=True)
class UniqueMatches:
    """Synthetic records that are unique in the synthetic table and whose combination of
    values is also unique in the real table: the records that might point at one real
    person. ``share`` is their share of the synthetic records."""

    columns: tuple[str, ...]
    rows_real: int
    rows_synthetic: int
    real_unique: int
    synthetic_unique: int
    matched: int

    @property
    def share(self) -> float:
        return self.matched / self.rows_synthetic if self.rows_synthetic else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"columns": list(self.columns), "rows_real": self.rows_real,
                "rows_synthetic": self.rows_synthetic, "real_unique": self.real_unique,
                "synthetic_unique": self.synthetic_unique, "matched": self.matched,
                "share": self.share}


def unique_matches(real: pa.Table, synthetic: pa.Table,
                   columns: Sequence[str] | None = None) -> UniqueMatches:
    """Count the synthetic records that are unique on ``columns`` and match a record that is
    unique in the real table on the same columns.

    An attribute-disclosure sanity figure (exact, for the analyst: it reads the real data).
    A synthesiser that copies records scores high; one that only keeps low-order marginals
    should score about what sampling each column independently scores. Compare with such a
    baseline, not with zero.
    """
    cols = tuple(columns) if columns is not None else tuple(real.column_names)
    if not cols:
        raise SynthError("unique_matches: no columns to compare")
    for t, label in ((real, "real"), (synthetic, "synthetic")):
        missing = [c for c in cols if c not in t.column_names]
        if missing:
            raise SynthError(f"unique_matches: the {label} table has no column "
                             f"{', '.join(map(repr, missing))}")
    nr, ns = real.num_rows, synthetic.num_rows
    if nr == 0 or ns == 0:
        return UniqueMatches(cols, nr, ns, 0, 0, 0)
    codes, _ = _joint_codes(real, synthetic, cols)
    _, key, counts_all = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    key = key.ravel()
    real_counts = np.bincount(key[:nr], minlength=counts_all.size)
    syn_counts = np.bincount(key[nr:], minlength=counts_all.size)
    both = (real_counts == 1) & (syn_counts == 1)
    return UniqueMatches(cols, nr, ns, real_unique=int((real_counts == 1).sum()),
                         synthetic_unique=int((syn_counts == 1).sum()),
                         matched=int(both.sum()))


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if hasattr(v, "item"):
        return _jsonable(v.item())
    return v
