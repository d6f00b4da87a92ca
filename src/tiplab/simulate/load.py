"""Load a simulated country into a data directory as if its agencies had imported it.

Tests and benchmarks need the same thing: every agency export imported with its profile into
a snapshot, and the ground truth designated as a perfect link run, so that persons-level
analyses can be checked against the truth::

    from tiplab.simulate.load import load_simulation
    loaded = load_simulation("sim-out", "data")
    loaded.truth          # truth/records.csv, one row per imported record
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import yaml


@dataclass(frozen=True)
class LoadedSimulation:
    data_version: str
    truth: pa.Table
    rejected: dict[str, int]


def load_simulation(sim: str | Path, data: str | Path, *, designate_truth: bool = True,
                    designated_by: str = "simulation") -> LoadedSimulation:
    """Import every agency file of the simulation ``sim`` into the snapshot of ``data``.

    Records an agency exported with a duplicated record id (an injected defect) are
    rejected at import, as they would be for a real agency; they are dropped from the truth
    too. With ``designate_truth`` the truth's person ids become the designated linkage
    (run ``truth``)."""
    from tiplab.ingest import prepare_import
    from tiplab.snapshot import SnapshotBatch, designate_linkage, write_batch, write_manifest

    sim, data = Path(sim), Path(data)
    roles = yaml.safe_load((sim / "linkage_roles.yaml").read_text(encoding="utf-8"))
    batches, rejected = [], {}
    for i, (agency, entry) in enumerate(roles["inputs"].items()):
        prepared = prepare_import(sim / entry["file"], str(sim / f"{agency}.profile.yaml"))
        rejected[agency] = prepared.result.rejected.num_rows
        accepted = prepared.result.accepted
        name = write_batch(data, "case", f"S{i}", accepted)
        batches.append(SnapshotBatch(f"S{i}", "case", agency, f"{i:064d}", accepted.num_rows,
                                     name))
    snap = write_manifest(data, batches)
    truth = pacsv.read_csv(sim / "truth" / "records.csv", convert_options=pacsv.ConvertOptions(
        column_types={"record_id": pa.string(), "true_id": pa.string()}))
    keys = [f"{s}:{r}" for s, r in zip(truth.column("source").to_pylist(),
                                       truth.column("record_id").to_pylist(), strict=True)]
    seen = Counter(keys)
    truth = truth.filter(pa.array([seen[k] == 1 for k in keys]))
    if designate_truth:
        designate_linkage(data, "truth", truth.select(["source", "record_id", "true_id"])
                          .rename_columns(["source", "record_id", "person_id"]),
                          data_version=snap.data_version, designated_by=designated_by)
    return LoadedSimulation(snap.data_version, truth, rejected)
