"""Commands: trends, profiles, routes, hotspots (tables as CSV and charts as PNG with --out)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from tiplab.cli._common import console, emit_json, handle_errors

DataDir = typer.Option(None, "--data-dir", envvar="TIPLAB_DATA_DIR",
                       help="Data directory with the snapshot. Default ./tiplab-data.")
Dataset = typer.Option("cases", "--dataset", "-d",
                       help="cases (snapshot case records), glotip (snapshot aggregates), "
                            "denver (DU route coding, routes only).")
FileOpt = typer.Option(None, "--file", help="Run on a file directly (with --profile), "
                                            "no database needed.")
ProfileOpt = typer.Option(None, "--profile", "-p", help="Mapping profile for --file.")
OutOpt = typer.Option(None, "--out", help="Write tables (CSV) and charts (PNG) here.")
JsonOpt = typer.Option(False, "--json", help="Print one JSON object.")
ProtectOpt = typer.Option(False, "--protect",
                          help="Apply disclosure control (for output leaving the analyst "
                               "role).")
ThresholdOpt = typer.Option(5, "--threshold", help="Smallest publishable count.")
UnitOpt = typer.Option(
    "auto", "--unit",
    help="Count persons (of the link run a data steward designated), records, or auto: "
         "persons when a link run is designated, else records. Case records only.")
DENVER_DEFAULT = "../shared/data/du_tip_directionality/Human_Traffic_data.csv"


def register(app: typer.Typer) -> None:
    app.command("trends")(trends_cmd)
    app.command("profiles")(profiles_cmd)
    app.command("routes")(routes_cmd)
    app.command("hotspots")(hotspots_cmd)


def _source(dataset: str, file: Path | None, profile: str | None, data_dir: Path | None,
            unit: str = "auto") -> Any:
    """An Engine (counting ``unit``), or an Arrow table prepared from --file with --profile."""
    from tiplab.analysis.errors import AnalysisError

    if file is not None:
        if unit == "persons":
            raise AnalysisError("--unit persons needs the snapshot's designated link run; "
                                "a --file is counted in records")
        if not profile:
            raise AnalysisError("--file needs --profile (e.g. --profile glotip)")
        from tiplab.ingest import prepare_import
        from tiplab.snapshot import analytic_table

        prepared = prepare_import(file, profile)
        table = analytic_table(prepared.result.accepted, prepared.kind, "file")
        return table, f"file-sha256:{prepared.raw.sha256[:12]}"
    if dataset not in ("cases", "glotip"):
        raise AnalysisError(f"unknown dataset {dataset!r} here; use cases or glotip")
    from tiplab.engine import connect

    engine = connect(data_dir, unit=unit if dataset == "cases" else "records")
    return engine, engine.data_version


@contextmanager
def _about(file: Path | None) -> Iterator[None]:
    """An analysis of ``--file`` that fails says which file it read."""
    from tiplab.analysis.errors import AnalysisError

    try:
        yield
    except AnalysisError as e:
        if file is None or str(file) in str(e):
            raise
        raise AnalysisError(f"{file}: {e}") from e


def _rule(protect: bool, threshold: int) -> Any:
    from tiplab.privacy import DisclosureRule

    return DisclosureRule(threshold=threshold) if protect else None


def _write(result: Any, out: Path | None, as_json: bool) -> None:
    if out is not None:
        import pyarrow.csv as pacsv

        out.mkdir(parents=True, exist_ok=True)
        for name, table in result.tables.items():
            flat = table.select([c for c in table.column_names
                                 if not (table.schema.field(c).type.num_fields
                                         or str(table.schema.field(c).type).startswith("list"))])
            pacsv.write_csv(flat, out / f"{result.kind}_{name}.csv")
        (out / f"{result.kind}.json").write_text(result.to_json(), encoding="utf-8")
    if as_json:
        emit_json(result.to_dict())
    else:
        console.print(result.to_text(), highlight=False)


def trends_cmd(
    dataset: str = Dataset,
    by: list[str] = typer.Option([], "--by", help="Breakdown column (repeatable)."),
    time: str = typer.Option("year", "--time", help="year or month (case records)."),
    country: list[str] = typer.Option([], "--country", help="ISO3 (aggregates; repeatable)."),
    indicator: str = typer.Option("Detected trafficking victims", "--indicator"),
    dimension: str = typer.Option("Total", "--dimension", help="Aggregate dimension."),
    source_agency: str = typer.Option(
        None, "--source-agency",
        help="Aggregates: the source the cells were imported under (default UNODC GLOTIP, "
             "or the only source present)."),
    start: int = typer.Option(None, "--start"),
    end: int = typer.Option(None, "--end"),
    horizon: int = typer.Option(0, "--forecast", help="Forecast this many periods ahead."),
    population: Path = typer.Option(None, "--population",
                                    help="Population CSV, regions GeoJSON or Walk Free "
                                         "Data.csv: adds rates per 100,000."),
    seed: int = typer.Option(0, "--seed"),
    file: Path = FileOpt, profile: str = ProfileOpt, data_dir: Path = DataDir, unit: str = UnitOpt,
    out: Path = OutOpt, as_json: bool = JsonOpt, protect: bool = ProtectOpt,
    threshold: int = ThresholdOpt,
) -> None:
    """Counts and rates over time, year-on-year change, change points, forecasts."""
    with handle_errors(as_json), _about(file):
        from dataclasses import replace

        from tiplab.analysis import (
            AggregateTrendSettings,
            TrendSettings,
            aggregate_trends,
            load_population,
            trends,
        )

        src, version = _source(dataset, file, profile, data_dir, unit)
        pop = load_population(population) if population else None
        aggregate = dataset == "glotip" or (file is not None and profile == "glotip")
        if aggregate:
            chosen = AggregateTrendSettings(
                indicator=indicator, countries=tuple(country), dimension=dimension,
                by=tuple(by), start=start, end=end, horizon=horizon, seed=seed)
            if source_agency:
                chosen = replace(chosen, source_agency=source_agency)
            result = aggregate_trends(src, chosen, population=pop, data_version=version)
        else:
            if time not in ("year", "month"):
                from tiplab.analysis.errors import AnalysisError

                raise AnalysisError("--time must be year or month")
            result = trends(src, TrendSettings(time=time,  # type: ignore[arg-type]
                                               by=tuple(by), start=start, end=end,
                                               horizon=horizon, seed=seed),
                            population=pop, protect=_rule(protect, threshold),
                            data_version=version)
        if out is not None:
            from tiplab.reports import trend_chart

            trend_chart(result, out / "trends.png")
        _write(result, out, as_json)


def profiles_cmd(
    group: str = typer.Option("means_of_control", "--group",
                              help="Flag group: means_of_control, exploitation_forms, "
                                   "labour_sectors, sexual_exploitation_types, "
                                   "recruiter_relation."),
    by: list[str] = typer.Option([], "--by", help="Breakdown column (repeatable)."),
    start: int = typer.Option(None, "--start"),
    end: int = typer.Option(None, "--end"),
    dataset: str = Dataset, file: Path = FileOpt, profile: str = ProfileOpt,
    data_dir: Path = DataDir, unit: str = UnitOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
    protect: bool = ProtectOpt, threshold: int = ThresholdOpt,
) -> None:
    """Victim profiles and tactics with CTDC's denominator rule."""
    with handle_errors(as_json), _about(file):
        from tiplab.analysis import ProfileSettings, profiles

        src, version = _source(dataset, file, profile, data_dir, unit)
        result = profiles(src, ProfileSettings(group=group, by=tuple(by), start=start, end=end),
                          protect=_rule(protect, threshold), data_version=version)
        if out is not None and not by:
            from tiplab.reports import bar_chart

            bar_chart(result.to_frame(), label="flag", value="share",
                      path=out / "profiles.png", title=f"{group} (share of records reporting)")
        _write(result, out, as_json)


