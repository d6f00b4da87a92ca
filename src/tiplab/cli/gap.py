"""``tiplab gap``: where victims are not being found (estimated minus identified, per stratum)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tiplab.cli._common import handle_errors
from tiplab.cli.analysis import DataDir, JsonOpt, OutOpt, _write

if TYPE_CHECKING:
    from tiplab.analysis.results import AnalysisResult


def gap_cmd(
    by: str = typer.Option("region_of_exploitation", "--by",
                           help="Stratum columns, comma-separated: region_of_exploitation "
                                "(or region), exploitation_form (or form), sex, age_band, "
                                "year."),
    persons: Path = typer.Option(None, "--persons", exists=True,
                                 help="A linked person table (Parquet or CSV with sources). "
                                      "Default: the snapshot's designated link run."),
    population: Path = typer.Option(None, "--population", exists=True,
                                    help="Population CSV or regions GeoJSON (code and "
                                         "population): adds the gap per 100,000 residents."),
    method: str = typer.Option("stepwise", "--method", help="Estimation method."),
    nboot: int = typer.Option(200, "--nboot", help="Bootstrap replicates per stratum."),
    seed: int = typer.Option(1234, "--seed"),
    min_observed: int = typer.Option(30, "--min-observed",
                                     help="Fewer persons in a stratum: flagged, not ranked."),
    min_overlap: int = typer.Option(10, "--min-overlap",
                                    help="Fewer persons seen by two or more agencies: flagged."),
    workers: int = typer.Option(1, "--workers", help="Processes for the bootstrap."),
    data_dir: Path = DataDir, out: Path = OutOpt, as_json: bool = JsonOpt,
) -> None:
    """Detection gap per stratum: estimated total (MSE), identified, gap, gap per 100,000, each
    with its interval; strata ranked by gap, weak strata flagged with the reason."""
    with handle_errors(as_json):
        from tiplab.analysis.gap import GapSettings, detection_gap
        from tiplab.analysis.population import load_population

        aliases = {"region": "region_of_exploitation", "form": "exploitation_form"}
        columns = tuple(aliases.get(c.strip(), c.strip()) for c in by.split(",") if c.strip())
        settings = GapSettings(by=columns, method=method, nboot=nboot, seed=seed,
                               min_observed=min_observed, min_overlap=min_overlap,
                               workers=workers)
        pop = load_population(population) if population is not None else None
        if persons is not None:
            import hashlib

            version = "file-sha256:" + hashlib.sha256(persons.read_bytes()).hexdigest()[:12]
            result = detection_gap(persons, settings, population=pop, data_version=version)
        else:
            from tiplab.engine import capture_persons, connect

            engine = connect(data_dir, unit="persons")
            result = detection_gap(capture_persons(engine), settings, population=pop,
                                   data_version=engine.data_version, unit=engine.unit_info())
        if as_json or out is not None:
            _write(result, out, as_json)
        else:
            _print(result)


def _num(v: float | None) -> str:
    import math

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return "∞" if math.isinf(v) else f"{v:,.0f}"


def _print(r: AnalysisResult) -> None:
    """Strata ranked by gap (reliable first), each figure with its interval; flags in words."""
    from rich.table import Table

    from tiplab.cli._common import console

    gaps = r.tables["gaps"].to_pylist()
    by = list(r.parameters["by"])
    console.print(f"Detection gap by {', '.join(by)} — data version "
                  f"{r.data_version}, counting {r.unit_text()}",
                  highlight=False)
    t = Table(show_lines=False)
    for c in [*by, "identified", "estimated [95%]", "gap [95%]", "per 100k", "rank", "flag"]:
        t.add_column(c, justify="right" if c not in by and c != "flag" else "left")
    gaps.sort(key=lambda g: (g["rank_gap"] is None, g["rank_gap"] or 0))
    for g in gaps:
        est = (f"{_num(g['estimate'])} [{_num(g['estimate_low'])}–{_num(g['estimate_high'])}]"
               if g["estimate"] is not None else "-")
        gap = (f"{_num(g['gap'])} [{_num(g['gap_low'])}–{_num(g['gap_high'])}]"
               if g["gap"] is not None else "-")
        t.add_row(*[str(g[c]) for c in by], f"{g['identified']:,}", est, gap,
                  _num(g["gap_rate"]) if g.get("gap_rate") is not None else "-",
                  str(int(g["rank_gap"])) if g["rank_gap"] is not None else "-",
                  g["flag"])
    console.print(t)
    total = r.extra["total"]
    console.print(f"All strata pooled: {total['identified']:,} identified, "
                  f"{_num(total['estimate'])} estimated "
                  f"[{_num(total['estimate_low'])}–{_num(total['estimate_high'])}], "
                  f"gap {_num(total['gap'])}", highlight=False)
    for n in r.notes:
        console.print(f"note: {n}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command("gap")(gap_cmd)
