"""``tiplab indicators``: the National Action Plan indicator library and its computed values.

    tiplab indicators list [--pillar protection] [--json]
    tiplab indicators show PROT-01 [--json]
    tiplab indicators compute [--data-dir D | FILES...] [--years 2018-2024] [--by sex] [--json]

``compute`` reads the analytics snapshot of the data directory (counting persons when a link
run is designated, see ``--unit``) or CSV/Parquet files of case records (columns named as the
case schema; list columns such as ``exploitation_forms`` in CSV separated by ``;`` or ``|``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors

indicators_app = typer.Typer(help="National Action Plan indicators: the library, how each is "
                                  "obtained, and the computed ones for a data version.",
                             no_args_is_help=True)

DataDir = typer.Option(None, "--data-dir", envvar="TIPLAB_DATA_DIR",
                       help="Data directory with the snapshot. Default ./tiplab-data.")


def register(app: typer.Typer) -> None:
    app.add_typer(indicators_app, name="indicators")


def _row(ind: Any) -> dict[str, Any]:
    from tiplab.policy.indicators import how_obtained

    ob = how_obtained(ind.id)
    return {"id": ind.id, "name": ind.name, "pillar": ind.pillar, "unit": ind.unit,
            "direction": ind.direction, "obtained": ob.how, "from": ob.source or None}


@indicators_app.command("list")
def list_cmd(pillar: str = typer.Option(None, "--pillar",
                                        help="prevention, protection, prosecution or "
                                             "partnership."),
             as_json: bool = JsonOption) -> None:
    """Every indicator: id, name, unit, direction and how it is obtained (computed from case
    records / aggregates / an estimate, submitted by an agency, or from a survey)."""
    with handle_errors(as_json):
        from tiplab.policy.indicators import IndicatorError, extra_indicators, library

        lib = library()
        items = [*lib.indicators.values(), *extra_indicators().values()]
        if pillar is not None:
            pillars = sorted({i.pillar for i in items})
            if pillar not in pillars:
                raise IndicatorError(f"unknown pillar {pillar!r}; use one of "
                                     f"{', '.join(pillars)}")
            items = [i for i in items if i.pillar == pillar]
        rows = [_row(i) for i in items]
        if as_json:
            emit_json({"indicators": rows})
            return
        from rich.table import Table

        t = Table()
        for c in ("id", "name", "unit", "direction", "obtained"):
            t.add_column(c)
        for r in rows:
            how = r["obtained"] + (f" ({r['from'].replace('_', ' ')})" if r["from"] else "")
            t.add_row(r["id"], r["name"], r["unit"], r["direction"], how)
        console.print(t)
        n = sum(r["obtained"] == "computed" for r in rows)
        console.print(f"{len(rows)} indicators, {n} computed by tiplab", highlight=False)


@indicators_app.command("show")
def show_cmd(indicator: str = typer.Argument(..., help="An indicator id, e.g. PROT-01."),
             as_json: bool = JsonOption) -> None:
    """One indicator: its definition and, when computed, the formula and disaggregations."""
    with handle_errors(as_json):
        from rich.markup import escape

        from tiplab.policy.indicators import find, how_obtained

        ind = find(indicator)
        ob = how_obtained(ind.id)
        body = {**ind.to_dict(), "obtained": ob.to_dict()}
        if as_json:
            emit_json(body)
            return
        console.print(f"[bold]{ind.id}[/] {escape(ind.name)} ({ind.pillar})", highlight=False)
        for key in ("definition", "unit", "direction", "data_source", "frequency", "source"):
            if body.get(key):
                console.print(f"  {key}: {body[key]}", highlight=False, markup=False)
        if ind.disaggregation:
            console.print(f"  disaggregation: {', '.join(ind.disaggregation)}",
                          highlight=False, markup=False)
        console.print(f"  obtained: {ob.describe()}", highlight=False, markup=False)
        if ob.computation is not None:
            c = ob.computation
            console.print(f"  formula: {c.formula}", highlight=False, markup=False)
            console.print(f"  computed by: {', '.join(c.disaggregations) or 'total only'}",
                          highlight=False, markup=False)
            if c.note:
                console.print(f"  note: {c.note}", highlight=False, markup=False)


def _estimates(items: list[str]) -> dict[int, float]:
    from tiplab.policy.indicators import IndicatorError

    out: dict[int, float] = {}
    for item in items:
        year, sep, value = item.partition("=")
        try:
            out[int(year)] = float(value.replace(",", ""))
        except ValueError:
            raise IndicatorError(f"--estimate {item!r}: write YEAR=TOTAL, e.g. "
                                 "--estimate 2023=5400") from None
        if not sep:
            raise IndicatorError(f"--estimate {item!r}: write YEAR=TOTAL")
    return out


@indicators_app.command("compute")
def compute_cmd(
    files: list[Path] = typer.Argument(None, help="CSV or Parquet files of case records "
                                                  "(default: the data directory's snapshot)."),
    years: str = typer.Option(None, "--years", help="e.g. 2018-2024 or 2019,2021 "
                                                    "(default: every year of the data)."),
    by: list[str] = typer.Option([], "--by", help="Disaggregate by sex, age_group, age_band, "
                                                  "exploitation_form, citizenship or region "
                                                  "(repeatable or comma-separated)."),
    indicator: list[str] = typer.Option([], "--indicator", "-i",
                                        help="Only these ids (repeatable; default: every "
                                             "computed indicator)."),
    aggregates: Path = typer.Option(None, "--aggregates", exists=True,
                                    help="Aggregate statistics (CSV or Parquet with the "
                                         "aggregate schema's columns), with FILES."),
    country: str = typer.Option(None, "--country",
                                help="ISO3 code of the aggregate cells to use when they "
                                     "cover several countries."),
    estimate: list[str] = typer.Option([], "--estimate",
                                       help="Estimated total victims YEAR=N (repeatable), "
                                            "from the estimate of record: the detection gap "
                                            "rate."),
    unit: str = typer.Option("auto", "--unit",
                             help="Snapshot: count persons (of the designated link run), "
                                  "records, or auto (persons when a run is designated)."),
    data_dir: Path = DataDir, as_json: bool = JsonOption,
) -> None:
    """Compute the computable indicators per year (and per category with --by) for the current
    data version; each value with numerator, denominator and the count behind it, flagged
    'small' under the disclosure threshold; indicators that cannot be computed say why."""
    with handle_errors(as_json):
        from tiplab.policy.indicators import IndicatorError, compute, parse_years

        yrs = parse_years(years) if years else None
        est = _estimates(estimate)
        kwargs: dict[str, Any] = {"indicators": indicator or None, "years": yrs,
                                  "by": by or None, "estimates": est or None,
                                  "country": country}
        if files:
            if unit == "persons":
                raise IndicatorError("--unit persons needs the snapshot's designated link "
                                     "run; files are counted in records")
            table = read_case_files(files)
            agg = read_table_files([aggregates]) if aggregates is not None else None
            result = compute(table, aggregates=agg,
                             data_version=files_version([*files, *([aggregates]
                                                                   if aggregates else [])]),
                             **kwargs)
        else:
            if aggregates is not None:
                raise IndicatorError("--aggregates goes with FILES; the snapshot's own "
                                     "aggregate statistics are used otherwise")
            from tiplab.engine import connect

            result = compute(connect(data_dir, unit=unit), **kwargs)
        if as_json:
            emit_json(result.to_dict())
        else:
            console.print(result.to_text(), highlight=False, markup=False)


def files_version(files: list[Path]) -> str:
    """``files-sha256:<12 hex>`` of the files' contents (the data version of a file run)."""
    h = hashlib.sha256()
    for f in sorted(files, key=str):
        h.update(f.read_bytes())
    return "files-sha256:" + h.hexdigest()[:12]


