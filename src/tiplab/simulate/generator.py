"""Run a simulation: build the world, capture, render the exports and write the truth.

Layout of the output directory::

    <agency>.csv|xlsx|ndjson        one export per agency, each in its own format
    <agency>.profile.yaml           the mapping profile that imports it (tiplab import)
    linkage_roles.yaml              column roles for record linkage
    country/regions.geojson         region polygons (EPSG:4326)
    country/adjacency.csv           pairs of regions sharing a border
    country/covariates.csv          regional covariates
    truth/records.csv               source, record_id, row -> true_id, for every record
    truth/defects.csv               injected defects (importer reason codes) per record
    truth/strata.csv                true N per year x region x form x sex
    truth/regions.csv               true prevalence, detection rate, hotspot flag
    truth/victims.parquet           the whole hidden population
    truth/parameters.json           settings (incl. seed), shares used and their sources
    truth/measure.csv               only with a measure: identified victims per region x year
                                    with and without it (the true effect)
    narratives.csv                  only with ``narratives=True``: free-text notes of some
                                    records (source_agency, record_id, text)
    truth/narratives.csv            their indicator and theme codes (source_agency,
                                    record_id, codes)
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from tiplab.simulate import agencies as agency_specs
from tiplab.simulate import dates as D
from tiplab.simulate.capture import Captures, capture
from tiplab.simulate.country import Country, build_country, geojson
from tiplab.simulate.defaults import Shares, load_shares
from tiplab.simulate.names import build_tables
from tiplab.simulate.population import Population, generate
from tiplab.simulate.profilegen import export_file, profile_yaml, roles_entry, roles_yaml
from tiplab.simulate.render import Rendered, Renderer
from tiplab.simulate.rng import stream
from tiplab.simulate.settings import SimulationSettings
from tiplab.simulate.writers import (
    write_csv,
    write_json,
    write_ndjson,
    write_parquet,
    write_table_csv,
    write_xlsx,
)

log = logging.getLogger("tiplab.simulate")


@dataclass
class AgencyOutput:
    agency: str
    file: str
    profile: str
    rows: int
    persons: int
    duplicate_intakes: int
    defects: int
    format: str


@dataclass
class SimulationResult:
    """What a run wrote, with the headline numbers (also in truth/parameters.json)."""

    settings: SimulationSettings
    out_dir: Path
    true_n: int
    observed_persons: int
    agencies: list[AgencyOutput]
    files: list[str]
    seconds: float
    shares_sources: dict[str, str] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "seed": self.settings.seed,
            "years": [self.settings.year_start, self.settings.year_end],
            "true_n": self.true_n,
            "observed_distinct_persons": self.observed_persons,
            "observed_share": round(self.observed_persons / self.true_n, 4),
            "rows_per_agency": {a.agency: a.rows for a in self.agencies},
            "persons_per_agency": {a.agency: a.persons for a in self.agencies},
            "defects_per_agency": {a.agency: a.defects for a in self.agencies},
            "exports": [
                {"agency": a.agency, "file": a.file, "profile": a.profile, "format": a.format}
                for a in self.agencies
            ],
            "files": self.files,
            "seconds": round(self.seconds, 2),
        }


def simulate(
    settings: SimulationSettings,
    out_dir: str | Path,
    *,
    today: dt.date | None = None,
    narratives: bool = False,
) -> SimulationResult:
    """Generate a synthetic country, its hidden victims and every agency's export.

    ``settings.victims`` is the size of the hidden population (seen or not). The same
    settings give byte-identical outputs. With ``narratives``, also write case narratives
    with known indicators (:mod:`tiplab.simulate.narratives`, own random stream: the other
    files are unchanged).
    """
    t0 = time.perf_counter()
    settings.check_against_today(today or dt.date.today())
    out = Path(out_dir)
    for sub in ("", "truth", "country"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    seed = settings.seed
    shares = load_shares(settings.glotip_path, settings.ctdc_missing_path)
    country = build_country(
        seed,
        settings.n_regions,
        settings.victims,
        settings.country_code,
        settings.country_name,
        settings.prevalence,
    )
    given, family = build_tables(seed, settings.name_frequencies)
    pop = generate(settings.victims, settings.years, country, shares, given, family, seed)
    log.info("hidden population: %d victims", pop.n)
    end = np.datetime64(f"{settings.year_end}-12-31")
    caps = capture(
        pop,
        country,
        settings.agencies,
        settings.capture,
        duplicate_rate=settings.duplicate_intake_rate,
        duplicate_lag_days=settings.duplicate_lag_days,
        end=end,
        seed=seed,
        measure=settings.measure,
    )
    specs = agency_specs.specs(shares.missing, settings.noise.birth_date_missing)
    renderer = Renderer(
        pop, country, given, family, settings.noise, settings.defect_rate, settings.defect_codes
    )
    files: list[str] = []
    outputs: list[AgencyOutput] = []
    rendered: list[Rendered] = []
    roles: dict[str, dict[str, Any]] = {}
    for j, agency in enumerate(settings.agencies):
        spec = specs[agency]
        sel = caps.agency == j
        r = renderer.render(
            spec,
            caps.victim[sel],
            caps.registered[sel],
            caps.duplicate_intake[sel],
            caps.referred[sel],
            stream(seed, f"export:{agency}"),
            stream(seed, f"case:{agency}"),
        )
        fallback = spec.kind == "xlsx" and r.table.num_rows > settings.xlsx_max_rows
        name = export_file(spec, fallback)
        path = out / name
        if spec.kind == "ndjson":
            write_ndjson(r.table, path)
        elif spec.kind == "xlsx" and not fallback:
            write_xlsx(r.table, path)
        else:
            write_csv(r.table, path, delimiter=spec.delimiter, encoding=spec.encoding)
        if fallback:
            log.warning(
                "%s: %d rows exceed xlsx_max_rows=%d; written as CSV",
                agency,
                r.table.num_rows,
                settings.xlsx_max_rows,
            )
        prof = f"{agency}.profile.yaml"
        (out / prof).write_text(
            profile_yaml(spec, country, csv_fallback=fallback), encoding="utf-8"
        )
        roles[agency] = roles_entry(spec, csv_fallback=fallback)
        files += [name, prof]
        rendered.append(r)
        outputs.append(
            AgencyOutput(
                agency=agency,
                file=name,
                profile=prof,
                rows=r.table.num_rows,
                persons=len(np.unique(r.victim)),
                duplicate_intakes=int(r.duplicate_intake.sum()),
                defects=len(r.defect_codes),
                format="csv" if fallback else spec.kind,
            )
        )
    (out / "linkage_roles.yaml").write_text(roles_yaml(roles, country), encoding="utf-8")
    files.append("linkage_roles.yaml")
    files += _write_country(country, out)
    observed = int(caps.seen.any(axis=1).sum())
    files += _write_truth(settings, shares, country, pop, caps, rendered, outputs, out, observed)
    if settings.measure is not None:
        # The same draws without the measure: the counterfactual of every victim is exact.
        without = capture(
            pop,
            country,
            settings.agencies,
            settings.capture,
            duplicate_rate=settings.duplicate_intake_rate,
            duplicate_lag_days=settings.duplicate_lag_days,
            end=end,
            seed=seed,
        )
        files += _write_measure(settings, country, pop, caps, without, out)
    if narratives:
        from tiplab.simulate.narratives import write_narratives

        files += write_narratives(pop, rendered, out, seed)
    seconds = time.perf_counter() - t0
    log.info("simulation written to %s in %.1f s", out, seconds)
    return SimulationResult(
        settings=settings,
        out_dir=out,
        true_n=pop.n,
        observed_persons=observed,
        agencies=outputs,
        files=sorted(files),
        seconds=seconds,
        shares_sources=dict(shares.sources),
    )


def _write_country(country: Country, out: Path) -> list[str]:
    write_json(_rounded(geojson(country)), out / "country" / "regions.geojson")
    codes = country.codes
    a = [codes[i] for i, _ in country.adjacency]
    b = [codes[j] for _, j in country.adjacency]
    km = [
        round(country.geometries[i].intersection(country.geometries[j]).length * 111.32 * 0.79, 2)
        for i, j in country.adjacency
    ]  # ~km per degree at 38 deg S
    write_table_csv(
        pa.table({"region_a": a, "region_b": b, "shared_border_km": km}),
        out / "country" / "adjacency.csv",
    )
    cov = [
        "code",
        "name",
        "population",
        "area_km2",
        "poverty_rate",
        "unemployment_rate",
        "migrant_share",
        "informal_labour_share",
        "education_years",
        "conflict_exposure",
        "urbanisation",
        "border_region",
    ]
    write_table_csv(country.regions.select(cov), out / "country" / "covariates.csv")
    return ["country/regions.geojson", "country/adjacency.csv", "country/covariates.csv"]


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_rounded(v) for v in obj]
    return obj


def _write_measure(
    settings: SimulationSettings,
    country: Country,
    pop: Population,
    caps: Captures,
    without: Captures,
    out: Path,
) -> list[str]:
    """truth/measure.csv and truth/measure.json: the measure's true effect on identified victims.

    Identified = seen by at least one agency, counted by region of exploitation and year of
    identification (persons, not records). ``effect`` = identified - identified_without.
    """
    assert settings.measure is not None
    m = settings.measure
    years = D.split(pop.identified)[0].astype(np.int64)
    y0 = settings.year_start
    n_reg, n_year = len(country.codes), len(settings.years)
    cell = pop.region.astype(np.int64) * n_year + (years - y0)
    size = n_reg * n_year
    seen = np.bincount(cell, weights=caps.seen.any(axis=1), minlength=size).astype(np.int64)
    seen0 = np.bincount(cell, weights=without.seen.any(axis=1), minlength=size).astype(np.int64)
    victims = np.bincount(cell, minlength=size).astype(np.int64)
    codes = np.repeat(np.array(country.codes), n_year)
    yrs = np.tile(np.arange(y0, y0 + n_year), n_reg)
    treated = np.isin(codes, m.regions)
    post = treated & (yrs >= m.year)
    table = pa.table(
        {
            "region": pa.array(codes.tolist(), pa.string()),
            "year": pa.array(yrs),
            "treated_region": pa.array(treated),
            "measure_active": pa.array(post),
            "true_victims": pa.array(victims),
            "identified": pa.array(seen),
            "identified_without_measure": pa.array(seen0),
            "effect": pa.array(seen - seen0),
        }
    )
    write_table_csv(table, out / "truth" / "measure.csv")
    cells = int(post.sum())
    summary = {
        "measure": m.model_dump(mode="json"),
        "estimand": "average over treated region-years with the measure active of "
        "(identified victims with the measure - identified victims without it); "
        "identified = persons seen by any agency, by region of exploitation and "
        "identification year",
        "treated_cells": cells,
        "att_identified": round(float((seen - seen0)[post].sum() / cells), 6),
        "att_relative": round(float(seen[post].sum() / max(seen0[post].sum(), 1) - 1), 6),
        "identified_with_measure": int(seen[post].sum()),
        "identified_without_measure": int(seen0[post].sum()),
    }
    write_json(summary, out / "truth" / "measure.json")
    return ["truth/measure.csv", "truth/measure.json"]


def _write_truth(
    settings: SimulationSettings,
    shares: Shares,
    country: Country,
    pop: Population,
    caps: Captures,
    rendered: list[Rendered],
    outputs: list[AgencyOutput],
    out: Path,
    observed: int,
) -> list[str]:
    truth = out / "truth"
    # records.csv and defects.csv
    rec_parts, def_parts = [], []
    for r, o in zip(rendered, outputs, strict=True):
        n = r.table.num_rows
        first_row = 1 if o.format == "ndjson" else 2
        rows = np.arange(first_row, first_row + n)
        rec_parts.append(
            pa.table(
                {
                    "source": pa.array([r.spec.agency] * n, pa.string()),
                    "record_id": r.record_id,
                    "row": pa.array(rows),
                    "true_id": pa.array(r.victim.astype(np.int64) + 1),
                    "registration_date": pa.array(r.registered.astype("datetime64[D]")),
                    "duplicate_intake": pa.array(r.duplicate_intake),
                    "referred": pa.array(r.referred),
                }
            )
        )
        dr = r.defect_rows.astype(np.int64)
        def_parts.append(
            pa.table(
                {
                    "source": pa.array([r.spec.agency] * len(dr), pa.string()),
                    "record_id": pc.take(r.record_id, pa.array(dr)),
                    "row": pa.array(rows[dr] if len(dr) else np.empty(0, np.int64)),
                    "code": pa.array(r.defect_codes, pa.string()),
                    "column": pa.array(r.defect_columns, pa.string()),
                }
            )
        )
    records = pa.concat_tables(rec_parts)
    defects = pa.concat_tables(def_parts)
    defects = defects.sort_by(
        [("source", "ascending"), ("row", "ascending"), ("code", "ascending")]
    )
    write_table_csv(records, truth / "records.csv")
    write_table_csv(defects, truth / "defects.csv")

    victims = pop.table(country)
    for j, agency in enumerate(caps.agencies):
        victims = victims.append_column(
            f"p_{agency}", pa.array(np.round(caps.probability[:, j], 6))
        )
        victims = victims.append_column(f"seen_{agency}", pa.array(caps.seen[:, j]))
    seen_any = caps.seen.any(axis=1)
    victims = victims.append_column("seen_any", pa.array(seen_any))
    write_parquet(victims, truth / "victims.parquet")

    con = duckdb.connect()
    try:
        con.execute("SET threads = 1")
        con.register(
            "victims",
            victims.select(
                ["year", "region_of_exploitation", "exploitation_form", "sex", "seen_any"]
            ),
        )
        strata = con.sql(
            "SELECT year, region_of_exploitation, exploitation_form, sex, count(*) AS n, "
            "count(*) FILTER (WHERE seen_any) AS n_seen FROM victims GROUP BY ALL "
            "ORDER BY ALL"
        ).to_arrow_table()
    finally:
        con.close()
    write_table_csv(strata, truth / "strata.csv")

    n_reg = len(country.codes)
    victims_r = np.bincount(pop.region, minlength=n_reg)
    seen_r = np.bincount(pop.region, weights=seen_any, minlength=n_reg)
    regions = country.regions
    regions = regions.append_column("true_victims", pa.array(victims_r.astype(np.int64)))
    regions = regions.append_column("seen_victims", pa.array(seen_r.astype(np.int64)))
    regions = regions.append_column(
        "true_detection_rate",
        pa.array(
            np.round(np.divide(seen_r, victims_r, out=np.zeros(n_reg), where=victims_r > 0), 6)
        ),
    )
    write_table_csv(regions, truth / "regions.csv")

    years = D.split(pop.identified)[0]
    params = {
        "settings": settings.dump(),
        "shares": shares.to_json(),
        "model": {
            "prevalence": "log(victims per person in region r) = c + sum_k beta_k z_kr "
            "(+ beta_border * border_r); c fixed by N",
            "capture": "logit p_ia = base_a + form_a + sex_a + minor_a + foreign_a + "
            "log enforcement_a[region] + visibility_a * theta_i; then referrals "
            "and never-overlap pairs",
        },
        "realised": {
            "true_n": pop.n,
            "observed_distinct_persons": observed,
            "victims_per_year": {
                int(y): int(c) for y, c in zip(*np.unique(years, return_counts=True), strict=True)
            },
            "agencies": {
                a: {
                    "mean_capture_probability": round(float(caps.probability[:, j].mean()), 6),
                    "persons_seen": int(caps.seen[:, j].sum()),
                    "records": o.rows,
                    "duplicate_intakes": o.duplicate_intakes,
                    "defects": o.defects,
                    "file": o.file,
                }
                for j, (a, o) in enumerate(zip(caps.agencies, outputs, strict=True))
            },
            "overlaps": {
                f"{a}&{b}": int((caps.seen[:, i] & caps.seen[:, j]).sum())
                for i, a in enumerate(caps.agencies)
                for j, b in enumerate(caps.agencies)
                if i < j
            },
            "hotspots": [
                c
                for c, h in zip(
                    country.codes, regions.column("true_hotspot").to_pylist(), strict=True
                )
                if h
            ],
        },
    }
    write_json(params, truth / "parameters.json")
    return [
        "truth/records.csv",
        "truth/defects.csv",
        "truth/strata.csv",
        "truth/regions.csv",
        "truth/victims.parquet",
        "truth/parameters.json",
    ]
