"""A release of statistics: what it holds (a spec), how it is made (prepare) and the checks
that must pass before a data steward may approve it.

A :class:`ReleaseSpec` lists **items**, each of one kind:

``dp_table``
    a differentially private count table over some dimensions (region, year, form of
    exploitation, sex, age band, citizenship) at a stated ε, with person-level privacy when a
    linkage is designated (:mod:`tiplab.privacy.dp`);
``table``
    a plain count table protected by small-cell and secondary suppression
    (:mod:`tiplab.privacy.disclosure`): what national statistics offices publish, no ε spent;
``kanon``
    k-anonymous microdata in the CTDC or HTCDS layout (:mod:`tiplab.privacy.kanon`);
``synthetic``
    differentially private synthetic microdata (:mod:`tiplab.privacy.synth`);
``figures``
    the key figures: persons identified (a differentially private total), the estimate of
    the hidden number (the designated multiple systems estimate, passed in) and the
    detection gap.

:func:`prepare` computes every item from one analytics snapshot (one data version) and
returns a :class:`PreparedRelease`: Arrow tables plus, per item, what it cost (ε, δ) and how
it was protected. :func:`run_checks` then checks it: no identifier or record id in any
file, no unprotected count below the threshold, every microdata file k-anonymous (checked
again by brute force on the file as released), the privacy budget not exceeded, one data
version throughout. The web app stores the result, and freezes it when a steward approves.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from tiplab.errors import TiplabError
from tiplab.privacy.dp import DIMENSION_COLUMNS
from tiplab.records.schema import CASE_SCHEMA

log = logging.getLogger(__name__)

KINDS = ("dp_table", "table", "kanon", "synthetic", "figures")
ItemKind = Literal["dp_table", "table", "kanon", "synthetic", "figures"]

#: what a release may be broken down by, and the case column behind each dimension
DIMENSIONS = DIMENSION_COLUMNS
#: columns that never leave the platform in a release (identifiers, record and person ids)
NEVER_RELEASED = frozenset(
    {f.name for f in CASE_SCHEMA.fields if f.protected}
    | {"record_id", "person_id", "source_agency", "batch_id", "person_records",
       "person_linked", "identity_sealed"})


class ReleaseError(TiplabError):
    """A release cannot be prepared as asked; the message says which item and why."""


@dataclass(frozen=True)
class ItemSpec:
    """One item of a release."""

    key: str
    kind: ItemKind
    title: str
    dimensions: tuple[str, ...] = ()
    #: ε spent on this item (dp_table, synthetic, figures' identified count)
    epsilon: float = 0.0
    delta: float = 0.0
    mechanism: Literal["laplace", "gaussian"] = "laplace"
    #: microdata: the released columns (every one a quasi-identifier) and k
    columns: tuple[str, ...] = ()
    k: int = 11
    layout: Literal["ctdc", "htcds", "plain"] = "ctdc"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["dimensions"] = list(self.dimensions)
        d["columns"] = list(self.columns)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ItemSpec:
        known = {f for f in cls.__dataclass_fields__}
        extra = set(d) - known
        if extra:
            raise ReleaseError(f"release item {d.get('key', '?')!r}: unknown field(s) "
                               f"{', '.join(sorted(extra))}")
        args = dict(d)
        args["dimensions"] = tuple(args.get("dimensions") or ())
        args["columns"] = tuple(args.get("columns") or ())
        return cls(**args)


@dataclass(frozen=True)
class ReleaseSpec:
    """What a release holds. Round-trips through JSON (stored with every version)."""

    title: str
    items: tuple[ItemSpec, ...]
    #: the period covered, inclusive (years of registration)
    years: tuple[int, int] | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.items:
            raise ReleaseError("a release needs at least one item")
        keys = [i.key for i in self.items]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ReleaseError(f"item keys must be unique; repeated: {', '.join(dup)}")
        for i in self.items:
            _validate_item(i)
        if self.years and self.years[0] > self.years[1]:
            raise ReleaseError(f"years {self.years[0]}-{self.years[1]}: the first year is "
                               "after the last")

    @property
    def epsilon(self) -> float:
        return float(sum(i.epsilon for i in self.items))

    @property
    def delta(self) -> float:
        return float(sum(i.delta for i in self.items))

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description,
                "years": list(self.years) if self.years else None,
                "items": [i.to_dict() for i in self.items]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReleaseSpec:
        try:
            items = tuple(ItemSpec.from_dict(x) for x in d["items"])
            years = d.get("years")
            return cls(title=str(d["title"]), items=items,
                       years=(int(years[0]), int(years[1])) if years else None,
                       description=str(d.get("description") or ""))
        except (KeyError, TypeError, ValueError) as e:
            raise ReleaseError(f"not a release spec: {e}") from e


def _validate_item(i: ItemSpec) -> None:
    where = f"release item {i.key!r}"
    if not i.key or not i.key.replace("_", "").replace("-", "").isalnum():
        raise ReleaseError(f"{where}: a key is letters, digits, '-' and '_' only")
    if i.kind not in KINDS:
        raise ReleaseError(f"{where}: unknown kind {i.kind!r}; use one of {', '.join(KINDS)}")
    bad = [d for d in (*i.dimensions, *i.columns) if d not in DIMENSIONS]
    if bad:
        raise ReleaseError(f"{where}: unknown dimension(s) {', '.join(bad)}; available: "
                           f"{', '.join(DIMENSIONS)}")
    if i.kind in ("dp_table", "synthetic", "figures"):
        if not (i.epsilon > 0 and math.isfinite(i.epsilon)):
            raise ReleaseError(f"{where}: a differentially private item needs ε > 0 "
                               f"(got {i.epsilon})")
        if i.kind == "synthetic" and not 0 < i.delta < 1:
            raise ReleaseError(f"{where}: synthetic microdata is measured with the Gaussian "
                               "mechanism and needs δ in (0, 1), e.g. 1e-8")
        if i.kind != "synthetic" and i.mechanism == "gaussian" and not 0 < i.delta < 1:
            raise ReleaseError(f"{where}: the Gaussian mechanism needs δ in (0, 1), e.g. 1e-8")
        if i.kind != "synthetic" and i.mechanism == "laplace" and i.delta:
            raise ReleaseError(f"{where}: the Laplace mechanism spends no δ; remove it")
    elif i.epsilon or i.delta:
        raise ReleaseError(f"{where}: a {i.kind} item spends no privacy budget; remove ε")
    if i.kind in ("dp_table", "table") and not i.dimensions:
        raise ReleaseError(f"{where}: a table needs at least one dimension")
    if i.kind in ("kanon", "synthetic") and not i.columns:
        raise ReleaseError(f"{where}: microdata needs its columns")
    if i.kind == "kanon" and i.k < 2:
        raise ReleaseError(f"{where}: k must be at least 2 (CTDC used 10; the default is 11)")


@dataclass
class Artefact:
    """One prepared item: its table and how it was made and protected."""

    key: str
    kind: str
    title: str
    table: pa.Table
    meta: dict[str, Any] = field(default_factory=dict)

    def spend(self) -> dict[str, Any] | None:
        eps = float(self.meta.get("epsilon") or 0)
        if eps <= 0:
            return None
        return {"item": self.key, "epsilon": eps, "delta": float(self.meta.get("delta") or 0),
                "rho": self.meta.get("rho"), "mechanism": str(self.meta.get("mechanism", "")),
                "unit": str(self.meta.get("unit", "")), "query": str(self.meta.get("query", ""))}


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    message: str
    item: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PreparedRelease:
    spec: ReleaseSpec
    data_version: str
    unit: dict[str, Any]
    artefacts: list[Artefact]
    figures: list[dict[str, Any]]
    prepared_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat())

    def spends(self) -> list[dict[str, Any]]:
        return [s for a in self.artefacts if (s := a.spend()) is not None]

    def artefact(self, key: str) -> Artefact:
        for a in self.artefacts:
            if a.key == key:
                return a
        raise KeyError(key)


# -- domains ---------------------------------------------------------------------------

def domains_for(dimensions: Sequence[str], *, years: tuple[int, int] | None,
                regions: Sequence[str] | None,
                countries: Sequence[str] = ()) -> dict[str, list[str]]:
    """The public domain of each dimension: every cell a table may have, known before the
    data is looked at (taking the values from the data would tell which cells are empty)."""
    from tiplab.privacy.dp import build_domains

    if "year" in dimensions and not years:
        raise ReleaseError("a table by year needs the release's period (years)")
    if "region" in dimensions and not regions:
        raise ReleaseError("a table by region needs the workspace's list of regions "
                           "(none is configured)")
    out = {k: list(v) for k, v in build_domains(dimensions, years=years,
                                                regions=regions).items()}
    if "citizenship" in out:  # the workspace's own code when it is not an ISO one (XTL)
        out["citizenship"] = sorted({*out["citizenship"], *countries})
    return out


def case_frame(cases: pa.Table, dimensions: Sequence[str]) -> pa.Table:
    """The case table reduced to the release dimensions (and ``person_id`` when present):
    ``year`` from the registration date, list-valued forms kept as lists."""
    cols: dict[str, Any] = {}
    for d in dimensions:
        src = DIMENSIONS[d]
        if src not in cases.column_names:
            raise ReleaseError(f"the case data has no column {src!r} (needed for {d!r})")
        col = cases.column(src)
        if d == "year":
            col = pc.cast(pc.year(col), pa.string())
        cols[d] = col
    if "person_id" in cases.column_names:
        cols["person_id"] = cases.column("person_id")
    if not cols:  # a total: keep the rows (a table of no column has none)
        cols["_row"] = pa.array(range(cases.num_rows), pa.int64())
    return pa.table(cols)


# -- prepare ---------------------------------------------------------------------------

Runner = Callable[[ItemSpec, pa.Table, dict[str, list[str]]], Artefact]


def prepare(cases: pa.Table, spec: ReleaseSpec, *, data_version: str,
            unit: Mapping[str, Any], regions: Sequence[str] | None = None,
            countries: Sequence[str] = (),
            estimate: Mapping[str, Any] | None = None) -> PreparedRelease:
    """Compute every item of ``spec`` from ``cases`` (one row per person when persons are
    the unit, else per record; no identifiers — the analytics snapshot has none).

    ``countries`` adds citizenship codes beyond ISO 3166 (the workspace's own, e.g. a
    simulated country's). ``estimate`` is the designated estimate of the hidden number, if any
    (``{"estimate", "low", "high", "method", "source"}``), used by ``figures`` items.
    """
    if spec.years:
        year = pc.year(cases.column("registration_date"))
        keep = pc.and_(pc.greater_equal(year, spec.years[0]),
                       pc.less_equal(year, spec.years[1]))
        cases = cases.filter(pc.fill_null(keep, False))
    artefacts: list[Artefact] = []
    figures: list[dict[str, Any]] = []
    for item in spec.items:
        dims = tuple(dict.fromkeys((*item.dimensions, *item.columns)))
        doms = domains_for(dims, years=spec.years, regions=regions, countries=countries)
        if item.kind == "kanon" and item.layout != "plain":
            # the layouts read the case columns themselves (codes, lists, dates)
            keep = ["registration_date", *(DIMENSIONS[d] for d in item.columns)]
            frame = cases.select([c for c in dict.fromkeys(keep) if c in cases.column_names])
        else:
            frame = case_frame(cases, dims)
        runner = _RUNNERS[item.kind]
        try:
            art = runner(item, frame, doms)
        except TiplabError as e:
            raise ReleaseError(f"release item {item.key!r}: {e}") from e
        art.meta.setdefault("unit", unit.get("unit", "records"))
        artefacts.append(art)
        if item.kind == "figures":
            figures.extend(_figures(art, estimate, spec))
    return PreparedRelease(spec=spec, data_version=data_version, unit=dict(unit),
                           artefacts=artefacts, figures=figures)


def _run_dp(item: ItemSpec, frame: pa.Table, doms: dict[str, list[str]]) -> Artefact:
    from tiplab.privacy import dp

    result = dp.dp_tables(frame, dimensions=item.dimensions, epsilon=item.epsilon,
                          mechanism=item.mechanism, domains=doms, delta=item.delta or None)
    meta = _dp_meta(result)
    meta["query"] = "count of persons by " + " × ".join(item.dimensions)
    return Artefact(item.key, item.kind, item.title, result.table, meta)


def _run_table(item: ItemSpec, frame: pa.Table, doms: dict[str, list[str]]) -> Artefact:
    import duckdb

    from tiplab.privacy.tables import protect_counts

    dims = list(item.dimensions)
    con = duckdb.connect()
    con.register("f", _explode(frame, dims))
    by = ", ".join(f'"{d}"' for d in dims)
    # one person counts once per cell (several records of one person, several forms)
    unit = "person_id" if "person_id" in frame.column_names else "_row"
    counts = con.sql(f"SELECT {by}, count(DISTINCT {unit}) AS count FROM f "
                     f"GROUP BY ALL").to_arrow_table()
    full = _full_grid(counts, dims, doms)
    protected, prot = protect_counts(full, "count", rows=dims[0] if len(dims) > 1 else None,
                                     cols=dims[1:] or None)
    meta = {"protection": prot.to_dict(), "epsilon": 0.0,
            "query": "count by " + " × ".join(dims)}
    return Artefact(item.key, item.kind, item.title, protected, meta)


def _explode(frame: pa.Table, dims: Sequence[str]) -> pa.Table:
    """One row per (row, value) of list-valued dimensions; ``_row`` numbers the input rows."""
    import duckdb

    con = duckdb.connect()
    con.register("f", frame)
    sel = ['row_number() OVER () AS "_row"']
    for c in frame.column_names:
        if c in dims and pa.types.is_list(frame.schema.field(c).type):
            sel.append(f'unnest("{c}") AS "{c}"')
        else:
            sel.append(f'"{c}"')
    return con.sql(f"SELECT {', '.join(sel)} FROM f").to_arrow_table()


def _full_grid(counts: pa.Table, dims: Sequence[str], doms: dict[str, list[str]]) -> pa.Table:
    import itertools

    have = {tuple(str(r[d]) for d in dims): int(r["count"]) for r in counts.to_pylist()}
    cells = list(itertools.product(*(doms[d] for d in dims)))
    return pa.table({**{d: pa.array([c[i] for c in cells], pa.string())
                        for i, d in enumerate(dims)},
                     "count": pa.array([have.get(c, 0) for c in cells], pa.int64())})


def _run_kanon(item: ItemSpec, frame: pa.Table, doms: dict[str, list[str]]) -> Artefact:
    """k-anonymous microdata: in a standard layout (CTDC, HTCDS) built from the chosen case
    columns, every released column a quasi-identifier (flag groups count as one), or plain
    (the dimensions as columns)."""
    from tiplab.privacy import kanon, layouts

    meta: dict[str, Any] = {}
    if item.layout == "plain":
        data = frame.drop_columns([c for c in ("person_id",) if c in frame.column_names])
        result = kanon.k_anonymise(data, quasi_identifiers=list(item.columns), k=item.k)
    else:
        shaped = (layouts.to_ctdc if item.layout == "ctdc" else layouts.to_htcds)(frame)
        # a layout column we have no value for says nothing: leave it out of the file
        empty = [c for c in shaped.table.column_names
                 if shaped.table.column(c).null_count == shaped.table.num_rows]
        table = shaped.table.drop_columns(empty)
        groups = {g: tuple(c for c in cols if c in table.column_names)
                  for g, cols in shaped.groups.items()}
        groups = {g: cols for g, cols in groups.items() if cols}
        result = kanon.k_anonymise(table, k=item.k, groups=groups)
        meta["layout"] = item.layout
        meta["mapping"] = shaped.to_dict().get("report")
        if "region" in item.columns and item.layout == "ctdc":
            meta["notes"] = ["CTDC's layout has no region below the country: left out"]
    meta.update({k: v for k, v in result.to_dict().items() if k not in ("table", "settings")})
    meta["epsilon"] = 0.0
    return Artefact(item.key, item.kind, item.title, result.table, meta)


#: the value synthetic microdata gives a missing field (kept, not dropped: every person counts)
UNKNOWN = "unknown"


def _run_synth(item: ItemSpec, frame: pa.Table, doms: dict[str, list[str]]) -> Artefact:
    from tiplab.privacy import synth

    data = frame
    if "form" in data.column_names and pa.types.is_list(data.schema.field("form").type):
        data = synth.primary_value(data, "form")  # the primary form, as the record lists it
    cols = list(item.columns)
    for c in cols:
        i = data.column_names.index(c)
        data = data.set_column(i, c, pc.fill_null(pc.cast(data.column(c), pa.string()),
                                                  UNKNOWN))
    # the year comes from the registration date, which every record has
    domains = {c: doms[c] if c == "year" else [*doms[c], UNKNOWN] for c in cols}
    settings = synth.SynthSettings(epsilon=item.epsilon, delta=item.delta,
                                   unit_column="person_id"
                                   if "person_id" in data.column_names else None)
    result = synth.synthesize(data, domains, settings)
    meta = {k: v for k, v in result.public_dict(rows=False).items()
            if k not in ("table", "domains")}
    full = result.to_dict(rows=False)
    meta["internal"] = {k: full[k] for k in ("rows_in", "rows_dropped", "out_of_domain")
                        if k in full}
    meta["query"] = "synthetic microdata of " + ", ".join(cols)
    meta["mechanism"] = "discrete Gaussian (MST)"
    return Artefact(item.key, item.kind, item.title, result.table, meta)


def _run_figures(item: ItemSpec, frame: pa.Table, doms: dict[str, list[str]]) -> Artefact:
    from tiplab.privacy import dp

    result = dp.dp_count(frame, epsilon=item.epsilon, mechanism=item.mechanism,
                         delta=item.delta or None)
    meta = _dp_meta(result)
    meta["query"] = "count of persons identified"
    return Artefact(item.key, item.kind, item.title, result.table, meta)


def _dp_meta(result: Any) -> dict[str, Any]:
    """What a release keeps about a DP table: the publication-safe fields (no domain lists:
    they are the public code lists), and under ``internal`` the exact diagnostics (rows
    truncated, out of domain) that only the analysts may see — never on the portal."""
    meta = {k: v for k, v in result.public_dict().items()
            if k not in ("table", "margins", "domains")}
    full = result.to_dict()
    meta["internal"] = {k: full[k] for k in ("rows_truncated", "out_of_domain") if k in full}
    return meta


_RUNNERS: dict[str, Runner] = {"dp_table": _run_dp, "table": _run_table, "kanon": _run_kanon,
                               "synthetic": _run_synth, "figures": _run_figures}


def _figures(art: Artefact, estimate: Mapping[str, Any] | None,
             spec: ReleaseSpec) -> list[dict[str, Any]]:
    period = f"{spec.years[0]}–{spec.years[1]}" if spec.years else ""
    count = art.table.column("count")[0].as_py() if art.table.num_rows else None
    err = art.table.column("error")[0].as_py() if "error" in art.table.column_names else None
    out: list[dict[str, Any]] = [{
        "key": "identified", "label": "Victims identified", "value": count, "error": err,
        "unit": art.meta.get("unit", "persons"), "period": period,
        "source": f"{art.key}", "note": f"differentially private count, ε={art.meta['epsilon']:g}"}]
    if estimate and estimate.get("estimate") is not None:
        est = float(estimate["estimate"])
        out.append({"key": "estimated", "label": "Estimated victims (identified or not)",
                    "value": round(est), "low": _r(estimate.get("low")),
                    "high": _r(estimate.get("high")), "unit": "persons", "period": period,
                    "source": str(estimate.get("source", "")),
                    "note": str(estimate.get("method", "multiple systems estimation"))})
        if count is not None:
            low, high = estimate.get("low"), estimate.get("high")
            out.append({"key": "detection_gap", "label": "Victims not identified (estimated)",
                        "value": max(0, round(est - count)),
                        "low": None if low is None else max(0, round(float(low) - count)),
                        "high": None if high is None else max(0, round(float(high) - count)),
                        "unit": "persons", "period": period,
                        "source": f"{art.key}; {estimate.get('source', '')}",
                        "note": "estimated minus identified"})
    return out


def _r(v: Any) -> float | None:
    return None if v is None else float(round(float(v)))


# -- checks ----------------------------------------------------------------------------

def run_checks(prepared: PreparedRelease, *, spent: Sequence[Mapping[str, Any]],
               epsilon_cap: float, delta_cap: float, threshold: int = 5,
               current_data_version: str | None = None) -> list[Check]:
    """Every check a release must pass before approval (each one reported, pass or fail)."""
    from tiplab.privacy import budget as bud

    checks: list[Check] = []
    for a in prepared.artefacts:
        leaked = sorted(NEVER_RELEASED & set(a.table.column_names))
        checks.append(Check("identifiers", not leaked,
                            f"no identifier, record or person id among {a.table.num_columns} "
                            "columns" if not leaked else
                            f"the file would contain {', '.join(leaked)}: remove them", a.key))
        if a.kind == "table":
            checks.append(_small_cells(a, threshold))
        if a.kind == "kanon":
            checks.append(_k_check(a))
        if a.kind in ("dp_table", "synthetic", "figures"):
            ok = float(a.meta.get("epsilon") or 0) > 0
            checks.append(Check("noise", ok, "measured with a differentially private "
                                f"mechanism ({a.meta.get('mechanism', '?')}, "
                                f"ε={float(a.meta.get('epsilon') or 0):g})" if ok else
                                "no privacy loss recorded for a noisy item", a.key))
    new = prepared.spends()
    spent_l = [bud.Spend(epsilon=float(s["epsilon"]), delta=float(s.get("delta") or 0),
                         mechanism=str(s.get("mechanism", "")), query=str(s.get("query", "")))
               for s in spent]
    new_l = [bud.Spend(epsilon=float(s["epsilon"]), delta=float(s.get("delta") or 0),
                       mechanism=str(s.get("mechanism", "")), query=str(s.get("query", "")))
             for s in new]
    try:
        bud.check(spent_l, new_l, bud.Budget(epsilon_cap=epsilon_cap, delta_cap=delta_cap))
        e_used, _d = bud.total([*spent_l, *new_l])
        e_new = sum(s.epsilon for s in new_l)
        checks.append(Check("budget", True, f"this release spends ε={e_new:g}; with it "
                            f"{e_used:g} of the cap {epsilon_cap:g} is spent"))
    except bud.BudgetExceeded as e:
        checks.append(Check("budget", False, str(e)))
    if current_data_version is not None:
        same = prepared.data_version == current_data_version
        checks.append(Check("data_version", same, f"prepared from the current data version "
                            f"{prepared.data_version}" if same else
                            f"prepared from {prepared.data_version}, but the data is now "
                            f"{current_data_version}: prepare a new version"))
    return checks


def _small_cells(a: Artefact, threshold: int) -> Check:
    counts = a.table.column("count")
    mask = pc.and_(pc.greater(counts, 0), pc.less(counts, threshold))
    bad = int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)
    return Check("small_cells", bad == 0,
                 f"no published count between 1 and {threshold - 1}" if bad == 0 else
                 f"{bad} published count(s) between 1 and {threshold - 1}: suppress them",
                 a.key)


def _k_check(a: Artefact) -> Check:
    from tiplab.privacy import kanon

    k = int(a.meta.get("k") or 0)
    qis = [c for c in a.table.column_names]
    bad = kanon.check_k(a.table, qis, k)
    return Check("k_anonymity", not bad,
                 f"every combination of the {len(qis)} released columns is shared by at "
                 f"least {k} records (checked on the file)" if not bad else
                 f"{len(bad)} combination(s) are shared by fewer than {k} records", a.key)


def passed(checks: Sequence[Check]) -> bool:
    return all(c.passed for c in checks)
