"""How linkage error moves the MSE estimate: the same estimate from a linkage and from the
true linkage of the same records.

Only possible where the true identity of every record is known (the simulator's
``truth/records.csv``: source, record_id, true_id). Both person tables are built from the
same records by the same rule (:func:`tiplab.linkage.persons.person_table`: one person per
id, ``sources`` = the set of agencies, ``year`` the smallest, other strata the most frequent
value), then estimated by the same method, strata, bootstrap size and seed. Whatever differs
between the two estimates is the linkage's doing: a false merge of two persons seen by two
lists adds to the overlap and lowers the estimate; a missed link removes overlap and raises it.

::

    effect = truth_effect(clusters, truth, records=records, by=("year",))
    print(effect.to_text())
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from tiplab.estimation import CaptureTable, estimate, estimate_strata
from tiplab.estimation.errors import EstimationError
from tiplab.estimation.person import StratifiedTables, capture_tables_from_persons
from tiplab.linkage.errors import LinkageError
from tiplab.linkage.persons import person_table
from tiplab.linkage.quality import evaluate_clusters

log = logging.getLogger("tiplab.linkage")

#: the web app's default estimate: the stepwise log-linear model, by year (the demo's
#: estimate of record), seed 1234
DEFAULT_METHOD = "stepwise"
DEFAULT_BY: tuple[str, ...] = ("year",)
DEFAULT_SEED = 1234
#: a small bootstrap (the app's estimate uses 1,000): enough for a 95% interval to compare,
#: cheap enough to run at the end of every link run
DEFAULT_NBOOT = 200


@dataclass(frozen=True)
class SideEstimate:
    """One side's estimate of one stratum (``estimate`` is None with an ``error``)."""

    observed: int
    estimate: float | None
    interval: tuple[float, float] | None
    model: str | None = None
    error: str | None = None
    interval_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        lo, hi = self.interval if self.interval is not None else (None, None)
        return {
            "observed": self.observed,
            "estimate": _finite(self.estimate),
            "lower": _finite(lo),
            "upper": _finite(hi),
            "model": self.model,
            "interval_type": self.interval_type,
            "error": self.error,
        }


@dataclass(frozen=True)
class EffectRow:
    """One stratum (``stratum == ()``: every person, unstratified): the estimate from the
    linkage, from the true linkage, and the true number where the simulator knows it."""

    stratum: tuple[tuple[str, str | None], ...]
    linked: SideEstimate | None
    true: SideEstimate | None
    true_n: int | None = None
    kind: str = "stratum"  # "overall", "stratum" or "sum of strata"

    @property
    def label(self) -> str:
        if self.kind != "stratum":
            return self.kind
        return ", ".join(f"{k}={'(not recorded)' if v is None else v}" for k, v in self.stratum)

    @property
    def relative_difference(self) -> float | None:
        """(from the linkage - from the truth) / from the truth."""
        a = self.linked.estimate if self.linked is not None else None
        b = self.true.estimate if self.true is not None else None
        if a is None or b is None or not math.isfinite(a) or not math.isfinite(b) or b == 0:
            return None
        return (a - b) / b

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "label": self.label,
            "stratum": {k: v for k, v in self.stratum},
            "linked": self.linked.to_dict() if self.linked is not None else None,
            "true": self.true.to_dict() if self.true is not None else None,
            "relative_difference": _finite(self.relative_difference),
            "true_n": self.true_n,
        }


@dataclass(frozen=True)
class SimulatorTruth:
    """What the simulator knows of the hidden population: the true total and the true number
    per stratum (``truth/strata.csv``: identification year x region x form x sex)."""

    true_n: int | None
    strata: tuple[dict[str, str], ...] = ()
    strata_columns: tuple[str, ...] = ()
    source: str = ""

    def true_n_for(self, stratum: Sequence[tuple[str, str | None]]) -> int | None:
        """The true number in a stratum; None when the truth has no such breakdown or no
        row with these values (e.g. a pooled "other" stratum, or labels spelt otherwise)."""
        if not stratum:
            return self.true_n
        cols = [k for k, _v in stratum]
        if not self.strata or any(c not in self.strata_columns for c in cols):
            return None
        if any(v is None for _k, v in stratum):
            return None
        hits = [int(row["n"]) for row in self.strata if all(row[k] == v for k, v in stratum)]
        return sum(hits) if hits else None


