"""Incremental linkage: link a new batch to existing persons without relinking everything.

The trained model is reused unchanged; only new x existing and new x new pairs are scored
(Splink's ``predict_between`` and ``predict_within`` with the model's blocking rules), the
old scored pairs are kept, and clusters are rebuilt from all pairs (cheap: a graph
connected-components pass). Existing person ids are kept; a cluster that joins two
earlier persons is reported in ``result.merges``.
"""

from __future__ import annotations

import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.linkage.engine import Engine
from tiplab.linkage.errors import LinkageError
from tiplab.linkage.link import (
    complete_pairs,
    components_to_complete,
    finish,
    pair_keys,
    prepare,
    select_pair_columns,
    with_constraints,
    with_pair_keys,
    with_set_bits,
)
from tiplab.linkage.persons import person_table
from tiplab.linkage.result import LinkResult
from tiplab.linkage.roles import LinkInput
from tiplab.linkage.settings import LinkSettings
from tiplab.linkage.threshold import ThresholdChoice


def _align(table: pa.Table, schema: pa.Schema) -> pa.Table:
    cols = []
    for f in schema:
        if f.name in table.column_names:
            cols.append(table.column(f.name).cast(f.type))
        else:
            cols.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(cols, schema=schema)


def link_incremental(
    previous: LinkResult, new_inputs: list[LinkInput], settings: LinkSettings | None = None
) -> LinkResult:
    """Add ``new_inputs`` to a previous result; return the updated result."""
    if previous.standardised is None:
        raise LinkageError(
            "the previous result carries no standardised records (it was "
            "loaded from files); incremental linkage needs the LinkResult "
            "returned by link() in this session, or relink everything"
        )
    settings = settings or previous.settings
    t0 = time.perf_counter()
    rec_new, cmp_new, mode, _ = prepare(new_inputs, start_uid=previous.n_records)
    if mode != previous.mode:
        raise LinkageError(
            f"the new batch is {mode} but the existing linkage is "
            f"{previous.mode}; encode (or not) the same way"
        )
    old_keys = set(
        zip(
            previous.records.column("source").to_pylist(),
            previous.records.column("record_id").to_pylist(),
            strict=True,
        )
    )
    dup = [
        f"{s}:{r}"
        for s, r in zip(
            rec_new.column("source").to_pylist(),
            rec_new.column("record_id").to_pylist(),
            strict=True,
        )
        if (s, r) in old_keys
    ]
    if dup:
        raise LinkageError(
            f"{len(dup)} record(s) of the new batch are already linked "
            f"(e.g. {dup[:3]}); send only new records"
        )
    # the means' bit masks: one code -> bit assignment over stored and new records
    old_std, cmp_new = with_set_bits("means", previous.standardised, cmp_new)
    cmp_new = _align(cmp_new, old_std.schema)
    engine = Engine(settings)
    try:
        from splink import Linker

        old_sdf = engine.register(old_std, "existing")
        new_sdf = engine.register(cmp_new, "new")
        linker = Linker(new_sdf, previous.model)
        if "name_key" in cmp_new.column_names:
            # term frequencies of full names over existing and new records together
            keys = pa.concat_arrays(
                [
                    old_std.column("name_key").combine_chunks(),
                    cmp_new.column("name_key").combine_chunks(),
                ]
            )
            counts = pc.value_counts(keys.drop_null())
            total = max(len(keys) - keys.null_count, 1)
            tf = pa.table(
                {
                    "name_key": counts.field("values"),
                    "tf_name_key": pc.divide(
                        pc.cast(counts.field("counts"), pa.float64()), float(total)
                    ),
                }
            )
            linker.table_management.register_term_frequency_lookup(
                engine.register(tf, "tf_name_key"), "name_key"
            )
        thr = settings.min_pair_probability or None
        between = linker.inference.predict_between(
            old_sdf, new_sdf, threshold_match_probability=thr
        )
        within = linker.inference.predict_within(new_sdf, threshold_match_probability=thr)
        new_pairs = pa.concat_tables(
            [
                select_pair_columns(engine.to_arrow(between)),
                select_pair_columns(engine.to_arrow(within)),
            ]
        )
        records = pa.concat_tables([previous.records, rec_new], promote_options="default")
        standardised = pa.concat_tables([old_std, cmp_new])
        checks = settings.constraints
        new_pairs = with_pair_keys(with_constraints(new_pairs, standardised, mode, checks), records)
        old_pairs = previous.pairs
        if "constraint" not in old_pairs.column_names:  # a run from before the constraints
            old_pairs = with_constraints(old_pairs, standardised, mode, checks)
        pairs = pa.concat_tables([old_pairs, new_pairs.cast(old_pairs.schema)])
        # complete the components the new records joined (the others are complete already)
        n = records.num_rows
        cid = components_to_complete(
            records, pairs, standardised, previous.threshold.threshold, previous.decisions,
            touching=np.arange(previous.n_records, n),
        )
        if (cid >= 0).any():
            extra = complete_pairs(engine, previous.model, standardised, cid, pair_keys(pairs, n))
            if extra.num_rows:
                extra = with_pair_keys(with_constraints(extra, standardised, mode, checks), records)
                pairs = pa.concat_tables([pairs, extra.cast(pairs.schema)])
    finally:
        engine.close()
    t1 = time.perf_counter()
    prev_pid = pa.concat_arrays(
        [
            previous.clusters.column("person_id").combine_chunks(),
            pa.nulls(rec_new.num_rows, pa.string()),
        ]
    )
    clusters, persons, conflicts, merges = finish(
        records, pairs, previous.threshold.threshold, previous.decisions, prev_pid,
        settings=settings,
    )
    timings = {
        "score_new": t1 - t0,
        "cluster": time.perf_counter() - t1,
        "total": time.perf_counter() - t0,
    }
    assert np.array_equal(records.column("unique_id").to_numpy(), np.arange(records.num_rows))
    return LinkResult(
        records=records,
        pairs=pairs,
        clusters=clusters,
        persons=persons,
        threshold=previous.threshold,
        model=previous.model,
        settings=settings,
        mode=mode,
        timings=timings,
        conflicts=conflicts,
        merges=merges,
        standardised=standardised,
        decisions=previous.decisions,
    )