def read_table_files(files: list[Path]) -> Any:
    """CSV/Parquet files -> one Arrow table (columns matched by name)."""
    import pyarrow as pa

    from tiplab.duck import cursor
    from tiplab.errors import ReadError

    tables = []
    for f in files:
        if not f.exists():
            raise ReadError(f"{f}: no such file")
        suffix = f.suffix.lower()
        if suffix not in (".csv", ".parquet", ".pq"):
            raise ReadError(f"{f}: read CSV (.csv) or Parquet (.parquet) files")
        reader = "read_parquet" if suffix != ".csv" else "read_csv_auto"
        con = cursor()
        try:
            path = "'" + str(f).replace("'", "''") + "'"
            tables.append(con.sql(f"SELECT * FROM {reader}({path})").to_arrow_table())
        except Exception as e:  # DuckDB raises its own error types per reader
            raise ReadError(f"{f}: cannot be read ({e})") from e
        finally:
            con.close()
    return pa.concat_tables(tables, promote_options="permissive")


def read_case_files(files: list[Path]) -> Any:
    """Case-record files -> an Arrow table with the schema's types for the columns the
    indicators read (dates, whole numbers, list columns); a value that cannot be read stops
    the run with the column and the number of such values."""
    import pyarrow as pa

    from tiplab.duck import cursor
    from tiplab.errors import ReadError
    from tiplab.records.schema import CASE_SCHEMA

    table = read_table_files(files)
    where = ", ".join(str(f) for f in files)
    casts: list[str] = []
    checks: list[tuple[str, str]] = []
    for fld in CASE_SCHEMA.fields:
        if fld.name not in table.column_names:
            continue
        typ = table.schema.field(fld.name).type
        q = '"' + fld.name.replace('"', '""') + '"'
        if fld.type == "date" and not pa.types.is_date(typ):
            casts.append(f"TRY_CAST({q} AS DATE) AS {q}")
            checks.append((fld.name, f"count(*) FILTER ({q} IS NOT NULL AND "
                                     f"TRY_CAST({q} AS DATE) IS NULL)"))
        elif fld.type == "integer" and not pa.types.is_integer(typ):
            casts.append(f"TRY_CAST({q} AS BIGINT) AS {q}")
            checks.append((fld.name, f"count(*) FILTER ({q} IS NOT NULL AND "
                                     f"TRY_CAST({q} AS BIGINT) IS NULL)"))
        elif fld.multi and not pa.types.is_list(typ):
            casts.append(f"list_filter(string_split_regex(trim(CAST({q} AS VARCHAR)), "
                         f"'\\s*[;|]\\s*'), lambda x: x <> '') AS {q}")
    if not casts:
        return table
    con = cursor()
    try:
        con.register("case_files", table)
        if checks:
            bad = con.execute("SELECT " + ", ".join(c for _, c in checks)
                              + " FROM case_files").fetchone() or ()
            for (name, _), k in zip(checks, bad, strict=True):
                if k:
                    kind = "date (YYYY-MM-DD)" if CASE_SCHEMA[name].type == "date" \
                        else "whole number"
                    raise ReadError(f"{where}: {k} value(s) of column {name} are not a "
                                    f"{kind}; correct them and run again")
        out: pa.Table = con.sql(f"SELECT * REPLACE ({', '.join(casts)}) "
                                "FROM case_files").to_arrow_table()
    finally:
        con.close()
    return out
