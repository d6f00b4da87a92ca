"""Quality from a labelled sample: a stratified sample of pairs, labelled by reviewers, gives
pairwise precision and recall **with intervals**, without trusting the model.

The model's own estimate (:mod:`.threshold`) assumes calibrated probabilities; statistical
offices check a linkage against pairs a person has looked at. This module draws those pairs
and turns the labels into estimates.

**Frame.** Every pair of records the linkage puts in one person (all pairs inside each
predicted cluster, scored or not — exactly the pairs :func:`~tiplab.linkage.evaluate_clusters`
counts for pairwise precision), plus every *scored* pair it leaves apart (the stored pairs,
``match_probability >= min_pair_probability``).

**Strata.** Linked pairs by match probability (≥ 0.99, 0.95–0.99, 0.8–0.95, below 0.8, never
scored) and pairs left apart (≥ 0.5, 0.2–0.5, 0.05–0.2, below 0.05): the errors live in
different places (false merges among the linked, missed matches among the high scores left
apart), and a simple random sample would spend nearly every label on the certain pairs.

**Allocation** (Neyman): stratum h with N_h pairs gets a share of the sample proportional to
N_h·sqrt(p_h(1−p_h)), where p_h is the model's mean probability in the stratum clipped to
[0.05, 0.95] (0.5 for pairs never scored) — the model's guess of the match rate only decides
where labels go, never the estimate — and at least ``min_per_stratum`` (or the whole stratum
when smaller).

**Estimator.** With n_h labelled pairs in stratum h of which x_h are matches ("can't tell"
labels are left out and counted):

* precision = Σ_linked N_h θ_h / Σ_linked N_h
* recall (within the frame) = Σ_linked N_h θ_h / Σ_all N_h θ_h

with θ_h the share of matches in stratum h, estimated by x_h / n_h. The interval: 20,000
draws of every θ_h from the Beta distributions whose quantiles are the Clopper–Pearson limits
— Beta(x_h + 1, n_h − x_h) for the upper side, Beta(x_h, n_h − x_h + 1) for the lower — and
the percentiles of each ratio, each side drawn in the direction that moves it (recall rises
with the linked strata and falls with the ones left apart). Jeffreys draws (Beta(x + ½,
n − x + ½)) covered the true precision only 87 times in 100 in the coverage test: with 60
labels from a stratum of 99.8% matches, one non-match pulls its share to 98% and the
symmetric posterior cannot reach back. A stratum with no labels yet ranges over [0, 1] and
the estimate is marked *provisional*.

**Assumptions.** Labels are right (two reviewers on the doubtful ones help); recall counts only
matches some blocking rule scored at ≥ 0.01 — a true match no rule found is outside the frame,
so recall is an upper bound; the sample is drawn once, before labelling, and every drawn pair
is labelled or marked "can't tell" (leaving the hard pairs unlabelled would bias the estimate
upwards).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.linkage.errors import LinkageError

#: (name, linked, low, high): probability bands; ``None`` bounds = never scored.
STRATA: tuple[tuple[str, bool, float | None, float | None], ...] = (
    ("linked, p ≥ 0.99", True, 0.99, 1.01),
    ("linked, 0.95 ≤ p < 0.99", True, 0.95, 0.99),
    ("linked, 0.8 ≤ p < 0.95", True, 0.8, 0.95),
    ("linked, p < 0.8", True, -0.01, 0.8),
    ("linked, never scored", True, None, None),
    ("apart, p ≥ 0.5", False, 0.5, 1.01),
    ("apart, 0.2 ≤ p < 0.5", False, 0.2, 0.5),
    ("apart, 0.05 ≤ p < 0.2", False, 0.05, 0.2),
    ("apart, p < 0.05", False, -0.01, 0.05),
)
LABELS = ("match", "non-match", "unsure")
ASSUMPTIONS = (
    "Labels are taken as right. Recall counts only matches that some blocking rule scored at "
    "0.01 or more: a true match no rule found is outside the frame, so recall is an upper "
    "bound. Every drawn pair must be labelled or marked can't tell: skipping the hard ones "
    "biases both estimates upwards."
)
SAMPLE_COLUMNS = (
    "sample_index",
    "stratum",
    "stratum_size",
    "linked",
    "source_l",
    "record_id_l",
    "source_r",
    "record_id_r",
    "match_probability",
    "label",
)


def _need(table: pa.Table, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in table.column_names]
    if missing:
        raise LinkageError(f"{what} lacks column(s) {missing}; it has {table.column_names}")


def sampling_frame(clusters: pa.Table, pairs: pa.Table) -> pa.Table:
    """Every linked pair and every scored pair left apart, with its stratum.

    ``clusters``: source, record_id, person_id (a record id repeated within a source is left
    out, with every pair naming it); ``pairs``: source_l, record_id_l, source_r, record_id_r,
    match_probability. Columns: source_l, record_id_l, source_r, record_id_r (ordered so that
    (source_l, record_id_l) < (source_r, record_id_r)), match_probability (null if never
    scored), linked, stratum.
    """
    _need(clusters, ("source", "record_id", "person_id"), "the clusters table")
    _need(
        pairs,
        ("source_l", "record_id_l", "source_r", "record_id_r", "match_probability"),
        "the pairs table",
    )
    case = ["CASE"]
    for name, linked, lo, hi in STRATA:
        if lo is None:
            cond = "linked AND match_probability IS NULL"
        else:
            cond = (
                f"{'' if linked else 'NOT '}linked AND match_probability >= {lo} "
                f"AND match_probability < {hi}"
            )
        case.append(f"WHEN {cond} THEN '{name}'")
    case.append("END")
    con = duckdb.connect()
    try:
        con.register("c_in", clusters.select(["source", "record_id", "person_id"]))
        con.register(
            "p_in",
            pairs.select(
                ["source_l", "record_id_l", "source_r", "record_id_r", "match_probability"]
            ),
        )
        # a record id used twice within a source (a defect of the export) names two records;
        # no reviewer could tell which one a pair means, so both stay out of the frame
        con.execute("""
            CREATE TEMP TABLE c AS
            SELECT CAST(source AS VARCHAR) AS s, CAST(record_id AS VARCHAR) AS r,
                   CAST(first(person_id) AS VARCHAR) AS pid
            FROM c_in GROUP BY 1, 2 HAVING count(*) = 1
        """)
        con.execute("""
            CREATE TEMP TABLE p AS
            SELECT CASE WHEN (sl, rl) < (sr, rr) THEN sl ELSE sr END AS sl2,
                   CASE WHEN (sl, rl) < (sr, rr) THEN rl ELSE rr END AS rl2,
                   CASE WHEN (sl, rl) < (sr, rr) THEN sr ELSE sl END AS sr2,
                   CASE WHEN (sl, rl) < (sr, rr) THEN rr ELSE rl END AS rr2,
                   max(prob) AS prob
            FROM (SELECT CAST(source_l AS VARCHAR) sl, CAST(record_id_l AS VARCHAR) rl,
                         CAST(source_r AS VARCHAR) sr, CAST(record_id_r AS VARCHAR) rr,
                         CAST(match_probability AS DOUBLE) prob FROM p_in)
            GROUP BY 1, 2, 3, 4
        """)
        frame = con.sql(f"""
            WITH linked AS (
                SELECT a.s AS sl, a.r AS rl, b.s AS sr, b.r AS rr
                FROM c a JOIN c b ON a.pid = b.pid AND (a.s, a.r) < (b.s, b.r)
            ), everything AS (
                SELECT coalesce(l.sl, p.sl2) AS source_l, coalesce(l.rl, p.rl2) AS record_id_l,
                       coalesce(l.sr, p.sr2) AS source_r, coalesce(l.rr, p.rr2) AS record_id_r,
                       p.prob AS match_probability, l.sl IS NOT NULL AS linked
                FROM linked l FULL OUTER JOIN p
                  ON l.sl = p.sl2 AND l.rl = p.rl2 AND l.sr = p.sr2 AND l.rr = p.rr2
            )
            SELECT *, {" ".join(case)} AS stratum FROM everything
            WHERE (source_l, record_id_l) IN (SELECT (s, r) FROM c)
              AND (source_r, record_id_r) IN (SELECT (s, r) FROM c)
            ORDER BY stratum, source_l, record_id_l, source_r, record_id_r
        """).to_arrow_table()
    finally:
        con.close()
    return frame


@dataclass(frozen=True)
class Stratum:
    """One stratum of the frame: its size, the model's mean probability, the sample drawn."""

    name: str
    linked: bool
    size: int
    model_mean: float | None
    sampled: int


