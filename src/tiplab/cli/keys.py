"""Commands: keys status | rotate | recover | retire (see docs/operations.md)."""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from tiplab.cli._common import console, emit_json, err_console, handle_errors
from tiplab.cli.ingest import DataDir

keys_app = typer.Typer(help="The keys that protect identifiers: status, rotation, retirement.",
                       no_args_is_help=True)
JsonOpt = typer.Option(False, "--json", help="Print one JSON object.")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("status")
def status_cmd(data_dir: Path = DataDir, as_json: bool = JsonOpt) -> None:
    """The current key id, kept previous keys, batches per key id, unfinished rotations."""
    from tiplab.rotation import key_status
    from tiplab.store import open_store

    with handle_errors(as_json):
        status = key_status(open_store(data_dir))  # type: ignore[arg-type]
        if as_json:
            emit_json(status.to_dict())
            return
        console.print(f"key directory: {status.key_dir}")
        console.print(f"current key id: {status.key_id or '(no keys yet)'}")
        console.print(f"kept previous keys: {', '.join(status.kept) or 'none'}")
        for k, n in sorted(status.batches_by_key_id.items()):
            console.print(f"  {n} batch(es) sealed with {k or '(not recorded)'}")
        for p in status.problems:
            err_console.print(f"[bold red]problem:[/] {p}", highlight=False)


@keys_app.command("rotate")
def rotate_cmd(
    retire_old: bool = typer.Option(
        False, "--retire-old",
        help="Delete the previous keys once the rotation has committed (default: keep them "
             "as <name>.<old key id> until `tiplab keys retire`)."),
    user: str = typer.Option(None, "--user", help="Who rotates, for the audit log "
                                                   "(default: the OS user)."),
    data_dir: Path = DataDir,
    as_json: bool = JsonOpt,
) -> None:
    """New keys: every identifier re-sealed, every pseudonym recomputed, in one transaction.

    Audited as keys.rotate. Run it with the web app stopped; take a backup right after.
    """
    from tiplab.rotation import rotate_keys
    from tiplab.store import open_store

    with handle_errors(as_json):
        result = rotate_keys(open_store(data_dir), retire_old=retire_old,  # type: ignore[arg-type]
                             by=user or getpass.getuser())
        if as_json:
            emit_json(result.to_dict())
            return
        if result.recovered:
            console.print(f"an interrupted rotation was {result.recovered} first")
        console.print(f"keys rotated: {result.old_key_id} -> {result.new_key_id}; "
                      f"{result.records:,} records, {result.rejects:,} rejected rows, "
                      f"{result.batches} batches in {result.seconds} s")
        if result.retired:
            console.print(f"previous keys deleted: {', '.join(result.retired)}")
        else:
            console.print(f"previous keys kept in {result.key_dir} as *.{result.old_key_id}; "
                          "take a new backup, then `tiplab keys retire`")


@keys_app.command("recover")
def recover_cmd(data_dir: Path = DataDir, as_json: bool = JsonOpt) -> None:
    """Finish (if it committed) or undo (if not) a rotation that was interrupted."""
    from tiplab.rotation import recover
    from tiplab.store import open_store

    with handle_errors(as_json):
        outcome = recover(open_store(data_dir))  # type: ignore[arg-type]
        if as_json:
            emit_json({"recovered": outcome})
        else:
            console.print(f"interrupted rotation {outcome}" if outcome
                          else "no interrupted rotation")


@keys_app.command("retire")
def retire_cmd(
    key_ids: list[str] = typer.Argument(None, help="Kept key ids to delete (default: all "
                                                   "that no batch uses)."),
    data_dir: Path = DataDir,
    as_json: bool = JsonOpt,
) -> None:
    """Delete previous keys kept after a rotation (refused for keys a batch still uses)."""
    from tiplab.rotation import retire_keys
    from tiplab.store import open_store

    with handle_errors(as_json):
        retired = retire_keys(open_store(data_dir), key_ids or None)  # type: ignore[arg-type]
        if as_json:
            emit_json({"retired": retired})
        else:
            console.print(f"deleted: {', '.join(retired)}" if retired
                          else "no previous keys were kept")
