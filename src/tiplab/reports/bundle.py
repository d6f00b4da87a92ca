"""A release bundle: everything a brief or an annual report may show, frozen with a release.

The publication workflow (``tiplab_web.publications``) builds a :class:`ReleaseBundle` from an
approved release version; :mod:`tiplab.reports.brief` renders it. Every number in a brief comes
from the bundle, never from a person typing it, so the bundle is the whole evidence of a
document: a JSON round trip (:meth:`ReleaseBundle.to_dict`, :meth:`ReleaseBundle.from_dict`)
is exact, and a document can be rendered again years later from the stored JSON.

What the classes refuse, at construction, with a message naming the item and how to fix it:
a figure or table key that a narrative token cannot cite, duplicate keys, a non-finite number
(JSON has none), a half interval, a table row of the wrong width or with a cell that is not a
JSON scalar, a chart without alt text (charts must be accessible), a Vega-Lite spec that is not
JSON or that reads data from a URL (a document fetches nothing), and an unknown chapter.
Sequences are stored as lists (tuples are copied to lists) so that a round trip compares equal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from tiplab.errors import TiplabError

__all__ = ["CHAPTERS", "BundleChart", "BundleTable", "KeyFigure", "ReleaseBundle",
           "ReportError"]

#: the chapters of the annual report a table or chart may be placed in ("" = the default:
#: charts go to identification, tables to the annex)
CHAPTERS = ("identification", "profiles", "routes", "assessment", "plan", "consultation",
            "methods")
#: a key a narrative token can cite: ``[[detection_gap]]``, ``[[estimated.low]]``
KEY_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class ReportError(TiplabError):
    """A bundle, narrative or document request that cannot be rendered as asked; the
    message says what, where and how to fix it (``problems`` lists every problem found)."""

    def __init__(self, message: str, *, problems: Sequence[object] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def _finite(x: Any, where: str) -> float | None:
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float):
        raise ReportError(f"{where}: {x!r} is not a number; give a number or null")
    if not math.isfinite(x):
        raise ReportError(f"{where}: {x!r} is not a finite number; give a number, or null "
                          "when the figure is not published")
    return x


def _key(key: Any, what: str) -> None:
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ReportError(f"{what} key {key!r}: use letters, digits and underscores, starting "
                          "with a letter (e.g. 'detection_gap'), so a narrative can cite it")


def _chapter(section: str, what: str) -> None:
    if section and section not in CHAPTERS:
        raise ReportError(f"{what}: section {section!r} is not a chapter; use one of "
                          f"{', '.join(CHAPTERS)} or leave it empty")


def _strings(xs: Any, where: str) -> list[str]:
    if isinstance(xs, str) or not isinstance(xs, Sequence):
        raise ReportError(f"{where}: give a list of texts")
    out = list(xs)
    for i, x in enumerate(out):
        if not isinstance(x, str):
            raise ReportError(f"{where}[{i}]: {x!r} is not a text")
    return out


def _cell(v: Any, where: str) -> None:
    if v is None or isinstance(v, str | bool | int):
        return
    if isinstance(v, float):
        _finite(v, where)
        return
    raise ReportError(f"{where}: {type(v).__name__} {v!r} is not a text, number, true/false "
                      "or null; convert it before building the bundle")


def _texts(obj: object, names: Sequence[str], where: str) -> None:
    for name in names:
        v = getattr(obj, name)
        if not isinstance(v, str):
            raise ReportError(f"{where}: {name} must be a text, not {type(v).__name__}")


def _set(obj: object, name: str, value: Any) -> None:
    # frozen dataclasses: normalising a field in __post_init__ is the documented way
    object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class KeyFigure:
    """One released figure: a count, an estimate with its interval, or a DP count with its
    error; ``value`` None means not published (``note`` says why)."""

    key: str
    label: str
    value: float | None
    low: float | None = None
    high: float | None = None
    #: ± half-width of the 95% (see ``level``) error of the differential-privacy noise
    error: float | None = None
    unit: str = "persons"
    period: str = ""
    note: str = ""
    source: str = ""
    #: the coverage of the interval and of the error
    level: float = 0.95

    def __post_init__(self) -> None:
        _key(self.key, "figure")
        where = f"figure {self.key!r}"
        _texts(self, ("label", "unit", "period", "note", "source"), where)
        for name in ("value", "low", "high", "error"):
            _finite(getattr(self, name), f"{where}, {name}")
        if (self.low is None) != (self.high is None):
            raise ReportError(f"{where}: give both ends of the interval (low and high) or "
                              "neither")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ReportError(f"{where}: low {self.low} is above high {self.high}")
        if self.error is not None and self.error < 0:
            raise ReportError(f"{where}: error {self.error} is negative; give the 95% "
                              "half-width (≥ 0)")
        lvl = _finite(self.level, f"{where}, level")
        if lvl is None or not 0 < lvl < 1:
            raise ReportError(f"{where}: level {self.level!r} must be between 0 and 1 "
                              "(e.g. 0.95)")
        if not self.label.strip():
            raise ReportError(f"{where}: the label is empty; say what is counted")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KeyFigure:
        return cls(**_known(cls, d, "figure"))


@dataclass(frozen=True)
class BundleTable:
    """A released table (title, column names, rows of JSON scalars) with its notes."""

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    notes: list[str] = field(default_factory=list)
    source: str = ""
    #: the annual-report chapter that discusses it ("" = annex only)
    section: str = ""

    def __post_init__(self) -> None:
        _key(self.key, "table")
        where = f"table {self.key!r}"
        _texts(self, ("title", "source", "section"), where)
        _set(self, "columns", _strings(self.columns, f"{where}, columns"))
        _set(self, "notes", _strings(self.notes, f"{where}, notes"))
        if not self.columns:
            raise ReportError(f"{where}: no columns")
        if isinstance(self.rows, str) or not isinstance(self.rows, Sequence):
            raise ReportError(f"{where}: rows must be a list of lists")
        rows = []
        for i, row in enumerate(self.rows, start=1):
            if isinstance(row, str) or not isinstance(row, Sequence):
                raise ReportError(f"{where}, row {i}: not a list of cells")
            if len(row) != len(self.columns):
                raise ReportError(f"{where}, row {i}: {len(row)} cells for "
                                  f"{len(self.columns)} columns ({', '.join(self.columns)})")
            for j, v in enumerate(row):
                _cell(v, f"{where}, row {i}, column {self.columns[j]!r}")
            rows.append(list(row))
        _set(self, "rows", rows)
        _chapter(self.section, where)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BundleTable:
        return cls(**_known(cls, d, "table"))


def _urls(spec: Any, path: str = "") -> list[str]:
    """Where a Vega-Lite spec reads data from a URL (``data: {url: ...}`` anywhere)."""
    out = []
    if isinstance(spec, Mapping):
        for k, v in spec.items():
            if k == "data" and isinstance(v, Mapping) and "url" in v:
                out.append(f"{path}/data/url")
            out.extend(_urls(v, f"{path}/{k}"))
    elif isinstance(spec, list):
        for i, v in enumerate(spec):
            out.extend(_urls(v, f"{path}/{i}"))
    return out


@dataclass(frozen=True)
class BundleChart:
    """A chart as a Vega-Lite spec with inline data (Altair's ``chart.to_dict()``); ``alt``
    is the text a screen reader says instead of the picture (required)."""

    key: str
    title: str
    alt: str
    vega_lite: dict[str, Any]
    caption: str = ""
    source: str = ""
    #: the annual-report chapter it belongs to ("" = identification and the hidden number)
    section: str = ""

    def __post_init__(self) -> None:
        _key(self.key, "chart")
        where = f"chart {self.key!r}"
        _texts(self, ("title", "caption", "source", "section"), where)
        if not isinstance(self.alt, str) or not self.alt.strip():
            raise ReportError(f"{where}: the alt text is empty; describe what the chart "
                              "shows (its message, not its looks) for readers who cannot "
                              "see it")
        if not isinstance(self.vega_lite, Mapping) or not self.vega_lite:
            raise ReportError(f"{where}: vega_lite must be a Vega-Lite spec (a JSON object)")
        try:
            json.dumps(self.vega_lite, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ReportError(f"{where}: the Vega-Lite spec is not plain JSON ({exc}); "
                              "use chart.to_dict() and replace NaN by null") from exc
        urls = _urls(self.vega_lite)
        if urls:
            raise ReportError(f"{where}: the spec reads data from a URL at {', '.join(urls)}; "
                              "a document fetches nothing: put the data inline "
                              "(data: {values: [...]})")
        _chapter(self.section, where)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BundleChart:
        return cls(**_known(cls, d, "chart"))


@dataclass(frozen=True)
class ReleaseBundle:
    """A frozen release as documents see it: who approved it, how it is protected, its key
    figures, tables and charts, and the policy summaries to report with it."""

    release_id: str
    version: int
    title: str
    jurisdiction: str
    period: str
    data_version: str
    approved_by: str
    approved_at: str
    citation: str
    privacy: str
    figures: list[KeyFigure]
    tables: list[BundleTable] = field(default_factory=list)
    charts: list[BundleChart] = field(default_factory=list)
    #: {"framework", "met", "partly", "not_met", "gaps": [{"ref", "title", "status"}]}
    assessment: dict[str, Any] | None = None
    #: {"plan", "rows": [{"indicator", "baseline", "target", "latest", "status"}],
    #: "counts": {status: n}}
    scorecard: dict[str, Any] | None = None
    #: {"consultation", "contributions", "accepted", "partly", "not_accepted",
    #: "examples": [{"said", "did"}]}
    you_said_we_did: dict[str, Any] | None = None
    #: region code -> released count (None: suppressed) for a map or a ranked bar chart
    map_regions: dict[str, float | None] | None = None
    #: the workspace's regions as a GeoJSON FeatureCollection (EPSG:4326, a ``code``
    #: property per feature); without it the regions are drawn as a ranked bar chart
    map_geometry: dict[str, Any] | None = None
    #: redacted quotations of interview notes whose speakers agreed to be quoted, that the
    #: narrative may cite as ``[[quote:EVQ-0003]]`` (a paragraph of its own):
    #: [{"id", "text", "reference"}]
    quotations: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.release_id, str) or not self.release_id.strip():
            raise ReportError("bundle: release_id is empty; give the release's identifier "
                              "(e.g. 'tiplab:XT-2026-0003')")
        if isinstance(self.version, bool) or not isinstance(self.version, int) \
                or self.version < 1:
            raise ReportError(f"bundle {self.release_id}: version {self.version!r} must be a "
                              "whole number from 1")
        if not isinstance(self.data_version, str) or not self.data_version.strip():
            raise ReportError(f"bundle {self.release_id}: data_version is empty; every page "
                              "is stamped with it")
        for name in ("title", "jurisdiction", "period", "approved_by", "approved_at",
                     "citation", "privacy"):
            if not isinstance(getattr(self, name), str):
                raise ReportError(f"bundle {self.release_id}: {name} must be a text")
        for name, cls in (("figures", KeyFigure), ("tables", BundleTable),
                          ("charts", BundleChart)):
            items = getattr(self, name)
            if isinstance(items, str) or not isinstance(items, Sequence):
                raise ReportError(f"bundle {self.release_id}: {name} must be a list")
            items = list(items)
            for x in items:
                if not isinstance(x, cls):
                    raise ReportError(f"bundle {self.release_id}: {name} holds a "
                                      f"{type(x).__name__}, not a {cls.__name__}")
            keys = [x.key for x in items]
            dup = sorted({k for k in keys if keys.count(k) > 1})
            if dup:
                raise ReportError(f"bundle {self.release_id}: {name} key(s) "
                                  f"{', '.join(dup)} appear more than once; keys must be "
                                  "unique")
            _set(self, name, items)
        for name in ("assessment", "scorecard", "you_said_we_did", "map_geometry"):
            v = getattr(self, name)
            if v is not None:
                if not isinstance(v, Mapping):
                    raise ReportError(f"bundle {self.release_id}: {name} must be an object "
                                      "or null")
                try:
                    json.dumps(v, allow_nan=False)
                except (TypeError, ValueError) as exc:
                    raise ReportError(f"bundle {self.release_id}: {name} is not plain JSON "
                                      f"({exc})") from exc
        quotes = list(self.quotations or [])
        for q in quotes:
            if not isinstance(q, Mapping) or not all(
                    isinstance(q.get(k), str) and q.get(k, "").strip()
                    for k in ("id", "text", "reference")):
                raise ReportError(f"bundle {self.release_id}: a quotation needs non-empty "
                                  f"'id', 'text' and 'reference' strings, not {q!r}")
        ids = [q["id"] for q in quotes]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ReportError(f"bundle {self.release_id}: quotation id(s) {', '.join(dup)} "
                              "appear more than once")
        _set(self, "quotations", [dict(q) for q in quotes])
        if self.map_regions is not None:
            if not isinstance(self.map_regions, Mapping):
                raise ReportError(f"bundle {self.release_id}: map_regions must map region "
                                  "codes to counts")
            for code, n in self.map_regions.items():
                if not isinstance(code, str):
                    raise ReportError(f"bundle {self.release_id}: map_regions key {code!r} "
                                      "is not a region code (text)")
                _finite(n, f"bundle {self.release_id}, map_regions[{code!r}]")
            _set(self, "map_regions", dict(self.map_regions))
        geo = self.map_geometry
        if geo is not None and (geo.get("type") != "FeatureCollection"
                                or not isinstance(geo.get("features"), list)):
            raise ReportError(f"bundle {self.release_id}: map_geometry must be a GeoJSON "
                              "FeatureCollection (the workspace's regions.geojson)")

    def figure(self, key: str) -> KeyFigure | None:
        """The figure with this key, or None."""
        return next((f for f in self.figures if f.key == key), None)

    def quotation(self, ident: str) -> dict[str, str] | None:
        """The quotation with this id (``EVQ-0003``; case-insensitive), or None."""
        want = ident.strip().upper()
        return next((q for q in self.quotations if q["id"].upper() == want), None)

    @property
    def stamp(self) -> str:
        """The line every page carries: release id, version and data version."""
        return f"{self.release_id} · version {self.version} · data version {self.data_version}"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (lists, dicts, texts, numbers, null); :meth:`from_dict` reads it back
        to an equal bundle."""
        d = asdict(self)
        return json.loads(json.dumps(d, ensure_ascii=False, allow_nan=False))  # type: ignore[no-any-return]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ReleaseBundle:
        """The bundle of :meth:`to_dict` (unknown keys are refused, not dropped)."""
        known = _known(cls, d, "bundle")
        try:
            known["figures"] = [KeyFigure.from_dict(x) for x in known.get("figures") or []]
            known["tables"] = [BundleTable.from_dict(x) for x in known.get("tables") or []]
            known["charts"] = [BundleChart.from_dict(x) for x in known.get("charts") or []]
        except TypeError as exc:
            raise ReportError(f"bundle: {exc}") from exc
        return cls(**known)


def _known(cls: type, d: Mapping[str, Any], what: str) -> dict[str, Any]:
    if not isinstance(d, Mapping):
        raise ReportError(f"{what}: expected an object, got {type(d).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(d) - names)
    label = f"{what} {d.get('key') or d.get('release_id') or ''}".strip()
    if unknown:
        raise ReportError(f"{label}: unknown field(s) {', '.join(map(str, unknown))}; the "
                          f"fields are {', '.join(sorted(names))}")
    required = {f.name for f in fields(cls)
                if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - set(d))
    if missing:
        raise ReportError(f"{label}: missing field(s) {', '.join(missing)}")
    return dict(d)
