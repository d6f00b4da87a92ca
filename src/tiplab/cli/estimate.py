"""``tiplab estimate``: multiple systems estimation from a pattern-count or person table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tiplab.cli._common import console, emit_json, err_console, handle_errors


def register(app: typer.Typer) -> None:
    """Add the ``estimate`` command."""
    app.command("estimate")(estimate_command)


def _is_person_table(path: Path) -> bool:
    if path.suffix.lower() in (".parquet", ".pq"):
        return True
    from tiplab.estimation.errors import EstimationError

    try:
        with path.open(encoding="utf-8-sig") as fh:
            header = fh.readline().strip().split(",")
    except UnicodeDecodeError as exc:
        raise EstimationError(f"{path}: not UTF-8 text (byte {exc.start} cannot be read): "
                              "save the table as CSV UTF-8.") from exc
    return "sources" in header and "person_id" in header


def estimate_command(
    file: Annotated[Path, typer.Argument(
        help="Pattern-count CSV (0/1 list columns + count) or person table (.parquet, "
             "or .csv with person_id,sources).")],
    method: Annotated[str, typer.Option(
        help="stepwise | aic-stepwise | bic | downhill | main | fixed | rcapture-M0, "
             "rcapture-Mt, rcapture-Mh-Chao, rcapture-Mth-Darroch, ... | lcmcr | dga | "
             "bayes-threshold "
             "(Bayesian: posterior median and credible interval)")] = "stepwise",
    model: Annotated[str | None, typer.Option(
        help="Model for --method fixed, e.g. '1*2,2*3'.")] = None,
    pthresh: Annotated[float | None, typer.Option(
        help="Stepwise threshold (default 0.02; aic-stepwise Wald threshold 0.05).")] = None,
    maxorder: Annotated[int | None, typer.Option(
        help="Highest interaction order (bic, downhill).")] = None,
    nboot: Annotated[int, typer.Option(help="Bootstrap replicates (0 = none).")] = 1000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed.")] = 1234,
    by: Annotated[list[str] | None, typer.Option(
        "--by", help="Stratum column(s) of a person table.")] = None,
    pool_below: Annotated[int, typer.Option(
        help="Pool strata with fewer cases into 'other'.")] = 0,
    merge_lists: Annotated[list[str] | None, typer.Option(
        "--merge-lists", help="Merge lists, e.g. A+B.")] = None,
    omit_list: Annotated[list[str] | None, typer.Option(
        "--omit-list", help="Drop a list.")] = None,
    sensitivity: Annotated[bool, typer.Option(
        "--sensitivity", help="Also estimate with every method (range).")] = False,
    compare: Annotated[bool, typer.Option(
        "--compare", help="Every applicable method (log-linear, heterogeneity, LCMCR, dga) in "
                          "one table, and a recommended estimate with the reasons.")] = False,
    classes: Annotated[int, typer.Option(
        "--classes", help="lcmcr: most latent classes K.")] = 10,
    chains: Annotated[int, typer.Option(help="lcmcr: chains.")] = 4,
    burnin: Annotated[int, typer.Option(help="lcmcr: sweeps discarded.")] = 10_000,
    samples: Annotated[int, typer.Option(help="lcmcr: draws kept per chain.")] = 1_000,
    thin: Annotated[int, typer.Option(help="lcmcr: sweeps between kept draws.")] = 10,
    delta: Annotated[float | None, typer.Option(
        help="dga: hyper-Dirichlet prior count per cell (default 2^-lists).")] = None,
    max_missing: Annotated[int | None, typer.Option(
        "--max-missing", help="dga: top of the range of unobserved counts (default 30 n).")
    ] = None,
    prior_variance: Annotated[float, typer.Option(
        "--prior-variance", help="bayes-threshold: prior variance of the interactions.")
    ] = 1.0,
    threshold: Annotated[float, typer.Option(
        help="bayes-threshold: keep interactions with |mean|/sd at least this.")] = 2.0,
    order3: Annotated[bool, typer.Option(
        "--order3", help="bayes-threshold: also try three-list terms whose pairs "
                         "survived.")] = False,
    workers: Annotated[int, typer.Option(help="Processes for the bootstrap.")] = 1,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write JSON, HTML report and charts to this folder.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Estimate the hidden number of victims by multiple systems estimation."""
    from tiplab.estimation import (
        CaptureTable,
        EstimationError,
        capture_tables_from_persons,
        estimate,
        estimate_strata,
        sensitivity_table,
    )

    by = by or []
    merge_lists = merge_lists or []
    omit_list = omit_list or []
    with handle_errors(as_json):
        if not file.exists():
            raise EstimationError(f"{file}: file not found.")
        bayes: dict[str, dict[str, Any]] = {
            "lcmcr": {"K": classes, "chains": chains, "burnin": burnin, "samples": samples,
                      "thin": thin},
            "dga": {k: v for k, v in (("delta", delta), ("max_missing", max_missing))
                    if v is not None},
            "bayes-threshold": {"prior_variance": prior_variance, "threshold": threshold,
                                "order3": order3}}
        kw: dict[str, Any] = {"model": model, "pthresh": pthresh, "maxorder": maxorder,
                              "nboot": nboot, "seed": seed, "workers": workers}
        if method in bayes:
            kw = {"seed": seed, "bayes": bayes[method]}
        payload: dict[str, Any]
        charts: dict[str, Any] = {}
        html_parts: list[str] = []
        if by or _is_person_table(file):
            st = capture_tables_from_persons(file, by=by, pool_below=pool_below,
                                             merge_lists=merge_lists, omit_lists=omit_list)
            if by:
                strat = estimate_strata(st, method, **kw)
                total = estimate(st.total(), method, **kw)
                payload = total.to_dict()
                payload["strata"] = strat.to_dict()["strata"]
                payload["stratum_warnings"] = strat.warnings
                text = total.summary() + "\n\n" + strat.summary()
                html_parts += [total.to_html(), "<pre>" + strat.summary() + "</pre>"]
                if out:
                    from tiplab.estimation.charts import strata_chart

                    charts["strata"] = strata_chart(strat)
                main_result = total
                table = st.total()
            else:
                table = st.total()
        else:
            table = CaptureTable.from_csv(file)
            for grp in merge_lists:
                table = table.merge_lists([g.strip() for g in grp.split("+")])
            if omit_list:
                table = table.omit_lists(omit_list)
        if not by:
            main_result = estimate(table, method, **kw)
            payload = main_result.to_dict()
            text = main_result.summary()
            html_parts.append(main_result.to_html())
        if sensitivity:
            sens = sensitivity_table(table, seed=seed, workers=workers)
            payload["sensitivity"] = sens.to_dict()["rows"]
            text += "\n\n" + sens.summary()
            html_parts.append(sens.to_html())
            if out:
                from tiplab.estimation.charts import estimates_chart

                charts["estimates_by_method"] = estimates_chart(sens)
        if compare:
            from tiplab.estimation.compare import compare_methods

            comp = compare_methods(table, seed=seed, nboot=nboot, bayes=bayes)
            payload["comparison"] = comp.to_dict()
            text += "\n\nMethods compared\n" + comp.summary()
        if out and main_result.bootstrap is not None:
            from tiplab.estimation.charts import bootstrap_chart

            charts["bootstrap"] = bootstrap_chart(main_result)
        if out:
            _write_outputs(out, payload, html_parts, charts)
        if as_json:
            emit_json(payload)
        else:
            _print_table(main_result, text)
            if out:
                err_console.print(f"wrote {out}/estimate.json, report.html and charts")