@dataclass
class QualitySample:
    """A drawn sample: one row per pair (:data:`SAMPLE_COLUMNS`, ``label`` empty until
    reviewers fill it) and the strata it was drawn from."""

    pairs: pa.Table
    strata: list[Stratum]
    seed: int
    size: int

    def write(self, path: str | Path) -> Path:
        """A CSV with the pairs (each row carries its stratum's size, so the file alone
        gives the estimate) and ``<path>.json`` with the strata and the seed."""
        import pyarrow.csv as pacsv

        p = Path(path)
        pacsv.write_csv(self.pairs, p)
        p.with_suffix(p.suffix + ".json").write_text(
            json.dumps(
                {"seed": self.seed, "size": self.size, "strata": [asdict(s) for s in self.strata]},
                indent=2,
            ),
            encoding="utf-8",
        )
        return p


def draw_sample(
    frame: pa.Table, size: int = 200, seed: int = 1, min_per_stratum: int = 10
) -> QualitySample:
    """A stratified random sample of about ``size`` pairs of ``frame`` (see the module
    docstring for the allocation). The same frame and seed give the same sample."""
    if size < 1:
        raise LinkageError(f"sample size must be at least 1, got {size}")
    if min_per_stratum < 1:
        raise LinkageError(f"min_per_stratum must be at least 1, got {min_per_stratum}")
    _need(frame, ("stratum", "linked", "match_probability"), "the sampling frame")
    names = np.asarray(frame.column("stratum").to_pylist(), dtype=object)
    prob = frame.column("match_probability").to_numpy(zero_copy_only=False)
    prob = np.asarray(prob, dtype=np.float64)
    rng = np.random.default_rng(seed)
    sizes, means, weights = [], [], []
    for name, _linked, lo, _hi in STRATA:
        idx = np.flatnonzero(names == name)
        sizes.append(len(idx))
        m = float(np.nanmean(prob[idx])) if len(idx) and lo is not None else None
        means.append(m)
        guess = 0.5 if m is None else min(max(m, 0.05), 0.95)
        weights.append(len(idx) * np.sqrt(guess * (1 - guess)))
    total_w = float(sum(weights)) or 1.0
    alloc = [
        min(n, max(min_per_stratum, round(size * w / total_w))) if n else 0
        for n, w in zip(sizes, weights, strict=True)
    ]
    chosen: list[np.ndarray] = []
    strata: list[Stratum] = []
    for (name, linked, _lo, _hi), n_h, m, k in zip(STRATA, sizes, means, alloc, strict=True):
        idx = np.flatnonzero(names == name)
        pick = np.sort(rng.choice(idx, size=k, replace=False)) if k else idx[:0]
        chosen.append(pick)
        strata.append(Stratum(name, linked, int(n_h), m, int(k)))
    take = np.concatenate(chosen) if chosen else np.zeros(0, np.int64)
    rows = frame.take(pa.array(take, pa.int64()))
    size_of = {s.name: s.size for s in strata}
    out = pa.table(
        {
            "sample_index": pa.array(np.arange(rows.num_rows), pa.int64()),
            "stratum": rows.column("stratum"),
            "stratum_size": pa.array(
                [size_of[s] for s in rows.column("stratum").to_pylist()], pa.int64()
            ),
            "linked": rows.column("linked"),
            "source_l": rows.column("source_l"),
            "record_id_l": rows.column("record_id_l"),
            "source_r": rows.column("source_r"),
            "record_id_r": rows.column("record_id_r"),
            "match_probability": rows.column("match_probability"),
            "label": pa.nulls(rows.num_rows, pa.string()),
        }
    )
    return QualitySample(out, strata, seed, size)


