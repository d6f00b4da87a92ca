"""The result of a linkage run: records, scored pairs, clusters, persons, threshold, model."""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tiplab.linkage.cluster import Conflict
from tiplab.linkage.settings import LinkSettings
from tiplab.linkage.threshold import ThresholdChoice

log = logging.getLogger("tiplab.linkage")


@dataclass
class LinkResult:
    """Everything a linkage run produced; renders to text, HTML and JSON.

    ``records`` holds no identifier (unique_id, source, record_id, attr_*). ``standardised``
    holds the comparison columns (clean identifiers, or encodings) in memory only, for
    incremental linkage; :meth:`write` does not write it.
    """

    records: pa.Table
    pairs: pa.Table
    clusters: pa.Table
    persons: pa.Table
    threshold: ThresholdChoice
    model: dict[str, Any]
    settings: LinkSettings
    mode: str
    timings: dict[str, float] = field(default_factory=dict)
    conflicts: list[Conflict] = field(default_factory=list)
    merges: list[dict[str, object]] = field(default_factory=list)
    standardised: pa.Table | None = None
    decisions: pa.Table | None = None

    @property
    def n_records(self) -> int:
        return int(self.records.num_rows)

    @property
    def n_persons(self) -> int:
        return int(self.persons.num_rows)

    def pairs_above_threshold(self) -> int:
        p = self.pairs.column("match_probability")
        return int(pc.sum(pc.greater_equal(p, self.threshold.threshold)).as_py() or 0)

    def duplicate_record_ids(self) -> dict[str, int]:
        """Per source, how many record ids more than one row uses (an export defect).

        Such rows are linked as separate records; clusters.csv and pairs.parquet name them by
        the same id, in file order."""
        counts = (
            self.records.select(["source", "record_id"])
            .group_by(["source", "record_id"])
            .aggregate([([], "count_all")])
        )
        per_source = (
            counts.filter(pc.greater(counts.column("count_all"), 1))
            .group_by("source")
            .aggregate([([], "count_all")])
        )
        return dict(
            sorted(
                zip(
                    per_source.column("source").to_pylist(),
                    per_source.column("count_all").to_pylist(),
                    strict=True,
                )
            )
        )

    def summary(self) -> dict[str, Any]:
        pt = self.threshold.point()
        sources: dict[str, int] = {}
        for s in self.records.column("source").to_pylist():
            sources[s] = sources.get(s, 0) + 1
        return {
            "records": self.n_records,
            "persons": self.n_persons,
            "sources": dict(sorted(sources.items())),
            "pairs_scored": self.pairs.num_rows,
            "pairs_above_threshold": self.pairs_above_threshold(),
            "threshold": self.threshold.threshold,
            "threshold_chosen_by": self.threshold.chosen_by,
            "estimated_precision": pt.precision if pt else None,
            "estimated_recall": pt.recall if pt else None,
            "mode": self.mode,
            "engine": self.settings.engine,
            "conflicts": [c.__dict__ for c in self.conflicts],
            "merges": self.merges,
            "duplicate_record_ids": self.duplicate_record_ids(),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.summary(), indent=2, default=str)

    def to_text(self) -> str:
        s = self.summary()
        lines = [
            f"Linked {s['records']} records from {len(s['sources'])} sources into "
            f"{s['persons']} persons ({s['mode']}, {s['engine']}).",
            f"Scored pairs: {s['pairs_scored']}; above threshold: {s['pairs_above_threshold']}.",
            self.threshold.to_text(),
        ]
        if self.conflicts:
            lines.append(
                f"{len(self.conflicts)} review decision(s) could not be honoured; "
                "see summary.json 'conflicts'."
            )
        if self.merges:
            lines.append(f"{len(self.merges)} earlier person(s) merged through new records.")
        for src, n in s["duplicate_record_ids"].items():
            lines.append(
                f"{src}: {n} record id(s) are used by more than one row; each row was linked "
                "as its own record (clusters.csv lists them under the same id, in file order)."
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return "<pre>" + html.escape(self.to_text()) + "</pre>"

    def review_queue(self, low: float | None = None, high: float | None = None) -> pa.Table:
        from tiplab.linkage.review import review_queue

        return review_queue(self, low, high)

    def write(self, out_dir: str | Path) -> Path:
        """Write clusters.csv, pairs.parquet, persons.parquet, model.json, threshold.json
        (+ threshold.png), review_queue.parquet and summary.json to ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        pacsv.write_csv(self.clusters, out / "clusters.csv")
        pq.write_table(
            self.pairs.drop_columns(["unique_id_l", "unique_id_r"]), out / "pairs.parquet"
        )
        pq.write_table(self.persons, out / "persons.parquet")
        pq.write_table(self.review_queue(), out / "review_queue.parquet")
        (out / "model.json").write_text(json.dumps(self.model, indent=2), encoding="utf-8")
        self.threshold.to_json(out / "threshold.json")
        try:
            self.threshold.chart(out / "threshold.png")
        except Exception as e:  # a chart must not lose a finished linkage
            log.warning("threshold chart not written: %s", e)
        (out / "summary.json").write_text(self.to_json(), encoding="utf-8")
        return out