def _lonlat(raw: str | None) -> tuple[float, float] | None:
    from tiplab.analysis.errors import AnalysisError

    if not raw:
        return None
    try:
        lon, lat = (float(v) for v in raw.split(","))
    except ValueError:
        raise AnalysisError(f"--anchor {raw!r}: write LON,LAT, e.g. --anchor 21.5,8.0") from None
    return lon, lat


def routes_cmd(
    dataset: str = Dataset,
    denver_file: Path = typer.Option(Path(DENVER_DEFAULT), "--denver-file",
                                     help="DU Human_Traffic_data.csv (dataset denver)."),
    countries_only: bool = typer.Option(False, "--countries-only",
                                        help="Denver: drop statements naming regions."),
    start: int = typer.Option(None, "--start"),
    end: int = typer.Option(None, "--end"),
    compare: list[str] = typer.Option([], "--compare",
                                      help="Two periods to compare, e.g. --compare 2008-2011 "
                                           "--compare 2013-2016."),
    top: int = typer.Option(30, "--top", help="Corridors drawn on the flow map."),
    country_regions: Path = typer.Option(
        None, "--country-regions", exists=True, dir_okay=False,
        help="Regions GeoJSON of a country the world map lacks (the simulated country's "
             "country/regions.geojson): it joins the flow map."),
    country_code: str = typer.Option("XTL", "--country-code",
                                     help="Its ISO alpha-3 code in the data."),
    country_name: str = typer.Option("Tiplandia", "--country-name", help="Its name."),
    anchor: str = typer.Option(None, "--anchor",
                               help="Place it at LON,LAT (default: where its geometry is)."),
    file: Path = FileOpt, profile: str = ProfileOpt, data_dir: Path = DataDir, unit: str = UnitOpt,
    out: Path = OutOpt, as_json: bool = JsonOpt, protect: bool = ProtectOpt,
    threshold: int = ThresholdOpt,
) -> None:
    """Corridors, hub countries, period changes and a flow map."""
    with handle_errors(as_json), _about(file):
        from tiplab.analysis import RouteSettings, load_denver, routes
        from tiplab.analysis.errors import AnalysisError

        if dataset == "denver":
            src: Any = load_denver(denver_file, countries_only=countries_only)
            version = f"du-tip-directionality:{denver_file.name}"
        else:
            src, version = _source(dataset, file, profile, data_dir, unit)
        periods = []
        for c in compare:
            try:
                a, b = (int(x) for x in c.split("-"))
            except ValueError:
                raise AnalysisError(f"--compare {c!r}: write a period as YYYY-YYYY") from None
            periods.append((a, b))
        if periods and len(periods) != 2:
            raise AnalysisError("--compare takes exactly two periods")
        s = RouteSettings(start=start, end=end, period_a=periods[0] if periods else None,
                          period_b=periods[1] if periods else None, top=top)
        result = routes(src, s, protect=_rule(protect, threshold), data_version=version)
        if out is not None:
            from tiplab.reports import country_from_regions, flow_map

            extra = None
            if country_regions is not None:
                extra = country_from_regions(country_regions, iso_a3=country_code,
                                             name=country_name, anchor=_lonlat(anchor))
            note = ("Source: University of Denver coding of US TIP reports; counts are coded "
                    "statements" if dataset == "denver" else "")
            flow_map(result.tables["corridors"], path=out / "flows.png", top=top,
                     source_note=note, extra=extra)
        _write(result, out, as_json)