def read_sample(path: str | Path) -> pa.Table:
    """A labelled sample file written by :meth:`QualitySample.write` (labels filled in)."""
    import pyarrow.csv as pacsv

    p = Path(path)
    if not p.exists():
        raise LinkageError(f"{p}: not found")
    t = pacsv.read_csv(
        p,
        convert_options=pacsv.ConvertOptions(
            column_types={
                "record_id_l": pa.string(),
                "record_id_r": pa.string(),
                "label": pa.string(),
                "stratum": pa.string(),
            },
            strings_can_be_null=True,
        ),
    )
    _need(t, ("stratum", "stratum_size", "linked", "label"), f"{p}")
    return t


@dataclass(frozen=True)
class StratumEstimate:
    name: str
    linked: bool
    size: int
    sampled: int
    labelled: int
    matches: int
    unsure: int
    share: float | None


@dataclass(frozen=True)
class LabelledQuality:
    """Precision and recall of a linkage from reviewers' labels, with intervals."""

    precision: float
    precision_low: float
    precision_high: float
    recall: float
    recall_low: float
    recall_high: float
    level: float
    sample_size: int
    labelled: int
    unsure: int
    provisional: bool
    strata: list[StratumEstimate] = field(default_factory=list)
    assumptions: str = ASSUMPTIONS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    def to_text(self) -> str:
        pct = f"{self.level:.0%}"
        head = (
            f"from {self.labelled} labelled pairs of {self.sample_size} ({self.unsure} can't "
            f"tell): precision {self.precision:.3f} ({pct} interval {self.precision_low:.3f}–"
            f"{self.precision_high:.3f}), recall {self.recall:.3f} ({self.recall_low:.3f}–"
            f"{self.recall_high:.3f})"
        )
        if self.provisional:
            head += "; provisional: some strata have no labels yet"
        lines = [head]
        for s in self.strata:
            share = "—" if s.share is None else f"{s.share:.3f}"
            lines.append(
                f"  {s.name:26s} {s.size:>10,} pairs  {s.labelled:>4} labelled  "
                f"{s.matches:>4} matches  share {share}"
            )
        return "\n".join(lines)