def _print_table(result: Any, text: str) -> None:
    from rich.table import Table

    t = Table(title=f"Multiple systems estimate ({result.method})")
    t.add_column("quantity")
    t.add_column("value", justify="right")
    lo, hi = result.interval
    t.add_row("observed", f"{result.observed:,}")
    t.add_row("estimate", f"{result.estimate:,.0f}")
    t.add_row(f"{result.level:.0%} interval", f"{lo:,.0f} - {hi:,.0f}")
    t.add_row("interval type", result.interval_type)
    t.add_row("model", result.model)
    t.add_row("-inf terms", ", ".join(result.minus_infinity_terms) or "none")
    console.print(t)
    console.print(text, highlight=False)


def _write_outputs(out: Path, payload: dict[str, Any], html_parts: list[str],
                   charts: dict[str, Any]) -> None:
    import json

    out.mkdir(parents=True, exist_ok=True)
    (out / "estimate.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False),
                                       encoding="utf-8")
    imgs = []
    for name, ch in charts.items():
        ch.save(str(out / f"{name}.png"))
        ch.save(str(out / f"{name}.svg"))
        imgs.append(f'<h2>{name}</h2><img src="{name}.svg" alt="{name}">')
    html = ("<!doctype html><meta charset='utf-8'><title>MSE report</title>"
            "<h1>Multiple systems estimate</h1>" + "".join(html_parts) + "".join(imgs))
    (out / "report.html").write_text(html, encoding="utf-8")
