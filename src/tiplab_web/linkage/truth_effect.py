"""How linkage error moves the estimate, for one link run of the demo's simulated data: the
estimate of the hidden number from the run's persons beside the estimate from the true
linkage of the same records (``tiplab.linkage.truth_effect``).

Only possible where the true identity of every record is known: the demo's truth file
(``services.truth_file()``). The comparison runs a bootstrap, so it is computed once per run
and cached in the run's folder as ``truth_effect.json`` (written whole, or not at all); the
cache is used while the truth file and the settings are those it was computed with.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.utils.translation import gettext as _

from tiplab.errors import TiplabError
from tiplab.ingest.readers import file_sha256
from tiplab.linkage.truth_effect import (
    DEFAULT_BY,
    DEFAULT_METHOD,
    DEFAULT_NBOOT,
    DEFAULT_SEED,
    load_simulator_truth,
    read_truth,
    truth_effect,
)
from tiplab.policy.files import write_text_whole

from . import services
from .models import LinkRun

log = logging.getLogger("tiplab.web.linkage")

CACHE_NAME = "truth_effect.json"
#: bump when the cached dict changes shape, so old caches are recomputed
FORMAT = 1


def settings_used() -> dict[str, Any]:
    """The estimate compared: the app's default (the demo's estimate of record), with a small
    bootstrap."""
    return {
        "method": DEFAULT_METHOD,
        "by": list(DEFAULT_BY),
        "nboot": DEFAULT_NBOOT,
        "seed": DEFAULT_SEED,
    }


def cache_path(run: LinkRun) -> Path:
    return services.run_dir(run) / CACHE_NAME


def for_run(run: LinkRun, *, compute: bool = True) -> dict[str, Any] | None:
    """The comparison for ``run`` as a dict for ``linkage/_mse_effect.html``.

    None without the demo's truth file, for a run not finished, or (with ``compute=False``,
    for a page view that must not run a bootstrap) when no valid cache exists yet. A run whose
    records cannot be compared gets ``{"error": ...}``, cached like a result.
    """
    if run.status != LinkRun.DONE:
        return None
    return _cached_or_computed(run, compute)


def precompute(run: LinkRun) -> dict[str, Any] | None:
    """:func:`for_run` for the link job itself, once the result files are written (the run
    is marked done only after the job returns). Never fails the run: an unexpected error is
    logged and the page then shows no comparison."""
    try:
        return _cached_or_computed(run, True)
    except Exception:  # a comparison must not lose a finished linkage
        log.exception("link run %s: comparison with the true linkage failed", run.pk)
        return None


def _cached_or_computed(run: LinkRun, compute: bool) -> dict[str, Any] | None:
    truth = services.truth_file()
    if truth is None:
        return None
    folder = services.run_dir(run)
    if not (folder / "clusters.parquet").exists():
        return None
    stamp = {**settings_used(), "truth_sha256": file_sha256(truth), "format": FORMAT}
    cached = _read(cache_path(run))
    if cached is not None and cached.get("stamp") == stamp:
        return cached
    if not compute:
        return None
    data = _compute(run, truth, folder)
    data.update(stamp=stamp, run=run.pk)
    write_text_whole(cache_path(run), json.dumps(data, ensure_ascii=False, allow_nan=False))
    return data


def _compute(run: LinkRun, truth: Path, folder: Path) -> dict[str, Any]:
    s = settings_used()
    try:
        clusters = pq.read_table(
            folder / "clusters.parquet", columns=["source", "record_id", "person_id"]
        )
        persons_file = folder / "persons.parquet"
        persons = pq.read_table(persons_file) if persons_file.exists() else None
        records = _store_records(clusters)
        effect = truth_effect(
            clusters,
            read_truth(truth),
            records=records,
            persons=persons if records is None else None,
            by=tuple(s["by"]),
            method=s["method"],
            nboot=s["nboot"],
            seed=s["seed"],
            simulator=load_simulator_truth(truth.parent),
        )
    except TiplabError as e:
        log.warning("link run %s: no comparison with the true linkage: %s", run.pk, e)
        return {
            "error": _(
                "The estimate from the true linkage cannot be computed for this run: %(why)s"
            )
            % {"why": e}
        }
    data = effect.to_dict()
    data["rows"] = [
        _display(r)
        for r in [
            data["overall"],
            *data["strata"],
            *([data["strata_sum"]] if data["strata_sum"] else []),
        ]
    ]
    data["has_true_n"] = any(r["true_n"] is not None for r in data["rows"])
    return data


def _store_records(clusters: pa.Table) -> pa.Table | None:
    """The stratum attributes of the run's records as the system of record holds them now
    (no identifier is read), or None when a record of the run is no longer active there:
    the comparison then takes each record's strata from its linked person."""
    try:
        table = services.store().linkage_records(with_identifiers=False)
    except Exception as e:  # the store is unreadable: fall back to the run's own files
        log.warning("record attributes not read from the store: %s", e)
        return None
    keys = pc.binary_join_element_wise(
        table.column("source_agency"), table.column("record_id"), "\x1f"
    )
    wanted = pc.binary_join_element_wise(
        pc.cast(clusters.column("source"), pa.string()),
        pc.cast(clusters.column("record_id"), pa.string()),
        "\x1f",
    )
    if not pc.all(pc.is_in(wanted, value_set=keys)).as_py():
        return None
    table = table.filter(pc.is_in(keys, value_set=wanted))
    return pa.table(
        {
            "source": table.column("source_agency"),
            "record_id": table.column("record_id"),
            **{
                f"attr_{a}": table.column(a) for a in services.ATTRIBUTES if a in table.column_names
            },
        }
    )


def _display(row: dict[str, Any]) -> dict[str, Any]:
    """A row of the page's table: the stratum's values as text, the difference in percent."""
    diff = row["relative_difference"]
    return {
        **row,
        "stratum_text": ", ".join("" if v is None else str(v) for v in row["stratum"].values()),
        "difference_percent": None if diff is None else round(100 * diff, 1),
    }


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


