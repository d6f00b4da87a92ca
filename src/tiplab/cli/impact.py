"""``tiplab impact``: did a plan measure change the outcome where it started?"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tiplab.cli._common import console, emit_json, handle_errors

if TYPE_CHECKING:
    from tiplab.policy.impact import ImpactResult


def impact_command(
    panel: Annotated[Path, typer.Argument(help="Long panel CSV: one row per unit and period.",
                                          exists=True, dir_okay=False)],
    method: Annotated[str, typer.Option(
        "--method", help="its | did | event | cs | synth (see docs/impact.md).")] = "did",
    unit: Annotated[str, typer.Option("--unit", help="Column naming the unit (region).")
                    ] = "region",
    time: Annotated[str, typer.Option("--time", help="Column with the period (whole numbers).")
                    ] = "year",
    outcome: Annotated[str, typer.Option("--outcome", help="Numeric outcome column.")] = "y",
    treated: Annotated[str | None, typer.Option(
        "--treated", help="Treated units, comma-separated (all start in --start).")] = None,
    start: Annotated[int | None, typer.Option(
        "--start", help="First period with the measure in force.")] = None,
    adoption: Annotated[str | None, typer.Option(
        "--adoption", help="Staggered adoption: UNIT=PERIOD pairs, comma-separated "
                           "(instead of --treated/--start).")] = None,
    control: Annotated[str, typer.Option(
        "--control", help="cs: never (never-treated) or notyet (not-yet-treated) controls.")
    ] = "never",
    series: Annotated[str, typer.Option(
        "--series", help="its: treated (their sum), all (the whole country) or a unit.")
    ] = "treated",
    season: Annotated[int | None, typer.Option(
        "--season", help="its: periods per seasonal cycle (e.g. 12 for months).")] = None,
    alpha: Annotated[float, typer.Option("--alpha", help="1 - confidence level.")] = 0.05,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Estimate the effect of a measure started in some units at some period: interrupted
    time series, difference-in-differences (two-way fixed effects, event study,
    Callaway-Sant'Anna) or synthetic control with placebo inference. Prints the estimate,
    its interval, checks and the assumptions in words."""
    with handle_errors(as_json):
        import hashlib

        import pandas as pd

        from tiplab.policy.impact import ImpactError, ImpactSettings, evaluate

        try:
            frame = pd.read_csv(panel)
        except (OSError, ValueError) as exc:
            raise ImpactError(f"{panel}: not a readable CSV file: {exc}") from exc
        pairs: dict[str, int] = {}
        if adoption:
            for item in adoption.split(","):
                name, _, period = item.strip().rpartition("=")
                try:
                    pairs[name.strip()] = int(period)
                except ValueError:
                    raise ImpactError(
                        f"--adoption {item.strip()!r}: write UNIT=PERIOD, e.g. XT-03=2021"
                    ) from None
        units = tuple(u.strip() for u in (treated or "").split(",") if u.strip())
        settings = ImpactSettings(
            method=method,  # type: ignore[arg-type]
            unit=unit, time=time, outcome=outcome, treated=units, start=start,
            adoption=pairs, control=control,  # type: ignore[arg-type]
            series=series, season=season, alpha=alpha,
        )
        version = "file-sha256:" + hashlib.sha256(panel.read_bytes()).hexdigest()[:12]
        result = evaluate(frame, settings, data_version=version, source=str(panel))
        if as_json:
            emit_json(result.to_dict())
        else:
            _print(result)


def _print(r: ImpactResult) -> None:
    console.print(r.summary(), highlight=False, markup=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.command("impact")(impact_command)
