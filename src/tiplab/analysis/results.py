"""Result objects: one table (or a few) plus provenance, rendered to text, HTML, JSON, frames.

Every result carries the ``data_version`` it was computed from and the parameters that
produced it, so any published figure traces back to its data and can be re-run.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from tiplab import __version__
from tiplab.privacy import Protection


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dt.date | dt.datetime):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if hasattr(v, "item"):
        return _jsonable(v.item())
    return v


def rows(table: pa.Table) -> list[dict[str, Any]]:
    """Arrow table -> JSON-ready list of dicts (NaN/inf -> null, dates -> ISO)."""
    return [_jsonable(r) for r in table.to_pylist()]


@dataclass
class AnalysisResult:
    """Base result: named tables plus provenance.

    ``tables`` maps a name (``series``, ``corridors``…) to an Arrow table; the first is the
    main one. ``protection`` is set when disclosure control was applied (outputs that leave
    the analyst role must carry it).
    """

    kind: str
    tables: dict[str, pa.Table]
    data_version: str
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    protection: Protection | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: what was counted: {"unit": "records"}, or persons of a designated link run with its
    #: facts (see :meth:`tiplab.engine.Engine.unit_info`)
    unit: dict[str, Any] = field(default_factory=lambda: {"unit": "records"})

    @property
    def counts_persons(self) -> bool:
        return self.unit.get("unit") == "persons"

    def unit_text(self) -> str:
        """The unit in words, e.g. "persons (link run 7; 12 records not linked)"."""
        if not self.counts_persons:
            return "records"
        u = self.unit
        extra = [f"link run {u.get('link_run')}"]
        if u.get("records_not_linked"):
            extra.append(f"{u['records_not_linked']} records not linked, counted as persons")
        if u.get("stale"):
            extra.append("the link run predates the current data")
        return f"persons ({'; '.join(extra)})"

    @property
    def table(self) -> pa.Table:
        return next(iter(self.tables.values()))

    @property
    def protected(self) -> bool:
        return self.protection is not None

    def to_frame(self, name: str | None = None) -> Any:
        """The main table (or ``name``) as a pandas data frame."""
        return (self.tables[name] if name else self.table).to_pandas()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "data_version": self.data_version,
            "unit": _jsonable(self.unit),
            "parameters": _jsonable(self.parameters),
            "protected": self.protected,
            "disclosure": self.protection.to_dict() if self.protection else None,
            "tiplab_version": __version__,
            "notes": list(self.notes),
        }
        out.update(_jsonable(self.extra))
        for name, t in self.tables.items():
            out[name] = rows(t)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    def summary(self) -> str:
        return self.to_text()

    def to_text(self, max_rows: int = 30) -> str:
        lines = [f"{self.kind} (data version {self.data_version}; counting {self.unit_text()})"]
        lines += [f"  {k} = {v}" for k, v in self.parameters.items() if v not in (None, [], ())]
        if self.protection:
            lines.append(f"  disclosure control: {self.protection.rule.describe()}")
        for name, t in self.tables.items():
            lines.append(f"\n[{name}] {t.num_rows} rows")
            lines.append(t.slice(0, max_rows).to_pandas().to_string(index=False))
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_html(self) -> str:
        parts = [f"<section class='tiplab-result' data-kind='{html.escape(self.kind)}' "
                 f"data-version='{html.escape(self.data_version)}'>"]
        if self.protection:
            parts.append(f"<p class='disclosure'>{html.escape(self.protection.rule.describe())}"
                         "</p>")
        for name, t in self.tables.items():
            parts.append(f"<h3>{html.escape(name)}</h3>")
            parts.append(t.to_pandas().to_html(index=False, na_rep="", escape=True))
        parts += [f"<p class='note'>{html.escape(n)}</p>" for n in self.notes]
        parts.append("</section>")
        return "\n".join(parts)
