"""``link``: standardise the inputs, train a Splink model, score pairs, cluster into persons.

The same function runs clear-text inputs and privacy-preserving encodings (all inputs of a
run must be one or the other), on DuckDB or Spark.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.linkage import model as mdl
from tiplab.linkage.cluster import (
    MAX_COMPONENT,
    Conflict,
    Hierarchy,
    _capped_components,
    _merge_decisions,
)
from tiplab.linkage.encode import BF_FIELDS, FORMAT, HASH_FIELDS
from tiplab.linkage.engine import Engine
from tiplab.linkage.errors import EncodingError, LinkageError
from tiplab.linkage.io import encoding_metadata
from tiplab.linkage.persons import assign_person_ids, person_table
from tiplab.linkage.result import LinkResult
from tiplab.linkage.roles import LinkInput
from tiplab.linkage.settings import LinkSettings
from tiplab.linkage.standardise import standardise
from tiplab.linkage.threshold import choose_threshold

log = logging.getLogger("tiplab.linkage")


def _encoded_standardise(inp: LinkInput) -> tuple[pa.Table, dict[str, Any]]:
    table = inp.arrow()
    meta = encoding_metadata(table) or {}
    if meta and meta.get("format") != FORMAT:
        raise EncodingError(
            f"input '{inp.source}': unknown encoding format "
            f"{meta.get('format')!r}; re-encode with this tiplab version"
        )
    names = set(table.column_names)
    if inp.record_id not in names:
        raise EncodingError(
            f"input '{inp.source}': encoded file lacks the record id column "
            f"'{inp.record_id}'; it has {sorted(names)}"
        )
    con = duckdb.connect()
    try:
        con.register("t", table)
        sel = [f"CAST({inp.record_id} AS VARCHAR) AS record_id"]
        for f in BF_FIELDS:
            col = f"{f}_bf"
            if col in names:
                expr = (
                    col
                    if not pa.types.is_string(table.schema.field(col).type)
                    else (f"from_base64({col})")
                )
                sel.append(f"{expr} AS {col}")
                sel.append(f"bit_count(CAST({expr} AS BIT))::INTEGER AS {f}_pc")
            else:
                sel += [f"NULL::BLOB AS {col}", f"NULL::INTEGER AS {f}_pc"]
        for f in HASH_FIELDS:
            sel.append(f"CAST({f} AS VARCHAR) AS {f}" if f in names else f"NULL::VARCHAR AS {f}")
        for a, c in inp.attributes.items():
            sel.append(f"{c} AS attr_{a}")
        for c in table.column_names:
            if c.startswith("attr_") and c[5:] not in inp.attributes:
                sel.append(c)
        out = con.sql(f"SELECT {', '.join(sel)} FROM t").to_arrow_table()
    finally:
        con.close()
    return out, meta


def prepare(
    inputs: list[LinkInput],
    start_uid: int = 0,
) -> tuple[pa.Table, pa.Table, str, dict[str, Any]]:
    """(records, comparison table, mode, encoding metadata) for a list of inputs.

    ``records``: unique_id, source, record_id, attr_*; the comparison table: unique_id and
    the standardised (or encoded) identifier columns.
    """
    if not inputs:
        raise LinkageError("no inputs to link; give at least one file or table")
    kinds = {inp.encoded or encoding_metadata(inp.arrow()) is not None for inp in inputs}
    if len(kinds) > 1:
        raise LinkageError(
            "some inputs are encoded and some are clear text; a run links "
            "either clear text or encodings. Encode every input with "
            "`tiplab encode` under the same key"
        )
    encoded = kinds.pop()
    seen = set()
    parts = []
    meta: dict[str, Any] = {}
    for inp in inputs:
        if inp.source in seen:
            raise LinkageError(
                f"two inputs are named '{inp.source}'; source names must be "
                "unique (rename a file or set the name in ROLES.yaml)"
            )
        seen.add(inp.source)
        if encoded:
            std, m = _encoded_standardise(inp)
            if m:
                if meta and (
                    m.get("key_fingerprint") != meta.get("key_fingerprint")
                    or m.get("settings") != meta.get("settings")
                ):
                    raise EncodingError(
                        f"input '{inp.source}' was encoded with a different key or settings "
                        f"(key fingerprint {m.get('key_fingerprint')} vs "
                        f"{meta.get('key_fingerprint')}); all agencies of a round must use "
                        "the same key file and settings"
                    )
                meta = meta or m
        else:
            std = standardise(inp)
        std = std.append_column("source", pa.array([inp.source] * std.num_rows, pa.string()))
        parts.append(std)
    table = pa.concat_tables(parts, promote_options="default")
    if not encoded:
        table = table.append_column("name_key", name_key(table))
        table = with_block_windows(table)
        (table,) = with_set_bits("means", table)
    n = table.num_rows
    table = table.append_column("unique_id", pa.array(np.arange(start_uid, start_uid + n)))
    rec_cols = ["unique_id", "source", "record_id"] + [
        c for c in table.column_names if c.startswith("attr_")
    ]
    records = table.select(rec_cols)
    cmp_cols = ["unique_id"] + [
        c for c in table.column_names if c not in rec_cols and c != "record_id"
    ]
    # the agency takes part in the model when there are several (same agency = a
    # re-registration, rare for a person; see model.agency_comparison) and in the cluster
    # constraints
    compare = table.select(cmp_cols).append_column("agency", table.column("source"))
    return records, compare, "encoded" if encoded else "clear", meta


def with_block_windows(table: pa.Table) -> pa.Table:
    """Add ``reg_w180a``/``reg_w180b``: the 180-day window number of the registration date on
    two grids offset by 90 days (equality keys for the blocking rules' time window; see
    :func:`tiplab.linkage.model.blocking_rules`). Null where the date is."""
    if "reg_day" not in table.column_names:
        return table
    day = pc.cast(table.column("reg_day").combine_chunks(), pa.int64())
    for g, shift in (("a", 0), ("b", 90)):
        num = pc.floor(pc.divide(pc.cast(pc.add(day, shift), pa.float64()), 180.0))
        table = table.append_column(f"reg_w180{g}", pc.cast(num, pa.int64()))
    return table


def with_set_bits(column: str, *tables: pa.Table, max_codes: int = 62) -> list[pa.Table]:
    """Each table with ``<column>_bits``: the ``|``-joined set of codes as a bit mask, so a
    set comparison is two bit counts per pair instead of splitting and intersecting strings
    (at 200,000 victims the string form cost a second of scoring). One code -> bit
    assignment serves all ``tables`` (an incremental run's stored and new records must
    share it); a ``_bits`` column already there is replaced. Tables are returned unchanged
    when one lacks ``column`` or there are more than ``max_codes`` codes."""
    bits_col = f"{column}_bits"
    if not tables or any(column not in t.column_names for t in tables):
        return list(tables)
    arrays = [t.column(column).combine_chunks() for t in tables]
    uniq = pc.unique(pa.concat_arrays(arrays)).drop_null()
    codes = sorted({c for v in uniq.to_pylist() for c in v.split("|")})
    if not codes or len(codes) > max_codes:
        return list(tables)
    bit = {c: 1 << i for i, c in enumerate(codes)}
    masks = pa.array([sum(bit[c] for c in set(v.split("|"))) for v in uniq.to_pylist()],
                     pa.int64())
    out = []
    for t, arr in zip(tables, arrays, strict=True):
        if bits_col in t.column_names:
            t = t.drop_columns([bits_col])
        out.append(t.append_column(bits_col, pc.take(masks, pc.index_in(arr, uniq))))
    return out


def name_key(table: pa.Table) -> pa.Array:
    """Given and family name as one value (term frequencies of full names); null if partial."""
    return pc.binary_join_element_wise(
        table.column("given"), table.column("family"), "|", null_handling="emit_null"
    )


def present_columns(compare: pa.Table) -> set[str]:
    """Columns holding at least one non-null value (comparisons are built for these).

    ``by_lo`` (the birth year range) counts only when some record has it from an age alone
    (no birth year): otherwise it repeats the birth year and its comparison level would
    never be reached.
    """
    out = {
        c
        for c in compare.column_names
        if c != "unique_id" and compare.column(c).null_count < compare.num_rows
    }
    if "agency" in out and pc.count_distinct(compare.column("agency")).as_py() < 2:
        out.discard("agency")  # one agency: the comparison would have a single level
    if "by_lo" in out:
        from_age = pc.and_(
            pc.is_null(compare.column("dob_year")), pc.is_valid(compare.column("by_lo"))
        )
        if not pc.any(from_age).as_py():
            out -= {"by_lo", "by_hi"}
    return out


#: Smallest m probability a trained comparison level keeps. EM (and counting) can drive the m
#: of a level to 0 when no true match in the training blocks reached it, which would veto
#: every pair at that level (one mistyped birth date or a changed citizenship). A recording
#: error can always occur, so no level may be impossible for a match; 0.005 still lets a
#: disagreement weigh up to about -7.5 bits.
M_FLOOR = 0.005


def floor_m(model: dict[str, Any], floor: float = M_FLOOR) -> dict[str, Any]:
    """The model with every trained (not fixed) m probability raised to ``floor`` (or to the
    level's u when that is smaller), each comparison's m values renormalised to sum to 1
    over the levels that have one."""
    out: dict[str, Any] = json.loads(json.dumps(model))
    for comp in out.get("comparisons", []):
        levels = [
            lv
            for lv in comp["comparison_levels"]
            if not lv.get("is_null_level") and isinstance(lv.get("m_probability"), (int, float))
        ]
        if not levels or any(lv.get("fix_m_probability") for lv in levels):
            continue
        # the floor never exceeds the level's u, so it cannot turn a disagreement into
        # evidence for a match
        raised = [
            max(float(lv["m_probability"]), min(floor, float(lv.get("u_probability") or floor)))
            for lv in levels
        ]
        total = sum(raised)
        for lv, m in zip(levels, raised, strict=True):
            lv["m_probability"] = m / total
    return out


def train(
    linker: Any, present: set[str], settings: LinkSettings, n_records: int, sdf: Any = None
) -> Any:
    """Unsupervised training: prior from exact rules, u by random sampling, m by EM.

    Returns the trained linker (a new one when ``sdf`` is given: a failed EM session is
    rolled back to the model before it, and the trained m values are floored, see
    :data:`M_FLOOR`). The first EM session (same birth date) estimates the prior of its
    block freely; later sessions keep the prior fixed: on blocks of common names the
    non-matches outnumber the matches and a free prior drifts until EM calls every pair a
    match (m of "exact birth date" then fell to 0.1).
    """
    from splink import Linker

    det, em = mdl.training_rules(present)
    if det:
        linker.training.estimate_probability_two_random_records_match(
            det, recall=settings.recall_of_deterministic_rules
        )
    # Never sample more pairs than exist; when all of them fit, one chunk (no probe pass):
    # on Spark every chunk is several jobs, and ten chunks of a few thousand records took
    # minutes for nothing.
    all_pairs = n_records * (n_records - 1) / 2
    max_pairs = min(settings.u_max_pairs, max(all_pairs, 1.0))
    linker.training.estimate_u_using_random_sampling(
        max_pairs=max_pairs,
        seed=settings.seed,
        num_chunks=1 if all_pairs <= settings.u_max_pairs or settings.engine == "spark" else 10,
    )
    if not em:
        raise LinkageError(
            "cannot train: the inputs need a birth date or both name parts "
            "(or a phone) for expectation-maximisation; map more roles"
        )
    done: list[str] = []
    failures: list[str] = []
    for rule in em:
        if len(done) == 2:
            break
        snapshot = linker.misc.save_model_to_json() if sdf is not None else None
        try:
            kw: dict[str, Any] = {"max_pairs": settings.em_max_pairs} if n_records > 100_000 else {}
            # EM on the counts of each agreement pattern, not on every pair: the term
            # frequencies act at prediction, where they belong (they adjust u, which EM does
            # not estimate). Iterating over the pairs themselves made training 24.6 s instead
            # of 9.7 s at 200k victims (seed 60192), for the same model: F1, B-cubed and the
            # estimated precision equal to four digits on seeds 60192 and 34192.
            kw["estimate_without_term_frequencies"] = True
            if done:
                kw["fix_probability_two_random_records_match"] = True
            linker.training.estimate_parameters_using_expectation_maximisation(rule, **kw)
            done.append(rule)
        except Exception as e:  # Splink raises plain exceptions (empty block, underflow)
            log.warning(
                "EM training on blocking rule '%s' failed (%s); trying the next rule", rule, e
            )
            failures.append(f"{rule}: {e}")
            if snapshot is not None:  # a failed session can leave a half-updated model
                linker = Linker(sdf, snapshot)
    if not done:
        raise LinkageError(
            "EM training failed on every blocking rule: "
            + "; ".join(failures)
            + ". Too few records share these values; link more data or map "
            "more roles"
        )
    if sdf is not None:
        linker = Linker(sdf, floor_m(linker.misc.save_model_to_json()))
    return linker


PAIR_ID_COLUMNS = ("unique_id_l", "unique_id_r", "match_probability", "match_weight")


def score(engine: Engine, linker: Any, sdf_or_none: Any = None, threshold: float = 0.0) -> pa.Table:
    """Predict every blocked pair; keep ids, probability, weight and comparison levels."""
    df = linker.inference.predict(threshold_match_probability=threshold or None)
    return select_pair_columns(engine.to_arrow(df))


def select_pair_columns(t: pa.Table) -> pa.Table:
    # per-comparison levels: Splink 5 gives the match weight of the level each comparison
    # reached (mw_<comparison>; one distinct value per level) and gamma_ when retained
    gammas = [c for c in t.column_names if c.startswith(("gamma_", "mw_"))]
    out = t.select([*PAIR_ID_COLUMNS, *gammas])
    return out.set_column(0, "unique_id_l", pc.cast(out.column(0), pa.int64())).set_column(
        1, "unique_id_r", pc.cast(out.column(1), pa.int64())
    )


def with_pair_keys(pairs: pa.Table, records: pa.Table) -> pa.Table:
    """Add source/record_id of both sides (records.unique_id must be 0..n-1 in order)."""
    src = records.column("source").combine_chunks()
    rid = records.column("record_id").combine_chunks()
    ul = pairs.column("unique_id_l").combine_chunks()
    ur = pairs.column("unique_id_r").combine_chunks()
    keys = pa.table(
        {
            "source_l": src.take(ul),
            "record_id_l": rid.take(ul),
            "source_r": src.take(ur),
            "record_id_r": rid.take(ur),
        }
    )
    cols = {c: pairs.column(c) for c in pairs.column_names}
    ordered = {
        "unique_id_l": cols.pop("unique_id_l"),
        "unique_id_r": cols.pop("unique_id_r"),
        **{c: keys.column(c) for c in keys.column_names},
        **cols,
    }
    return pa.table(ordered)


def resolve_decisions(
    decisions: pa.Table | None,
    records: pa.Table,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Map decision rows to unique ids: (forced matches, forced non-matches).

    The latest decision per pair wins; decisions about records not in this run are ignored.
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if decisions is None or decisions.num_rows == 0:
        return empty, empty
    need = {"source_l", "record_id_l", "source_r", "record_id_r", "decision"}
    missing = need - set(decisions.column_names)
    if missing:
        raise LinkageError(
            f"decisions table lacks column(s) {sorted(missing)}; expected "
            "source_l, record_id_l, source_r, record_id_r, decision, "
            "decided_by, decided_at"
        )
    bad = set(decisions.column("decision").to_pylist()) - {"match", "non-match"}
    if bad:
        raise LinkageError(
            f"decisions table: unknown decision value(s) {sorted(map(str, bad))}; "
            "use 'match' or 'non-match'"
        )
    con = duckdb.connect()
    try:
        con.register("d", decisions)
        con.register("r", records.select(["unique_id", "source", "record_id"]))
        order = "decided_at" if "decided_at" in decisions.column_names else "0"
        rows = con.sql(f"""
            WITH d2 AS (
              SELECT a.unique_id AS ul, b.unique_id AS ur, decision,
                     CAST({order} AS VARCHAR) AS dat, row_number() OVER () AS rn
              FROM d
              JOIN r a ON a.source = CAST(d.source_l AS VARCHAR)
                      AND a.record_id = CAST(d.record_id_l AS VARCHAR)
              JOIN r b ON b.source = CAST(d.source_r AS VARCHAR)
                      AND b.record_id = CAST(d.record_id_r AS VARCHAR)
            )
            SELECT least(ul, ur) AS a, greatest(ul, ur) AS b,
                   arg_max(decision, coalesce(dat, '')
                           || lpad(CAST(rn AS VARCHAR), 12, '0')) AS decision
            FROM d2 GROUP BY 1, 2
        """).to_arrow_table()
    finally:
        con.close()
    a = rows.column("a").to_numpy().astype(np.int64)
    b = rows.column("b").to_numpy().astype(np.int64)
    is_match = np.asarray(rows.column("decision").to_pylist()) == "match"
    if len(is_match) == 0:
        return empty, empty
    return (a[is_match], b[is_match]), (a[~is_match], b[~is_match])


def cannot_link(pairs: pa.Table) -> np.ndarray:
    """The pairs a constraint forbids to end in one cluster (``constraint`` not null)."""
    if "constraint" not in pairs.column_names:
        return np.zeros(pairs.num_rows, bool)
    return np.asarray(pc.is_valid(pairs.column("constraint")).to_numpy(zero_copy_only=False))


def hierarchy(
    records: pa.Table,
    pairs: pa.Table,
    base: float,
    decisions: pa.Table | None = None,
    settings: LinkSettings | None = None,
) -> Hierarchy:
    """The average-linkage hierarchy of the scored pairs at threshold ``base`` and above."""
    fm, fn = resolve_decisions(decisions, records)
    return Hierarchy(
        records.num_rows,
        pairs.column("unique_id_l").to_numpy(),
        pairs.column("unique_id_r").to_numpy(),
        pairs.column("match_probability").to_numpy(),
        base,
        cannot=cannot_link(pairs),
        forced_match=fm,
        forced_nonmatch=fn,
        method="single" if settings is not None and settings.clustering == "components"
        else "average",
    )


def finish(
    records: pa.Table,
    pairs: pa.Table,
    threshold: float,
    decisions: pa.Table | None = None,
    previous: pa.Array | None = None,
    tree: Hierarchy | None = None,
    settings: LinkSettings | None = None,
) -> tuple[pa.Table, pa.Table, list[Conflict], list[dict[str, object]]]:
    """Cluster (see :mod:`.cluster`), assign person ids, build the clusters and person
    tables. ``tree``: a hierarchy already built at or below ``threshold`` with the same
    decisions."""
    if tree is None:
        tree = hierarchy(records, pairs, threshold, decisions, settings)
    labels = tree.cut(threshold)
    conflicts = tree.conflicts(labels)
    pid, merges = assign_person_ids(records, labels, previous)
    clusters = pa.table(
        {
            "source": records.column("source"),
            "record_id": records.column("record_id"),
            "person_id": pid,
        }
    )
    persons = person_table(records, pid)
    return clusters, persons, conflicts, merges


# -- constraints and completed components ---------------------------------------------------
CONSTRAINT_DOCUMENT = "same agency, different document numbers"
CONSTRAINT_BIRTH_DATE = "same agency, incompatible birth dates"


def constraints(left: np.ndarray, right: np.ndarray, compare: pa.Table, mode: str) -> pa.Array:
    """For each pair, why its two records cannot be one person (null when they can).

    Two records of the **same agency** are not one person when both carry a document number
    and the numbers differ (clear text: by more than one character, a typing slip), or both
    carry a full birth date and the dates differ by more than a day/month swap or one digit.
    Across agencies a person's records may carry different documents (a passport at the
    border, a national ID at the police), so no constraint applies there. The clustering
    lets a pair whose own probability reaches ``cluster.CONSTRAINT_OVERRIDE`` stay linkable.
    """
    names = set(compare.column_names)
    if "agency" not in names or len(left) == 0:
        return pa.nulls(len(left), pa.string())
    cols = {}
    for c in ("agency", "doc", "dob", "dob_swap"):
        if c in names:
            arr = compare.column(c).combine_chunks()
            cols[f"{c}_l"] = arr.take(pa.array(left))
            cols[f"{c}_r"] = arr.take(pa.array(right))
    t = pa.table(cols)
    near = "levenshtein({a}_l, {a}_r) <= 1" if mode == "clear" else "false"
    doc = (
        f"(doc_l IS NOT NULL AND doc_r IS NOT NULL AND doc_l <> doc_r "
        f"AND NOT ({near.format(a='doc')}))"
        if "doc_l" in cols
        else "false"
    )
    dob = (
        "(dob_l IS NOT NULL AND dob_r IS NOT NULL AND dob_l <> dob_r "
        "AND coalesce(dob_swap_l <> dob_r, true) "
        f"AND NOT ({near.format(a='dob')}))"
        if "dob_l" in cols and "dob_swap_l" in cols
        else "false"
    )
    con = duckdb.connect()
    try:
        con.register("t", t)
        out = con.sql(f"""
            SELECT CASE WHEN agency_l IS NULL OR agency_r IS NULL OR agency_l <> agency_r
                        THEN NULL
                        WHEN {doc} THEN '{CONSTRAINT_DOCUMENT}'
                        WHEN {dob} THEN '{CONSTRAINT_BIRTH_DATE}' END AS c
            FROM t
        """).to_arrow_table()
    finally:
        con.close()
    return out.column("c").combine_chunks().cast(pa.string())


def with_constraints(
    pairs: pa.Table, compare: pa.Table, mode: str, enabled: bool = True
) -> pa.Table:
    """``pairs`` with the ``constraint`` column (all null when ``enabled`` is false)."""
    c = (
        constraints(
            pairs.column("unique_id_l").to_numpy(),
            pairs.column("unique_id_r").to_numpy(),
            compare,
            mode,
        )
        if enabled
        else pa.nulls(pairs.num_rows, pa.string())
    )
    if "constraint" in pairs.column_names:
        return pairs.set_column(pairs.column_names.index("constraint"), "constraint", c)
    return pairs.append_column("constraint", c)


def complete_pairs(
    engine: Engine, model: dict[str, Any], compare: pa.Table, labels: np.ndarray,
    scored: np.ndarray,
) -> pa.Table:
    """Score every pair of records inside each component of ``labels`` (≥ 3 records; -1 =
    leave out) that is not already in ``scored`` (keys ``min*n + max``), with the trained
    ``model``: the blocking rule becomes "same component". The term frequencies are those of
    the whole ``compare`` table, as in the main scoring."""
    from splink import Linker

    n = compare.num_rows
    cid = np.asarray(labels, dtype=np.int64)
    # a record left out gets a component of its own (a distinct negative number) rather than
    # a null: Spark's pandas conversion turns a null into NaN, and NaN = NaN in Spark SQL
    cid = np.where(cid >= 0, cid, -np.arange(1, n + 1, dtype=np.int64))
    sdf = engine.register(compare.append_column("_cid", pa.array(cid)), "components")
    m = json.loads(json.dumps(model))
    m["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": "l._cid = r._cid", "sql_dialect": engine.kind}
    ]
    linker = Linker(sdf, m)
    out = select_pair_columns(engine.to_arrow(linker.inference.predict()))
    keys = np.minimum(out.column("unique_id_l").to_numpy(), out.column("unique_id_r").to_numpy()) \
        * np.int64(n) + np.maximum(out.column("unique_id_l").to_numpy(),
                                   out.column("unique_id_r").to_numpy())
    return out.filter(pa.array(~np.isin(keys, scored)))


def components_to_complete(
    records: pa.Table, pairs: pa.Table, compare: pa.Table, base: float,
    decisions: pa.Table | None, touching: np.ndarray | None = None,
) -> np.ndarray:
    """Component label per record at ``base`` (-1 for records in components of fewer than
    three, whose pairs are all scored already, or not ``touching`` the given records)."""
    fm, fn = resolve_decisions(decisions, records)
    n = records.num_rows
    p = _merge_decisions(
        n, pairs.column("unique_id_l").to_numpy().astype(np.int64),
        pairs.column("unique_id_r").to_numpy().astype(np.int64),
        pairs.column("match_probability").to_numpy().astype(np.float64),
        cannot_link(pairs), fm, fn,
    )
    labels = _capped_components(n, p, base, MAX_COMPONENT)
    sizes = np.bincount(labels) if n else np.zeros(0, np.int64)
    keep = sizes[labels] >= 3 if n else np.zeros(0, bool)
    if touching is not None:
        wanted = np.zeros(len(sizes), bool)
        wanted[labels[touching]] = True
        keep &= wanted[labels]
    return np.where(keep, labels, -1)


def pair_keys(pairs: pa.Table, n: int) -> np.ndarray:
    a = pairs.column("unique_id_l").to_numpy().astype(np.int64)
    b = pairs.column("unique_id_r").to_numpy().astype(np.int64)
    out: np.ndarray = np.minimum(a, b) * np.int64(n) + np.maximum(a, b)
    return out


def link(
    inputs: list[LinkInput], settings: LinkSettings | None = None, decisions: pa.Table | None = None
) -> LinkResult:
    """Link records of one or more sources into persons.

    Parameters
    ----------
    inputs
        One :class:`LinkInput` per agency export (all clear text, or all encoded).
    settings
        :class:`LinkSettings`; defaults link on DuckDB and choose the threshold that
        maximises the estimated pairwise F1.
    decisions
        Optional human review decisions (see :mod:`tiplab.linkage.review`).

    Notes
    -----
    The model is Fellegi-Sunter (Splink): comparison levels are assumed conditionally
    independent given match status; u is estimated by random sampling, m by EM over two
    blocking rules, the prior from exact rules with an assumed recall.
    """
    settings = settings or LinkSettings()
    empty = [i.source for i in inputs if i.table.num_rows == 0]
    if empty:
        raise LinkageError(f"no records to link in {', '.join(empty)}: the input has a header "
                           "but no rows")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    records, compare, mode, _meta = prepare(inputs)
    timings["prepare"] = time.perf_counter() - t0
    present = present_columns(compare)
    if not settings.agency_comparison:
        present.discard("agency")
    log.info("linking %d records (%s) from %d inputs", records.num_rows, mode, len(inputs))
    engine = Engine(settings)
    try:
        from splink import Linker

        t1 = time.perf_counter()
        sdf = engine.register(compare, "records")
        sd = mdl.settings_dict(present, mode, engine.kind)  # type: ignore[arg-type]
        linker = Linker(sdf, sd)
        linker = train(linker, present, settings, records.num_rows, sdf)
        timings["train"] = time.perf_counter() - t1
        t2 = time.perf_counter()
        pairs = score(engine, linker, threshold=settings.min_pair_probability)
        model = linker.misc.save_model_to_json()
        timings["predict"] = time.perf_counter() - t2
        # complete the components: score the pairs inside each component that no blocking
        # rule produced, so the clustering sees every pair of a would-be person
        t3 = time.perf_counter()
        pairs = with_constraints(pairs, compare, mode, settings.constraints)
        base = min([*settings.threshold_grid, *([settings.threshold] if settings.threshold
                                                 else [])])
        cid = components_to_complete(records, pairs, compare, base, decisions)
        if (cid >= 0).any():
            extra = complete_pairs(engine, model, compare, cid,
                                   pair_keys(pairs, records.num_rows))
            if extra.num_rows:
                extra = with_constraints(extra, compare, mode, settings.constraints)
                pairs = pa.concat_tables([pairs, extra.cast(pairs.schema)])
            log.info("completed components: %d more pairs scored", extra.num_rows)
        timings["complete"] = time.perf_counter() - t3
    finally:
        engine.close()
    t4 = time.perf_counter()
    pairs = with_pair_keys(pairs, records)
    tree = hierarchy(records, pairs, base, decisions, settings)
    choice = choose_threshold(
        pairs.column("match_probability").to_numpy(),
        settings.threshold_grid,
        settings.threshold,
        tree=tree,
    )
    clusters, persons, conflicts, merges = finish(
        records, pairs, choice.threshold, decisions, tree=tree
    )
    timings["cluster"] = time.perf_counter() - t4
    timings["total"] = time.perf_counter() - t0
    return LinkResult(
        records=records,
        pairs=pairs,
        clusters=clusters,
        persons=persons,
        threshold=choice,
        model=json.loads(json.dumps(model)),
        settings=settings,
        mode=mode,
        timings=timings,
        conflicts=conflicts,
        merges=merges,
        standardised=compare,
        decisions=decisions,
    )