def _keys(source: pa.ChunkedArray | pa.Array, record_id: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(
        pc.cast(source, pa.string()), pc.cast(record_id, pa.string()), "\x1f"
    )


def resume(
    inputs: list[LinkInput],
    clusters: pa.Table,
    pairs: pa.Table,
    model: dict[str, object],
    threshold: ThresholdChoice,
    settings: LinkSettings | None = None,
    decisions: pa.Table | None = None,
) -> LinkResult:
    """A previous result rebuilt in a later session, ready for :func:`link_incremental`.

    A finished run keeps no identifier: its files hold record ids, person ids and scored pairs
    (``clusters``: source, record_id, person_id; ``pairs``: source_l, record_id_l, source_r,
    record_id_r, match_probability, ...). With the clear ``inputs`` of the same records (read
    again, in memory only), its trained ``model`` and its ``threshold``, this restores the
    standardised records and renumbers the pairs, so new records can be scored against the
    old ones without re-training or re-scoring old pairs. The inputs must hold exactly the
    records the run linked (a missing or extra record raises :class:`LinkageError`).
    """
    settings = settings or LinkSettings()
    records, standardised, mode, _meta = prepare(inputs)
    rec_keys = _keys(records.column("source"), records.column("record_id"))
    old_keys = _keys(clusters.column("source"), clusters.column("record_id"))
    where = pc.index_in(old_keys, value_set=rec_keys)
    if where.null_count or records.num_rows != clusters.num_rows:
        missing = where.null_count
        extra = records.num_rows - (clusters.num_rows - missing)
        raise LinkageError(
            f"the records given are not those the previous run linked ({missing} of its "
            f"records missing, {extra} not in it); link everything again"
        )
    # person ids in the order of the restored records
    inverse = np.empty(records.num_rows, dtype=np.int64)
    inverse[where.to_numpy(zero_copy_only=False)] = np.arange(records.num_rows)
    person_ids = pc.cast(clusters.column("person_id").combine_chunks(), pa.string()).take(
        pa.array(inverse))
    uid = records.column("unique_id").combine_chunks()
    left = pc.index_in(_keys(pairs.column("source_l"), pairs.column("record_id_l")),
                       value_set=rec_keys)
    right = pc.index_in(_keys(pairs.column("source_r"), pairs.column("record_id_r")),
                        value_set=rec_keys)
    if left.null_count or right.null_count:
        raise LinkageError("the previous run's pairs name records it did not link; its files "
                           "are inconsistent: link everything again")
    rest = pairs.drop_columns(
        [c for c in ("unique_id_l", "unique_id_r", "source_l", "record_id_l", "source_r",
                     "record_id_r") if c in pairs.column_names]
    )
    renumbered = with_pair_keys(
        pa.table({"unique_id_l": uid.take(left), "unique_id_r": uid.take(right),
                  **{c: rest.column(c) for c in rest.column_names}}),
        records,
    )
    clusters_out = pa.table({"source": records.column("source"),
                             "record_id": records.column("record_id"),
                             "person_id": person_ids})
    return LinkResult(
        records=records,
        pairs=renumbered,
        clusters=clusters_out,
        persons=person_table(records, person_ids),
        threshold=threshold,
        model=model,  # type: ignore[arg-type]
        settings=settings,
        mode=mode,
        standardised=standardised,
        decisions=decisions,
    )
