"""``tiplab simulate``: a synthetic country with hidden victims, agency exports and truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tiplab.cli._common import console, emit_json, handle_errors


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` command."""
    app.command("simulate")(simulate_command)


def simulate_command(
    out: Annotated[Path, typer.Option("--out", help="Output directory (created).")],
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same bytes.")
    ] = 42,
    victims: Annotated[
        int,
        typer.Option(
            help="Size of the HIDDEN population N (every victim, seen by an agency or not); "
            "typically 20-35% of them appear in at least one export."
        ),
    ] = 20_000,
    years: Annotated[
        str, typer.Option(help="Span of identification years, e.g. 2015-2024.")
    ] = "2015-2024",
    agencies: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated agencies (default all six: police, labour_inspectorate, "
            "ngo_shelters, hotline, immigration, health)."
        ),
    ] = None,
    defect_rate: Annotated[
        float,
        typer.Option(help="Share of exported records given one data-quality defect (0 = clean)."),
    ] = 0.02,
    regions: Annotated[int, typer.Option(help="Number of regions (20-40).")] = 30,
    measure: Annotated[
        str | None,
        typer.Option(
            help="A plan measure with a known effect, REGIONS:YEAR:FACTOR[:AGENCIES], e.g. "
            "'XT-03,XT-07:2021:1.6:labour_inspectorate' (capture in those regions multiplied "
            "from that year; the true effect is written to truth/measure.csv)."
        ),
    ] = None,
    settings_file: Annotated[
        Path | None,
        typer.Option(
            "--settings",
            help="Settings JSON (e.g. a run's truth/parameters.json 'settings'); "
            "other options are ignored.",
        ),
    ] = None,
    narratives: Annotated[
        bool,
        typer.Option(
            "--narratives/--no-narratives",
            help="Also write narratives.csv: short free-text notes for 40% of the police, "
            "NGO, hotline and labour-inspectorate records, with their indicator codes in "
            "truth/narratives.csv.",
        ),
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Write a synthetic country: agency exports with their mapping profiles,
    linkage_roles.yaml, country geometry and ground truth (truth/)."""
    import json

    from pydantic import ValidationError

    from tiplab.simulate import SimulationError, SimulationSettings, parse_years, simulate

    with handle_errors(as_json):
        if settings_file is not None:
            try:
                data = json.loads(settings_file.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SimulationError(f"{settings_file}: not a readable JSON file: {exc}") from exc
            settings = SimulationSettings.model_validate(data.get("settings", data))
        else:
            start, end = parse_years(years)
            kwargs: dict[str, object] = {
                "seed": seed,
                "victims": victims,
                "year_start": start,
                "year_end": end,
                "defect_rate": defect_rate,
                "n_regions": regions,
            }
            if agencies:
                kwargs["agencies"] = agencies
            if measure:
                parts = measure.split(":")
                if len(parts) not in (3, 4):
                    raise SimulationError(f"--measure {measure!r}: expected "
                                          "REGIONS:YEAR:FACTOR[:AGENCIES]")
                kwargs["measure"] = {"regions": parts[0], "year": parts[1],
                                     "factor": parts[2],
                                     "agencies": parts[3] if len(parts) == 4 else ""}
            try:
                settings = SimulationSettings.model_validate(kwargs)
            except ValidationError as exc:
                err = exc.errors()[0]
                where = ".".join(str(p) for p in err.get("loc", ()))
                msg = str(err.get("msg", exc)).removeprefix("Value error, ")
                raise SimulationError(f"{where + ': ' if where else ''}{msg}") from None
        result = simulate(settings, out, narratives=narratives)
        summary = result.summary()
        if as_json:
            emit_json(summary)
            return
        from rich.table import Table

        t = Table(
            title=f"Simulated {settings.country_name} ({settings.country_code}), "
            f"seed {settings.seed}"
        )
        for col in ("agency", "file", "rows", "persons", "defects"):
            t.add_column(col, justify="right" if col in ("rows", "persons", "defects") else "left")
        for a in result.agencies:
            t.add_row(a.agency, a.file, str(a.rows), str(a.persons), str(a.defects))
        console.print(t)
        console.print(
            f"true N {result.true_n:,}; seen by at least one agency "
            f"{result.observed_persons:,} ({summary['observed_share']:.1%}); "
            f"written to {out} in {result.seconds:.1f} s"
        )
