"""The analytics pages' link to the core (``tiplab.analysis``, ``tiplab.reports``).

* One :class:`tiplab.engine.Engine` per (data directory, data version); a new import gives a
  new data version, hence a fresh engine and fresh results.
* Every result, chart, map and GeoJSON is cached (Django's cache) under a key made of the
  page, the data version, the parameters and whether the output is protected, so a repeat
  view costs a cache read.
* Who gets what: users who may see case records (``cases.view``: analysts, data stewards)
  get the plain result; everyone else with ``insights.view`` (policy officers) gets the
  result computed with ``protect=DisclosureRule()`` (small cells suppressed, secondary
  suppression). The decision lives in :func:`aggregate_only` and nowhere else.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import cache

from tiplab_web.core.access import can

#: Cached results live this long; the key contains the data version, so a new import is
#: never served stale results.
CACHE_SECONDS = 24 * 3600
DENVER_FILE = (Path(__file__).resolve().parents[3].parent / "shared" / "data"
               / "du_tip_directionality" / "Human_Traffic_data.csv")

_lock = threading.RLock()  # one DuckDB connection per engine; compute one result at a time
_engines: dict[tuple[str, str], Any] = {}
_MISSING = object()


@contextmanager
def _quiet() -> Iterator[None]:
    """Ibis 12 calls DuckDB's ``fetch_arrow_table``, which DuckDB 2 deprecates; not our code
    and harmless. Callers hold ``_lock`` (``catch_warnings`` is process-wide)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"fetch_arrow_table\(\) is deprecated",
                                category=DeprecationWarning)
        yield


def aggregate_only(user: Any) -> bool:
    """True when ``user`` may see aggregate evidence only: their tables are protected."""
    return not can(user, "cases.view")


def disclosure_rule() -> Any:
    from tiplab.privacy import DisclosureRule

    return DisclosureRule()


def data_dir() -> Path:
    return Path(settings.DATA_DIR)


def data_version() -> str:
    from tiplab.snapshot import open_snapshot

    return open_snapshot(data_dir()).data_version


def engine(unit: str = "records") -> Any:
    """The engine of the current snapshot (reused while the data version and the designated
    linkage are unchanged), counting ``unit`` ("records", or "persons" of the designated link
    run)."""
    from tiplab.engine import connect

    snap = snapshot()
    key = (str(data_dir()), snap.data_version, snap.linkage.tag if snap.linkage else "")
    with _lock:
        eng = _engines.get(key)
        if eng is None:
            for old in [k for k in _engines if k[0] == key[0]]:
                _engines.pop(old)
            eng = connect(data_dir())
            _engines[key] = eng
        return eng.for_unit(unit) if unit != "records" else eng


def unit_choice(asked: str | None) -> tuple[str, str]:
    """(unit, link run) an analysis counts: persons by default wherever a link run is
    designated, records when asked or when none is; the link run is part of every cache key,
    so a new designation never serves figures of the previous one."""
    linkage = snapshot().linkage
    if linkage is None:
        return "records", ""
    return ("records" if asked == "records" else "persons"), linkage.run


def linkage_available() -> bool:
    return snapshot().linkage is not None


_synced: set[tuple[str, str]] = set()


def snapshot() -> Any:
    """The current snapshot; once per data version and process, its designated linkage is
    made the database's first (a restored or rebuilt snapshot regains it)."""
    from tiplab.snapshot import open_snapshot

    snap = open_snapshot(data_dir())
    key = (str(data_dir()), snap.data_version)
    if key not in _synced:
        from tiplab_web.linkage.designation import sync_snapshot

        try:
            if sync_snapshot():
                snap = open_snapshot(data_dir())
        except Exception as e:  # the analytics still work, counting records; the log says why
            import logging

            logging.getLogger("tiplab.web.insights").warning(
                "designated linkage not restored in the snapshot: %s", e)
        _synced.add(key)
    return snap


def country_dir() -> Path:
    """Where the simulated country's regions and adjacency live (written by setup_demo)."""
    return data_dir() / "demo" / "country"


def simulated_country() -> Any:
    """The demo's simulated country as a country of the world layer (GeoDataFrame), or None
    when the demo is not set up. Its code and name are the simulator's settings; it sits where
    the simulator drew it unless ``TIPLAB_DEMO_COUNTRY_ANCHOR`` ("lon,lat") places it."""
    regions = country_dir() / "regions.geojson"
    if not regions.exists():
        return None
    params = data_dir() / "demo" / "truth" / "parameters.json"
    return _simulated_country(str(regions), regions.stat().st_mtime, str(params),
                              params.stat().st_mtime if params.exists() else 0.0,
                              country_anchor())


