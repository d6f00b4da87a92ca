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
from tiplab.linkage.cluster import Conflict, cluster_pairs
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

CLEAR_COLUMNS = (
    "given",
    "family",
    "given_ph",
    "family_ph",
    "dob",
    "dob_swap",
    "dob_ym",
    "dob_year",
    "sex",
    "citizenship",
    "phone8",
    "doc",
    "place",
    "region",
    "by_lo",
    "by_hi",
    "reg_day",
)


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
    n = table.num_rows
    table = table.append_column("unique_id", pa.array(np.arange(start_uid, start_uid + n)))
    rec_cols = ["unique_id", "source", "record_id"] + [
        c for c in table.column_names if c.startswith("attr_")
    ]
    records = table.select(rec_cols)
    cmp_cols = ["unique_id"] + [
        c for c in table.column_names if c not in rec_cols and c != "record_id"
    ]
    compare = table.select(cmp_cols)
    return records, compare, "encoded" if encoded else "clear", meta


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


def finish(
    records: pa.Table,
    pairs: pa.Table,
    threshold: float,
    decisions: pa.Table | None = None,
    previous: pa.Array | None = None,
) -> tuple[pa.Table, pa.Table, list[Conflict], list[dict[str, object]]]:
    """Cluster, assign person ids, build the clusters and person tables."""
    fm, fn = resolve_decisions(decisions, records)
    labels, conflicts = cluster_pairs(
        records.num_rows,
        pairs.column("unique_id_l").to_numpy(),
        pairs.column("unique_id_r").to_numpy(),
        pairs.column("match_probability").to_numpy(),
        threshold,
        forced_match=fm,
        forced_nonmatch=fn,
    )
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
        timings["predict"] = time.perf_counter() - t2
        model = linker.misc.save_model_to_json()
    finally:
        engine.close()
    t3 = time.perf_counter()
    pairs = with_pair_keys(pairs, records)
    choice = choose_threshold(
        pairs.column("match_probability").to_numpy(),
        settings.threshold_grid,
        settings.threshold,
        edges=(
            records.num_rows,
            pairs.column("unique_id_l").to_numpy(),
            pairs.column("unique_id_r").to_numpy(),
        ),
    )
    clusters, persons, conflicts, merges = finish(records, pairs, choice.threshold, decisions)
    timings["cluster"] = time.perf_counter() - t3
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
