"""``tiplab export --format ctdc|htcds``: the case records (no identifiers) in the CTDC or
HTCDS 2.0 layout, for exchange with IOM/CTDC. Internal data: not a release (nothing here is
k-anonymous or noisy; publishing goes through ``tiplab release``)."""

from __future__ import annotations

from pathlib import Path

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors

DataDir = typer.Option(None, "--data-dir", envvar="TIPLAB_DATA_DIR",
                       help="Data directory with the snapshot. Default ./tiplab-data.")


def export_cmd(
    fmt: str = typer.Option(..., "--format", help="ctdc (CTDC k-anon codebook v7 variables) or "
                            "htcds (HTCDS 2.0 field names and picklists)."),
    out: Path = typer.Option(..., "--out", help="The file to write: .csv, .parquet or .json."),
    unit: str = typer.Option("auto", "--unit", help="persons (one row per victim of the "
                             "designated link run), records, or auto (persons when linked)."),
    data_dir: Path = DataDir,
    as_json: bool = JsonOption,
) -> None:
    """Write the case records in an exchange layout, with the mapping report (values that
    had no equivalent in the layout are counted, never silently dropped)."""
    with handle_errors(as_json):
        from tiplab.engine import connect
        from tiplab.errors import ConfigError
        from tiplab.privacy import layouts
        from tiplab.privacy.release import NEVER_RELEASED

        if fmt not in ("ctdc", "htcds"):
            raise ConfigError(f"--format {fmt!r}: use ctdc or htcds")
        kind = out.suffix.lstrip(".").lower()
        if kind not in ("csv", "parquet", "json"):
            raise ConfigError(f"--out {out}: give a .csv, .parquet or .json file")
        if unit not in ("auto", "persons", "records"):
            raise ConfigError(f"--unit {unit!r}: use persons, records or auto")
        engine = connect(data_dir, unit=unit)
        cases = engine.cases
        keep = [c for c in cases.columns if c not in NEVER_RELEASED or c == "source_agency"]
        table = engine.to_arrow(cases.select(*keep))
        if fmt == "ctdc":
            result = layouts.to_ctdc(table, data_version=engine.data_version)
        else:
            result = layouts.to_htcds(table, include_organisation=True,
                                      data_version=engine.data_version)
        path = layouts.write(result, out, format=kind)  # type: ignore[arg-type]
        unmapped = {r.source: r.unmapped for r in result.report if r.unmapped}
        if as_json:
            emit_json({"out": str(path), "format": fmt, "rows": result.table.num_rows,
                       "columns": result.table.num_columns, "unit": engine.unit_info(),
                       "data_version": engine.data_version, "unmapped": unmapped,
                       "no_source": list(result.no_source),
                       "not_exported": list(result.not_exported)})
            return
        console.print(f"wrote {path}: {result.table.num_rows:,} rows × "
                      f"{result.table.num_columns} {fmt.upper()} columns "
                      f"(data version {engine.data_version})", markup=False)
        for source, n in unmapped.items():
            console.print(f"  {source}: {n:,} value(s) with no {fmt.upper()} equivalent "
                          "(mapped to other/missing)", markup=False)


def register(app: typer.Typer) -> None:
    app.command("export")(export_cmd)