def country_anchor() -> tuple[float, float] | None:
    """``TIPLAB_DEMO_COUNTRY_ANCHOR`` as (lon, lat), validated in settings."""
    anchor = getattr(settings, "TIPLAB_DEMO_COUNTRY_ANCHOR", None)
    return tuple(anchor) if anchor else None  # type: ignore[return-value]


@lru_cache(maxsize=4)
def _simulated_country(regions: str, regions_mtime: float, params: str, params_mtime: float,
                       anchor: tuple[float, float] | None) -> Any:
    from tiplab.reports import country_from_regions

    code, name = "XTL", "Tiplandia"
    if params_mtime:
        chosen = json.loads(Path(params).read_text(encoding="utf-8")).get("settings", {})
        code, name = chosen.get("country_code", code), chosen.get("country_name", name)
    return country_from_regions(regions, iso_a3=code, name=name, anchor=anchor)


class NoData(Exception):
    """The page cannot be computed from the data present (message shown on the page)."""


def require_records(kind: str) -> None:
    """Raise :class:`NoData` when the snapshot holds no ``kind`` records. (The core's engine
    builds an empty table with ``ibis.memtable(name=...)``, which Ibis 12 refuses.)"""
    from tiplab.snapshot import open_snapshot

    if not open_snapshot(data_dir()).files(kind):
        what = "case records" if kind == "case" else "aggregate statistics"
        raise NoData(f"no {what} have been imported yet")


@dataclass
class Timed:
    value: Any
    seconds: float
    cached: bool


def cache_key(kind: str, params: dict[str, Any], protected: bool, version: str) -> str:
    blob = json.dumps([kind, str(data_dir()), version, params, protected], sort_keys=True,
                      default=str)
    return "insights:" + hashlib.sha256(blob.encode()).hexdigest()


def cached(kind: str, params: dict[str, Any], protected: bool,
           compute: Callable[[], Any]) -> Timed:
    """``compute()`` once per (kind, data version, parameters, protected); then from cache."""
    start = time.perf_counter()
    key = cache_key(kind, params, protected, data_version())
    hit = cache.get(key, _MISSING)
    if hit is not _MISSING:
        return Timed(hit, time.perf_counter() - start, True)
    with _lock, _quiet():
        value = compute()
    cache.set(key, value, CACHE_SECONDS)
    return Timed(value, time.perf_counter() - start, False)


_memo: dict[tuple[str, str, str], Any] = {}


def per_version(kind: str, compute: Callable[[], Any]) -> Any:
    """Small facts of a data version (year span, choices, region names), kept in this process
    for as long as the data version is current: every page view needs them, so they are not
    left to a cache that evicts them with the results."""
    key = (str(data_dir()), data_version(), kind)
    hit = _memo.get(key, _MISSING)
    if hit is not _MISSING:
        return hit
    with _lock, _quiet():
        value = compute()
    for old in [k for k in _memo if k[0] == key[0] and k[1] != key[1]]:
        _memo.pop(old, None)
    _memo[key] = value
    return value


def render_file(draw: Callable[[Path], Any], suffix: str) -> bytes:
    """Run a core drawing function that writes to a path; return the bytes."""
    with tempfile.TemporaryDirectory(prefix="tiplab-insights-") as tmp:
        path = Path(tmp) / f"figure.{suffix}"
        draw(path)
        return path.read_bytes()


# --- choices read from the data --------------------------------------------------------------

def glotip_choices() -> dict[str, list[str]]:
    """Countries and indicators present in the GLOTIP aggregates (cached per data version)."""

    def compute() -> dict[str, list[str]]:
        from tiplab.analysis.aggregates import GLOTIP

        try:
            require_records("aggregate")
        except NoData:
            return {"countries": [], "indicators": []}
        t = engine().aggregates
        t = t.filter((t.source_agency == GLOTIP) & (t.dimension == "Total"))
        countries = sorted(x for x in t.select("country").distinct().to_pyarrow()
                           .column(0).to_pylist() if x)
        indicators = sorted(x for x in t.select("indicator").distinct().to_pyarrow()
                            .column(0).to_pylist() if x)
        return {"countries": countries, "indicators": indicators}

    return per_version("glotip_choices", compute)


def case_years() -> tuple[int, int] | None:
    def compute() -> tuple[int, int] | None:
        try:
            require_records("case")
        except NoData:
            return None
        t = engine().cases
        y = t.registration_date.year()
        row = t.aggregate(lo=y.min(), hi=y.max()).to_pyarrow().to_pylist()[0]
        if row["lo"] is None:
            return None
        return int(row["lo"]), int(row["hi"])

    return per_version("case_years", compute)
