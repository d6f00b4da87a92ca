"""Commands: import, rejects, batches, snapshot, profile (infer | check | list | show)."""

from __future__ import annotations

import csv
import getpass
import json
from pathlib import Path

import typer

from tiplab.cli._common import console, emit_json, err_console, handle_errors

DataDir = typer.Option(None, "--data-dir", envvar="TIPLAB_DATA_DIR",
                       help="Data directory (SQLite system of record, snapshot, keys). "
                            "Default ./tiplab-data.")

profile_app = typer.Typer(help="Mapping profiles: draft, check, list and show them.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.command("import")(import_cmd)
    app.command("rejects")(rejects_cmd)
    app.command("batches")(batches_cmd)
    app.command("snapshot")(snapshot_cmd)
    app.add_typer(profile_app, name="profile")


def import_cmd(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="The agency's export."),
    profile: str = typer.Option(..., "--profile", "-p",
                                help="A shipped profile name or a path to a .yaml profile."),
    source: str = typer.Option(None, "--source", "-s",
                               help="The reporting agency (default: the profile's)."),
    supersede: str = typer.Option(None, "--supersede",
                                  help="Replace this earlier batch of the same source."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Validate only; store nothing."),
    user: str = typer.Option(None, "--user", help="Who imports (default: the OS user)."),
    data_dir: Path = DataDir,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Import FILE as one batch: every row accepted or rejected with a reason, atomically."""
    from tiplab.store import open_store, run_import

    with handle_errors(as_json):
        store = open_store(data_dir)
        batch, prepared = run_import(store, file, profile, source,
                                     user=user or getpass.getuser(), supersede=supersede,
                                     dry_run=dry_run)
        summary = prepared.summary()
        out = {"batch_id": batch.batch_id if batch else None,
               "rows": summary["rows"], "accepted": summary["accepted"],
               "rejected": summary["rejected"], "warnings": summary["warnings"],
               "sha256": summary["sha256"], "reasons": summary["reasons"],
               "censored": summary["censored"], "profile": summary["profile"],
               "source": summary["source"], "schema_version": summary["schema_version"],
               "data_version": batch.data_version if batch else None,
               "supersedes": supersede, "dry_run": dry_run}
        if as_json:
            emit_json(out)
            return
        from rich.table import Table

        title = "Dry run (nothing stored)" if dry_run else f"Imported batch {out['batch_id']}"
        t = Table(title=title, show_header=False)
        for k in ("rows", "accepted", "rejected", "warnings", "censored", "source", "profile",
                  "sha256", "data_version"):
            t.add_row(k, str(out[k]))
        console.print(t)
        if out["reasons"]:
            r = Table(title="Rows per reason")
            r.add_column("reason")
            r.add_column("rows", justify="right")
            for code, n in out["reasons"].items():
                r.add_row(code, str(n))
            console.print(r)
        if out["rejected"] and batch:
            console.print(f"Rejected rows: tiplab rejects {batch.batch_id} --out rejects.csv")


def rejects_cmd(
    batch_id: str = typer.Argument(..., help="The batch whose rejected rows to export."),
    out: Path = typer.Option(..., "--out", "-o", help="CSV file to write."),
    with_identifiers: bool = typer.Option(
        False, "--with-identifiers",
        help="Unseal identifier columns (needs the key directory; for data stewards)."),
    data_dir: Path = DataDir,
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Write a batch's rejected rows, as read, with a column of reasons, to a CSV file."""
    from tiplab.config import key_dir
    from tiplab.keys import load_keyring
    from tiplab.records.protect import unseal_raw_row
    from tiplab.store import open_store

    with handle_errors(as_json):
        store = open_store(data_dir)
        batch = store.get_batch(batch_id)
        table = store.rejects(batch_id)
        raws = [json.loads(x) for x in table.column("raw").to_pylist()]
        if with_identifiers:
            sealed = dict(store.sealed_rejects(batch_id))  # type: ignore[attr-defined]
            keyring = load_keyring(key_dir(store.data_dir))
            for i, row in enumerate(table.column("row").to_pylist()):
                blob = sealed.get(row)
                if blob:
                    raws[i] = json.loads(unseal_raw_row(blob, keyring, batch.sha256, row))
        columns: list[str] = []
        for r in raws:
            for k in r:
                if k not in columns:
                    columns.append(k)
        reasons = [json.loads(x) for x in table.column("reasons").to_pylist()]
        with out.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["row", *columns, "reason_codes", "reasons"])
            for row, raw, rs in zip(table.column("row").to_pylist(), raws, reasons,
                                    strict=True):
                w.writerow([row, *[raw.get(c) for c in columns],
                            ";".join(r["code"] for r in rs),
                            " | ".join(r["message"] for r in rs)])
        if as_json:
            emit_json({"batch_id": batch_id, "rejected": table.num_rows, "out": str(out)})
        else:
            console.print(f"{table.num_rows} rejected rows of {batch_id} written to {out}")


def batches_cmd(data_dir: Path = DataDir,
                as_json: bool = typer.Option(False, "--json")) -> None:
    """List import batches, newest first."""
    from tiplab.store import open_store

    with handle_errors(as_json):
        batches = open_store(data_dir).list_batches()
        if as_json:
            emit_json({"batches": [b.to_dict() for b in batches]})
            return
        from rich.table import Table

        t = Table(title="Import batches")
        for c in ("batch", "kind", "source", "file", "rows", "accepted", "rejected", "status",
                  "imported"):
            t.add_column(c)
        for b in batches:
            t.add_row(b.batch_id, b.kind, b.source_agency, b.file_name, str(b.rows),
                      str(b.accepted), str(b.rejected), b.status,
                      f"{b.imported_at:%Y-%m-%d %H:%M} by {b.imported_by}")
        console.print(t)


def snapshot_cmd(rebuild: bool = typer.Option(False, "--rebuild",
                                              help="Rewrite every batch file from the store."),
                 data_dir: Path = DataDir,
                 as_json: bool = typer.Option(False, "--json")) -> None:
    """Show (or repair) the analytics snapshot and its data version."""
    from tiplab.snapshot import open_snapshot, snapshot_dir
    from tiplab.store import open_store, refresh_snapshot

    with handle_errors(as_json):
        store = open_store(data_dir)
        if rebuild:
            for f in (snapshot_dir(store.data_dir) / "batches").glob("*.parquet"):
                f.unlink()
        version = refresh_snapshot(store)
        snap = open_snapshot(store.data_dir)
        info = {"data_version": version, "case_records": snap.rows("case"),
                "aggregate_records": snap.rows("aggregate"), "batches": len(snap.batches),
                "path": str(snap.root)}
        if as_json:
            emit_json(info)
        else:
            for k, v in info.items():
                console.print(f"{k}: {v}")


@profile_app.command("infer")
def profile_infer(file: Path = typer.Argument(..., exists=True, dir_okay=False),
                  name: str = typer.Option(None, "--name", help="Profile name."),
                  out: Path = typer.Option(None, "--out", "-o",
                                           help="Write the draft here (default: print).")
                  ) -> None:
    """Draft a profile from FILE's headers and values, for the analyst to finish."""
    from tiplab.ingest.infer import infer_profile

    with handle_errors():
        text = infer_profile(file, name)
        if out:
            out.write_text(text, encoding="utf-8")
            err_console.print(f"draft profile written to {out}; check it, then "
                              f"'tiplab profile check {out}'")
        else:
            typer.echo(text, nl=False)


@profile_app.command("check")
def profile_check(profile: str = typer.Argument(..., help="Path or shipped name."),
                  file: Path = typer.Option(None, "--file", exists=True,
                                            help="Also validate this file (nothing stored)."),
                  as_json: bool = typer.Option(False, "--json")) -> None:
    """Check a profile; with --file, show what an import would accept and reject."""
    from tiplab.ingest import load_profile, prepare_import

    with handle_errors(as_json):
        prof = load_profile(profile)
        result: dict[str, object] = {"profile": prof.profile, "kind": prof.kind, "ok": True,
                                     "fields": sorted(prof.fields)}
        if file is not None:
            prepared = prepare_import(file, prof, prof.source_agency or "check")
            result["validation"] = prepared.summary()
            result["first_issues"] = prepared.result.issues.slice(0, 20).to_pylist()
        if as_json:
            emit_json(result)
        else:
            console.print(f"profile {prof.profile!r} ({prof.kind}) is valid; fields: "
                          f"{', '.join(sorted(prof.fields))}")
            if file is not None:
                console.print_json(json.dumps(result["validation"]))
                for issue in result["first_issues"]:  # type: ignore[attr-defined]
                    console.print(f"  {issue['code']}: {issue['message']}", highlight=False)


@profile_app.command("list")
def profile_list(as_json: bool = typer.Option(False, "--json")) -> None:
    """List the profiles shipped with tiplab."""
    from tiplab.ingest import builtin_profiles, parse_profile

    items = []
    for name, text in sorted(builtin_profiles().items()):
        p = parse_profile(text, path=name)
        items.append({"name": name, "kind": p.kind, "description": p.description.strip()})
    if as_json:
        emit_json({"profiles": items})
    else:
        for i in items:
            console.print(f"[bold]{i['name']}[/] ({i['kind']}): {i['description']}")


@profile_app.command("show")
def profile_show(name: str) -> None:
    """Print a shipped profile's YAML."""
    from tiplab.ingest import builtin_profiles

    shipped = builtin_profiles()
    if name not in shipped:
        err_console.print(f"no shipped profile {name!r}; try 'tiplab profile list'")
        raise typer.Exit(2)
    typer.echo(shipped[name], nl=False)
