"""Does hotspot detection find the simulated country's true high-prevalence regions?

The simulator (:mod:`tiplab.simulate`) marks the top fifth of regions by *true* prevalence
(victims per 100,000, hidden and seen) as ``true_hotspot`` in ``truth/regions.csv``. Here the
platform's hotspot analysis (:func:`tiplab.analysis.hotspots`, Gi*, Benjamini-Hochberg at
``alpha``) is run on what the agencies recorded - one case record per agency that identified a
victim (``unit="records"``, what the Hotspots page counts), or one per identified person
(``unit="persons"``, after perfect linkage) - with the country's regions and adjacency, and its
``hot`` regions are compared with the truth:

- **recovery rate** (sensitivity): true hotspots flagged hot / true hotspots;
- **false-hot rate**: other regions flagged hot / other regions;
- **precision**: true hotspots among the regions flagged hot.

What limits recovery is by design of the simulator: detection follows enforcement (police in
cities, shelters in urban regions), not prevalence, so rural hotspots are detection gaps; and
Gi* scores a region together with its neighbours, so an isolated hot region can go unflagged
while a neighbour of a hot cluster is flagged.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tiplab.analysis.errors import InputDataError
from tiplab.analysis.hotspots import HotspotSettings, hotspots


@dataclass(frozen=True)
class Recovery:
    """Hotspot recovery on one simulated country."""

    regions: int
    true_hot: int
    flagged_hot: int
    recovered: int
    false_hot: int
    unit: str
    records: int
    rule: str = "hot"

    @property
    def recovery_rate(self) -> float:
        return self.recovered / self.true_hot if self.true_hot else float("nan")

    @property
    def false_hot_rate(self) -> float:
        others = self.regions - self.true_hot
        return self.false_hot / others if others else float("nan")

    @property
    def precision(self) -> float:
        return self.recovered / self.flagged_hot if self.flagged_hot else float("nan")

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "recovery_rate": self.recovery_rate,
                "false_hot_rate": self.false_hot_rate, "precision": self.precision}


def recorded_cases(victims: pa.Table, unit: Literal["records", "persons"] = "records"
                   ) -> pa.Table:
    """What the agencies recorded, from ``truth/victims.parquet``: region and date per record.

    ``records``: one row per agency that identified the victim (``seen_<agency>``);
    ``persons``: one row per victim identified by any agency.
    """
    if unit == "persons":
        seen = victims.filter(victims.column("seen_any"))
        return pa.table({"region_of_exploitation": seen.column("region_of_exploitation"),
                         "registration_date": seen.column("identification_date")})
    if unit != "records":
        raise InputDataError(f"unit must be 'records' or 'persons', not {unit!r}")
    flags = [c for c in victims.column_names if c.startswith("seen_") and c != "seen_any"]
    if not flags:
        raise InputDataError("victims table has no seen_<agency> columns")
    per_victim = np.zeros(victims.num_rows, dtype=np.int64)
    for c in flags:
        per_victim += victims.column(c).to_numpy(zero_copy_only=False).astype(np.int64)
    idx = np.repeat(np.arange(victims.num_rows), per_victim)
    return pa.table({
        "region_of_exploitation": pc.take(victims.column("region_of_exploitation"), idx),
        "registration_date": pc.take(victims.column("identification_date"), idx),
    })


#: How regions are flagged: ``hot`` is the published class (Gi* z > 0 and BH q < alpha);
#: ``top_z`` and ``top_rate`` flag as many regions as there are true hotspots, by Gi* z or by
#: the recorded rate (rankings with no significance test, for comparison).
RULES = ("hot", "top_z", "top_rate")


def hotspot_recovery(simulation: str | Path, *, settings: HotspotSettings | None = None,
                     unit: Literal["records", "persons"] = "records",
                     rules: tuple[str, ...] = RULES) -> dict[str, Recovery]:
    """Run the hotspot analysis on a simulation's recorded cases and score it against truth.

    ``simulation`` is a ``tiplab simulate --out`` directory (``country/`` and ``truth/``).
    Returns one :class:`Recovery` per flagging rule (see :data:`RULES`).
    """
    unknown = set(rules) - set(RULES)
    if unknown:
        raise InputDataError(f"unknown rule(s) {sorted(unknown)}; use {', '.join(RULES)}")
    d = Path(simulation)
    regions_geo = d / "country" / "regions.geojson"
    adjacency = d / "country" / "adjacency.csv"
    truth_csv = d / "truth" / "regions.csv"
    victims_pq = d / "truth" / "victims.parquet"
    for f in (regions_geo, adjacency, truth_csv, victims_pq):
        if not f.exists():
            raise InputDataError(f"{f}: not found; pass a `tiplab simulate --out` directory")
    truth = pacsv.read_csv(truth_csv).select(["code", "population", "true_hotspot"])
    cases = recorded_cases(pq.read_table(victims_pq), unit)
    result = hotspots(cases, truth.select(["code", "population"]), str(adjacency),
                      settings or HotspotSettings(), data_version="simulation")
    rows = result.table.to_pylist()
    true_hot = {c for c, h in zip(truth.column("code").to_pylist(),
                                  truth.column("true_hotspot").to_pylist(), strict=True) if h}
    k = len(true_hot)
    flagged_by = {
        "hot": {r["region"] for r in rows if r["gi_class"] == "hot"},
        "top_z": {r["region"] for r in sorted(rows, key=lambda r: -r["gi_z"])[:k]},
        "top_rate": {r["region"] for r in sorted(rows, key=lambda r: -r["rate"])[:k]},
    }
    return {rule: Recovery(regions=truth.num_rows, true_hot=k,
                           flagged_hot=len(flagged_by[rule]),
                           recovered=len(flagged_by[rule] & true_hot),
                           false_hot=len(flagged_by[rule] - true_hot), unit=unit,
                           records=cases.num_rows, rule=rule)
            for rule in rules}


def pooled(results: list[Recovery]) -> dict[str, float]:
    """Recovery and false-hot rates pooled over several simulated countries (sums of counts),
    with the range of the per-country recovery rates."""
    true_hot = sum(r.true_hot for r in results)
    others = sum(r.regions - r.true_hot for r in results)
    flagged = sum(r.flagged_hot for r in results)
    recovered = sum(r.recovered for r in results)
    rates = [r.recovery_rate for r in results]
    return {"countries": len(results), "true_hot": true_hot, "recovered": recovered,
            "recovery_rate": recovered / true_hot if true_hot else float("nan"),
            "false_hot_rate": sum(r.false_hot for r in results) / others
            if others else float("nan"),
            "precision": recovered / flagged if flagged else float("nan"),
            "recovery_min": min(rates), "recovery_max": max(rates)}