def hotspots_cmd(
    regions: Path = typer.Option(..., "--regions", exists=True,
                                 help="Regions GeoJSON with code and population."),
    adjacency: Path = typer.Option(..., "--adjacency", exists=True,
                                   help="CSV of neighbouring regions (region_a, region_b)."),
    emerging: bool = typer.Option(False, "--emerging", help="Also per-year emerging patterns."),
    start: int = typer.Option(None, "--start"),
    end: int = typer.Option(None, "--end"),
    alpha: float = typer.Option(0.05, "--alpha", help="False-discovery rate."),
    permutations: int = typer.Option(999, "--permutations"),
    seed: int = typer.Option(0, "--seed"),
    dataset: str = Dataset, file: Path = FileOpt, profile: str = ProfileOpt,
    data_dir: Path = DataDir, unit: str = UnitOpt, out: Path = OutOpt, as_json: bool = JsonOpt,
    protect: bool = ProtectOpt, threshold: int = ThresholdOpt,
) -> None:
    """Getis-Ord Gi* and local Moran's I on regional rates (BH-corrected), and maps."""
    with handle_errors(as_json), _about(file):
        from tiplab.analysis import HotspotSettings, emerging_hotspots, hotspots

        src, version = _source(dataset, file, profile, data_dir, unit)
        s = HotspotSettings(start=start, end=end, alpha=alpha, permutations=permutations,
                            seed=seed)
        result = hotspots(src, regions, adjacency, s, protect=_rule(protect, threshold),
                          data_version=version)
        if emerging:
            em = emerging_hotspots(src, regions, adjacency, s,
                                   protect=_rule(protect, threshold), data_version=version)
            result.tables["patterns"] = em.tables["patterns"]
        if out is not None:
            from tiplab.reports import choropleth, hotspot_map, regions_layer

            layer = regions_layer(regions)
            hotspot_map(layer, result.table, path=out / "hotspots.png")
            choropleth(layer, result.table, key="region", layer_key="code", value="rate",
                       path=out / "rates.png", title="Records per 100,000 population")
        _write(result, out, as_json)