def load_simulator_truth(truth_dir: str | Path) -> SimulatorTruth | None:
    """The true totals of a simulator run (``truth/parameters.json`` and ``strata.csv``);
    None when the directory has neither."""
    d = Path(truth_dir)
    params, strata = d / "parameters.json", d / "strata.csv"
    if not params.exists() and not strata.exists():
        return None
    true_n: int | None = None
    if params.exists():
        try:
            p = json.loads(params.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise LinkageError(f"{params}: cannot be read as JSON ({e}).") from e
        realised = p.get("realised") or {}
        raw = realised.get("true_n", (p.get("settings") or {}).get("victims"))
        true_n = int(raw) if raw is not None else None
    rows: list[dict[str, str]] = []
    cols: tuple[str, ...] = ()
    if strata.exists():
        with strata.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            cols = tuple(c for c in (reader.fieldnames or []) if c not in ("n", "n_seen"))
            if "n" not in (reader.fieldnames or []):
                raise LinkageError(f"{strata}: no 'n' column (the true number per stratum).")
            rows = [dict(r) for r in reader]
        if true_n is None:
            true_n = sum(int(r["n"]) for r in rows)
    return SimulatorTruth(true_n, tuple(rows), cols, str(d))


def read_truth(path: str | Path) -> pa.Table:
    """A truth file (CSV: source, record_id, true_id; ``row`` when present) with the ids read
    as text, as the clusters hold them."""
    p = Path(path)
    if not p.exists():
        raise LinkageError(f"{p}: truth file not found.")
    try:
        return pacsv.read_csv(
            p,
            convert_options=pacsv.ConvertOptions(
                column_types={
                    "source": pa.string(),
                    "record_id": pa.string(),
                    "true_id": pa.string(),
                }
            ),
        )
    except (pa.ArrowInvalid, OSError) as e:
        raise LinkageError(f"{p}: cannot be read as a truth CSV ({e}).") from e


@dataclass(frozen=True)
class TruthEffect:
    """The estimate from a linkage beside the estimate from the true linkage of its records.

    ``overall`` is the unstratified estimate (all persons in one table); ``strata`` one row per
    stratum of ``by``; ``strata_sum`` the sum of the stratum estimates (no interval), when every
    stratum of both sides could be estimated.
    """

    method: str
    by: tuple[str, ...]
    nboot: int
    seed: int | None
    level: float
    interval_type: str
    overall: EffectRow
    strata: tuple[EffectRow, ...]
    strata_sum: EffectRow | None
    records: int
    records_without_truth: int
    truth_records_not_linked: int
    linked_persons: int
    true_persons: int
    attributes_from: str
    quality: dict[str, Any] = field(default_factory=dict)
    true_n_source: str | None = None
    notes: tuple[str, ...] = ()

    def rows(self) -> list[EffectRow]:
        return [self.overall, *self.strata, *([self.strata_sum] if self.strata_sum else [])]

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "by": list(self.by),
            "nboot": self.nboot,
            "seed": self.seed,
            "level": self.level,
            "interval_type": self.interval_type,
            "overall": self.overall.to_dict(),
            "strata": [r.to_dict() for r in self.strata],
            "strata_sum": self.strata_sum.to_dict() if self.strata_sum else None,
            "records": self.records,
            "records_without_truth": self.records_without_truth,
            "truth_records_not_linked": self.truth_records_not_linked,
            "linked_persons": self.linked_persons,
            "true_persons": self.true_persons,
            "attributes_from": self.attributes_from,
            "quality": {
                k: _finite(v) if isinstance(v, float) else v for k, v in self.quality.items()
            },
            "true_n_source": self.true_n_source,
            "notes": list(self.notes),
        }

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)

    def to_text(self) -> str:
        q = self.quality
        head = (
            f"MSE from the linkage vs from the true linkage: method {self.method}, "
            f"{'by ' + ', '.join(self.by) if self.by else 'unstratified'}, "
            f"{self.nboot} bootstrap replicates, seed {self.seed}, "
            f"{self.level:.0%} interval ({self.interval_type})."
        )
        lines = [
            head,
            f"{self.records:,} records; {self.linked_persons:,} persons linked, "
            f"{self.true_persons:,} true persons"
            + (
                f"; pairwise precision {q['pairwise_precision']:.4f}, recall "
                f"{q['pairwise_recall']:.4f}"
                if q
                else ""
            )
            + ".",
            f"{'stratum':<22} {'obs link':>8} {'obs true':>8} {'from linkage':>25} "
            f"{'from truth':>25} {'diff':>7} {'true N':>8}",
        ]
        for r in self.rows():
            true_n = f"{r.true_n:,}" if r.true_n is not None else "-"
            lines.append(
                f"{r.label:<22} {_obs(r.linked):>8} {_obs(r.true):>8} "
                f"{_est(r.linked):>25} {_est(r.true):>25} "
                f"{_pct(r.relative_difference):>7} {true_n:>8}"
            )
        for side, est in (("linkage", self.overall.linked), ("truth", self.overall.true)):
            if est is not None and est.model:
                lines.append(f"  overall model from the {side}: {est.model}")
        for side, row in ((s, r) for r in self.rows() for s in ("linked", "true")):
            est = getattr(row, side)
            if est is not None and est.error:
                lines.append(f"  {row.label}, {side}: not estimated: {est.error}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


def _obs(s: SideEstimate | None) -> str:
    return f"{s.observed:,}" if s is not None else "-"


def _est(s: SideEstimate | None) -> str:
    if s is None or s.estimate is None:
        return "-"
    out = f"{s.estimate:,.0f}"
    if s.interval is not None and all(math.isfinite(v) for v in s.interval):
        out += f" [{s.interval[0]:,.0f}-{s.interval[1]:,.0f}]"
    return out


def _pct(x: float | None) -> str:
    return f"{x:+.1%}" if x is not None else "-"


def _need(name: str, t: pa.Table, cols: Sequence[str], hint: str) -> None:
    missing = [c for c in cols if c not in t.column_names]
    if missing:
        raise LinkageError(f"{name} lacks column(s) {missing} (it has {t.column_names}); {hint}")


def _records(
    clusters: pa.Table,
    truth: pa.Table,
    records: pa.Table | None,
    persons: pa.Table | None,
    by: Sequence[str],
) -> tuple[pa.Table, pa.ChunkedArray, pa.ChunkedArray, dict[str, int], str]:
    """The records in both the clustering and the truth, with their attributes (attr_*), the
    linked and the true person id of each, the counts, and where the attributes came from.

    A record id can occur twice in a source (a duplicate-id defect): the k-th occurrence in
    the clustering meets the k-th in the truth and in ``records`` (file order), as in
    :func:`tiplab.linkage.quality.evaluate_clusters`.
    """
    con = duckdb.connect()
    try:
        con.register("c", clusters.append_column("_ord", pa.array(range(clusters.num_rows))))
        con.register("t", truth.append_column("_ord", pa.array(range(truth.num_rows))))
        order_t = "row, _ord" if "row" in truth.column_names else "_ord"
        key = (
            "CAST(source AS VARCHAR) AS s, CAST(record_id AS VARCHAR) AS r, "
            "row_number() OVER (PARTITION BY CAST(source AS VARCHAR), "
            "CAST(record_id AS VARCHAR) ORDER BY {o}) AS k"
        )
        con.execute(
            f"CREATE TEMP TABLE c2 AS SELECT {key.format(o='_ord')}, "
            "CAST(person_id AS VARCHAR) AS pid, _ord FROM c"
        )
        con.execute(
            f"CREATE TEMP TABLE t2 AS SELECT {key.format(o=order_t)}, "
            "CAST(true_id AS VARCHAR) AS tid FROM t"
        )
        attr_sel, attr_join = "", ""
        source = "none"
        if by and records is not None:
            cols = {b: (f"attr_{b}" if f"attr_{b}" in records.column_names else b) for b in by}
            con.register("rin", records.append_column("_ord", pa.array(range(records.num_rows))))
            con.execute(
                f"CREATE TEMP TABLE r2 AS SELECT {key.format(o='_ord')}"
                + "".join(f", {c} AS attr_{b}" for b, c in cols.items())
                + " FROM rin"
            )
            unmatched = con.execute(
                "SELECT count(*), min(c2.s || ':' || c2.r) FROM c2 ANTI JOIN r2 USING (s, r, k)"
            ).fetchall()[0]
            if unmatched[0]:
                raise LinkageError(
                    f"records: {unmatched[0]} linked record(s) have no row with their "
                    f"attributes (e.g. {unmatched[1]}); give the records of the same run."
                )
            attr_sel = "".join(f", r2.attr_{b}" for b in by)
            attr_join = "JOIN r2 USING (s, r, k)"
            source = "records"
        elif by and persons is not None:
            con.register("pin", persons)
            con.execute(
                "CREATE TEMP TABLE p2 AS SELECT CAST(person_id AS VARCHAR) AS pid"
                + "".join(f", {b} AS attr_{b}" for b in by)
                + " FROM pin"
            )
            attr_sel = "".join(f", p2.attr_{b}" for b in by)
            attr_join = "LEFT JOIN p2 USING (pid)"
            source = "linked persons"
        joined = con.sql(f"""
            SELECT c2.s AS source, c2.r AS record_id, c2.pid, t2.tid{attr_sel}
            FROM c2 JOIN t2 USING (s, r, k) {attr_join} ORDER BY c2._ord
        """).to_arrow_table()
        n_c = clusters.num_rows
        n_t = truth.num_rows
    finally:
        con.close()
    n = joined.num_rows
    if n == 0:
        raise LinkageError(
            "no record of the clustering appears in the truth file; check that 'source' and "
            "'record_id' are spelt the same in both."
        )
    recs = joined.select(
        ["source", "record_id", *[c for c in joined.column_names if c.startswith("attr_")]]
    )
    counts = {"records": n, "records_without_truth": n_c - n, "truth_records_not_linked": n_t - n}
    return recs, joined.column("pid"), joined.column("tid"), counts, source


def _side(res: Any) -> SideEstimate:
    return SideEstimate(
        int(res.observed),
        float(res.estimate),
        (float(res.interval[0]), float(res.interval[1])),
        res.model,
        interval_type=res.interval_type,
    )


def _overall(tables: StratifiedTables, method: str, kw: dict[str, Any]) -> SideEstimate:
    """As the estimates app does: every stratum pooled, non-informative lists dropped."""
    table: CaptureTable = tables.total()
    try:
        table, _dropped = table.remove_noninformative_lists()
        return _side(estimate(table, method, **kw))
    except EstimationError as e:
        return SideEstimate(table.n, None, None, None, str(e))


def _by_stratum(
    tables: StratifiedTables, method: str, kw: dict[str, Any]
) -> dict[tuple[tuple[str, str | None], ...], SideEstimate]:
    out = {}
    for s in estimate_strata(tables, method, **kw).strata:
        key = tuple((k, None if v is None else str(v)) for k, v in s["key"].items())
        r = s.get("result")
        out[key] = (
            _side(r)
            if r is not None
            else SideEstimate(int(s.get("observed") or 0), None, None, None, s.get("error"))
        )
    return out


def _estimated(s: SideEstimate | None) -> bool:
    return s is not None and s.estimate is not None and math.isfinite(s.estimate)


def _sum_of_strata(rows: list[EffectRow]) -> tuple[EffectRow | None, str]:
    """The sum over the strata that both sides could estimate and whose values are recorded
    (no interval), and a note on the strata left out. A "not recorded" stratum is left out:
    the persons no list gave a value for are not comparable with the others."""
    both = [
        r
        for r in rows
        if _estimated(r.linked) and _estimated(r.true) and all(v is not None for _k, v in r.stratum)
    ]
    if not both:
        return None, ""
    sides = []
    for side in ("linked", "true"):
        ests = [getattr(r, side) for r in both]
        sides.append(
            SideEstimate(sum(e.observed for e in ests), float(sum(e.estimate for e in ests)), None)
        )
    true_ns = [r.true_n for r in both]
    true_n = sum(n for n in true_ns if n is not None) if None not in true_ns else None
    out = EffectRow((), sides[0], sides[1], true_n, "sum of strata")
    left = [r for r in rows if r not in both]
    if not left:
        return out, ""
    persons = max(
        sum(getattr(r, side).observed for r in left if getattr(r, side) is not None)
        for side in ("linked", "true")
    )
    return out, (
        f"the sum of strata leaves out {len(left)} stratum/strata not estimated on both "
        f"sides or not recorded ({', '.join(r.label for r in left)}; up to {persons:,} "
        "observed persons)."
    )


def truth_effect(
    clusters: pa.Table,
    truth: pa.Table,
    *,
    records: pa.Table | None = None,
    persons: pa.Table | None = None,
    by: Sequence[str] = DEFAULT_BY,
    method: str = DEFAULT_METHOD,
    nboot: int = DEFAULT_NBOOT,
    seed: int | None = DEFAULT_SEED,
    level: float = 0.95,
    pool_below: int = 0,
    simulator: SimulatorTruth | None = None,
) -> TruthEffect:
    """Estimate from a linkage and from the true linkage of the same records, side by side.

    Parameters
    ----------
    clusters : pyarrow.Table
        The linkage: source, record_id, person_id (``clusters.csv``/``.parquet`` of a run).
    truth : pyarrow.Table
        source, record_id, true_id (the simulator's ``truth/records.csv``; ``row`` orders
        duplicate record ids). Only records in both are compared; the rest are counted.
    records : pyarrow.Table, optional
        source, record_id and the stratum attributes (``attr_<name>`` or ``<name>``) of every
        linked record; the true persons take their strata from them by the linkage's rule.
    persons : pyarrow.Table, optional
        The run's person table (person_id and the strata), used when ``records`` is not
        given: each record then carries its linked person's value, so a false merge can
        also move a true person's stratum (``attributes_from == "linked persons"``).
    by : sequence of str
        Strata (default ``("year",)``, as the app's estimate of record); ``()`` for none.
    method, nboot, seed, level
        As :func:`tiplab.estimation.estimate`, the same for both sides. ``nboot`` defaults
        to 200 replicates (small, for speed); 0 gives the model-conditional interval.
    pool_below : int
        Strata with fewer persons are pooled into ``"other"`` (as the estimates app).
    simulator : SimulatorTruth, optional
        True totals (:func:`load_simulator_truth`) shown beside the estimates.

    Raises
    ------
    LinkageError
        Missing columns, no record in common, or strata without attributes.
    """
    _need(
        "clusters",
        clusters,
        ("source", "record_id", "person_id"),
        "give a run's clusters table (source, record_id, person_id).",
    )
    _need(
        "truth",
        truth,
        ("source", "record_id", "true_id"),
        "give the simulator's truth/records.csv (source, record_id, true_id).",
    )
    by = tuple(by)
    if by and records is None and persons is None:
        raise LinkageError(
            f"strata {list(by)} need the records' attributes or the run's "
            "persons table; give records= or persons=, or by=()."
        )
    if records is not None:
        _need(
            "records",
            records,
            ("source", "record_id"),
            "give the linked records (source, record_id, attr_*).",
        )
        absent = [
            b
            for b in by
            if b not in records.column_names and f"attr_{b}" not in records.column_names
        ]
        if absent:
            raise LinkageError(
                f"records have no attribute {absent} (columns "
                f"{records.column_names}); choose strata the run carries."
            )
    elif persons is not None and by:
        _need(
            "persons",
            persons,
            ("person_id", *by),
            "give the run's persons table, or strata it carries.",
        )
    recs, pid, tid, counts, attributes_from = _records(clusters, truth, records, persons, by)
    linked_persons = person_table(recs, pid.combine_chunks())
    true_persons = person_table(recs, tid.combine_chunks())
    linked_tables = capture_tables_from_persons(linked_persons, by=by, pool_below=pool_below)
    true_tables = capture_tables_from_persons(true_persons, by=by, pool_below=pool_below)
    kw: dict[str, Any] = {"nboot": nboot, "seed": seed, "level": level}
    linked_all = _overall(linked_tables, method, kw)
    true_all = _overall(true_tables, method, kw)
    sim_n = simulator.true_n if simulator is not None else None
    overall = EffectRow((), linked_all, true_all, sim_n, "overall")
    strata: list[EffectRow] = []
    strata_sum = None
    notes: list[str] = []
    if by:
        a, b = _by_stratum(linked_tables, method, kw), _by_stratum(true_tables, method, kw)
        keys = sorted(set(a) | set(b), key=lambda k: tuple((v is None, v or "") for _c, v in k))
        for k in keys:
            strata.append(
                EffectRow(k, a.get(k), b.get(k), simulator.true_n_for(k) if simulator else None)
            )
        strata_sum, note = _sum_of_strata(strata)
        notes += [note] if note else []
        if simulator is not None and "year" in by and "year" in simulator.strata_columns:
            notes.append(
                "true N per year counts victims by identification year; the linkage's "
                "year is a person's first registration year, so persons registered "
                "after New Year fall one stratum later."
            )
        if attributes_from == "linked persons":
            notes.append(
                "record strata were taken from the linked persons (no record "
                "attributes given): a false merge can also move a true person's "
                "stratum."
            )
    interval_type = linked_all.interval_type or true_all.interval_type or "-"
    quality = evaluate_clusters(clusters, truth).to_dict()
    return TruthEffect(
        method=method,
        by=by,
        nboot=nboot,
        seed=seed,
        level=level,
        interval_type=interval_type,
        overall=overall,
        strata=tuple(strata),
        strata_sum=strata_sum,
        records=counts["records"],
        records_without_truth=counts["records_without_truth"],
        truth_records_not_linked=counts["truth_records_not_linked"],
        linked_persons=linked_persons.num_rows,
        true_persons=true_persons.num_rows,
        attributes_from=attributes_from,
        quality=quality,
        true_n_source=simulator.source if simulator is not None else None,
        notes=tuple(notes),
    )


__all__ = [
    "DEFAULT_BY",
    "DEFAULT_METHOD",
    "DEFAULT_NBOOT",
    "DEFAULT_SEED",
    "EffectRow",
    "SideEstimate",
    "SimulatorTruth",
    "TruthEffect",
    "load_simulator_truth",
    "read_truth",
    "truth_effect",
]