def estimate_quality(
    sample: pa.Table, level: float = 0.95, draws: int = 20_000, seed: int = 0
) -> LabelledQuality:
    """Precision and recall with intervals from a labelled ``sample`` (rows of
    :data:`SAMPLE_COLUMNS`; ``label`` match / non-match / unsure or empty)."""
    _need(sample, ("stratum", "stratum_size", "linked", "label"), "the labelled sample")
    if not 0 < level < 1:
        raise LinkageError(f"level must be between 0 and 1, got {level}")
    labels = [
        None if v in (None, "") else str(v).strip().lower()
        for v in sample.column("label").to_pylist()
    ]
    bad = sorted({v for v in labels if v is not None and v not in LABELS})
    if bad:
        rows = [i for i, v in enumerate(labels) if v in bad][:5]
        raise LinkageError(
            f"unknown label(s) {bad} in sample rows {rows}; use match, non-match or unsure"
        )
    names = sample.column("stratum").to_pylist()
    sizes = sample.column("stratum_size").to_pylist()
    linked_col = sample.column("linked").to_pylist()
    known = {s[0]: s[1] for s in STRATA}
    per: dict[str, dict[str, Any]] = {}
    for name, n_h, linked, lab in zip(names, sizes, linked_col, labels, strict=True):
        if name not in known:
            raise LinkageError(f"unknown stratum {name!r} in the sample")
        d = per.setdefault(
            name,
            {"size": int(n_h), "linked": bool(linked), "sampled": 0, "x": 0, "n": 0, "unsure": 0},
        )
        if d["size"] != int(n_h):
            raise LinkageError(f"stratum {name!r} has two different sizes in the sample")
        d["sampled"] += 1
        if lab == "match":
            d["x"] += 1
            d["n"] += 1
        elif lab == "non-match":
            d["n"] += 1
        elif lab == "unsure":
            d["unsure"] += 1
    rng = np.random.default_rng(seed)
    order = [s[0] for s in STRATA if s[0] in per]
    n_arr = np.array([per[s]["n"] for s in order], dtype=np.float64)
    x_arr = np.array([per[s]["x"] for s in order], dtype=np.float64)
    big_n = np.array([per[s]["size"] for s in order], dtype=np.float64)
    is_linked = np.array([per[s]["linked"] for s in order], dtype=bool)

    def beta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        # Beta(0, b) is the point mass at 0 and Beta(a, 0) at 1 (the Clopper-Pearson limits
        # of x = 0 and x = n)
        out = rng.beta(np.maximum(a, 1e-12), np.maximum(b, 1e-12), size=(draws, len(order)))
        return np.where(a <= 0, 0.0, np.where(b <= 0, 1.0, out))

    # Clopper-Pearson style draws: Beta(x+1, n-x) leans up, Beta(x, n-x+1) leans down; an
    # unlabelled stratum (n = 0) ranges over [0, 1]
    up = beta(x_arr + 1, n_arr - x_arr)
    down = beta(x_arr, n_arr - x_arr + 1)

    def ratios(linked_t: np.ndarray, apart_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        t = np.where(is_linked, linked_t, apart_t)
        found = (t * big_n * is_linked).sum(axis=-1)
        linked_total = (big_n * is_linked).sum()
        allm = (t * big_n).sum(axis=-1)
        prec = found / linked_total if linked_total else np.ones_like(found)
        rec = np.divide(found, allm, out=np.ones_like(found), where=allm > 0)
        return prec, rec

    share = np.where(n_arr > 0, x_arr / np.maximum(n_arr, 1), 0.5)
    p_pt, r_pt = ratios(share, share)
    a = (1 - level) / 2
    # precision rises with the linked strata's shares; recall rises with the linked and
    # falls with the apart ones
    p_low, r_low = ratios(down, up)
    p_high, r_high = ratios(up, down)
    strata = [
        StratumEstimate(
            s,
            per[s]["linked"],
            per[s]["size"],
            per[s]["sampled"],
            per[s]["n"],
            per[s]["x"],
            per[s]["unsure"],
            per[s]["x"] / per[s]["n"] if per[s]["n"] else None,
        )
        for s in order
    ]
    return LabelledQuality(
        precision=float(p_pt),
        precision_low=float(np.quantile(p_low, a)),
        precision_high=float(np.quantile(p_high, 1 - a)),
        recall=float(r_pt),
        recall_low=float(np.quantile(r_low, a)),
        recall_high=float(np.quantile(r_high, 1 - a)),
        level=level,
        sample_size=sample.num_rows,
        labelled=int(n_arr.sum()),
        unsure=sum(per[s]["unsure"] for s in order),
        provisional=bool((n_arr == 0).any()),
        strata=strata,
    )


def label_from_truth(sample: pa.Table, truth: pa.Table) -> pa.Table:
    """The sample with ``label`` filled from a truth table (source, record_id, true_id): the
    truth plays the reviewer (simulated data, tests, benchmarks)."""
    _need(truth, ("source", "record_id", "true_id"), "the truth table")
    key = pc.binary_join_element_wise(
        pc.cast(truth.column("source"), pa.string()),
        pc.cast(truth.column("record_id"), pa.string()),
        "\x1f",
    )
    tid = dict(
        zip(key.to_pylist(), (str(v) for v in truth.column("true_id").to_pylist()), strict=True)
    )
    out = []
    for sl, rl, sr, rr in zip(
        *(
            sample.column(c).to_pylist()
            for c in ("source_l", "record_id_l", "source_r", "record_id_r")
        ),
        strict=True,
    ):
        a, b = tid.get(f"{sl}\x1f{rl}"), tid.get(f"{sr}\x1f{rr}")
        out.append(None if a is None or b is None else ("match" if a == b else "non-match"))
    i = sample.column_names.index("label")
    return sample.set_column(i, "label", pa.array(out, pa.string()))
