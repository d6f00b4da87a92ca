"""Commands: backup, restore (see docs/operations.md)."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from tiplab.cli._common import console, emit_json, err_console, handle_errors
from tiplab.cli.ingest import DataDir

PASSPHRASE_ENV = "TIPLAB_BACKUP_PASSPHRASE"  # noqa: S105 - the variable's name, not a secret
PassphraseFile = typer.Option(
    None, "--passphrase-file", exists=True, dir_okay=False,
    help=f"A file holding the passphrase that seals the keys (else ${PASSPHRASE_ENV}, else a "
         "prompt).")


def register(app: typer.Typer) -> None:
    app.command("backup")(backup_cmd)
    app.command("restore")(restore_cmd)


def passphrase_source(path: Path | None, *, confirm: bool) -> Callable[[], str]:
    """The passphrase, asked for only when needed: --passphrase-file, the environment, a prompt."""
    from tiplab.errors import BackupError

    def get() -> str:
        if path is not None:
            text = path.read_text(encoding="utf-8").rstrip("\r\n")
            if not text:
                raise BackupError(f"{path} is empty; put the passphrase in it")
            return text
        if os.environ.get(PASSPHRASE_ENV):
            return os.environ[PASSPHRASE_ENV]
        if not sys.stdin.isatty():
            raise BackupError(f"a passphrase is needed and there is no terminal to ask for it: "
                              f"give --passphrase-file FILE or set {PASSPHRASE_ENV}")
        value: str = typer.prompt("Passphrase sealing the keys", hide_input=True,
                                  confirmation_prompt=confirm)
        return value

    return get


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        err_console.print(f"[bold red]WARNING:[/] {w}", highlight=False)


def backup_cmd(
    out: Path = typer.Option(..., "--out", "-o", dir_okay=False,
                             help="The archive to write (e.g. tiplab-2026-12-01.tar.zst)."),
    no_keys: bool = typer.Option(
        False, "--no-keys",
        help="Leave the keys out: the identifiers cannot be recovered from such a backup."),
    force: bool = typer.Option(False, "--force", help="Replace OUT if it exists."),
    passphrase_file: Path = PassphraseFile,
    data_dir: Path = DataDir,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Write one archive of the database, snapshot, run outputs and passphrase-sealed keys.

    The database is copied consistently while the server runs; the keys are sealed with the
    passphrase (Argon2id + AES-256-GCM). See docs/operations.md.
    """
    from tiplab.backup import create_backup
    from tiplab.store import open_store

    with handle_errors(as_json):
        store = open_store(data_dir)
        secret = None if no_keys else passphrase_source(passphrase_file, confirm=True)()
        result = create_backup(store, out, passphrase=secret,  # type: ignore[arg-type]
                               include_keys=not no_keys, force=force, by=getpass.getuser())
        _warn(result.warnings)
        if as_json:
            emit_json(result.to_dict())
            return
        _table(f"Backup written: {result.path}", {
            "bytes": f"{result.bytes:,}", "sha256": result.sha256,
            "data version": result.data_version, "database": result.database["where"],
            "keys": (f"sealed with the passphrase (key id {result.key_id})"
                     if result.keys_included else "NOT INCLUDED"),
            "snapshot files": str(result.snapshot_files),
            "not backed up": "; ".join(f"{k}: {v}" for k, v in result.skipped.items()) or "-",
            "seconds": str(result.seconds)})


def restore_cmd(
    archive: Path = typer.Argument(..., exists=True, dir_okay=False,
                                   help="An archive written by `tiplab backup`."),
    passphrase_file: Path = PassphraseFile,
    data_dir: Path = DataDir,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Restore ARCHIVE into an empty data directory (and empty database): all of it, or nothing.

    On PostgreSQL the database of TIPLAB_DATABASE_URL must be empty. Everything is checked
    against the archive's manifest before it is moved into place. See docs/operations.md.
    """
    from tiplab.backup import restore_backup
    from tiplab.store import open_store

    with handle_errors(as_json):
        result = restore_backup(
            archive, data_dir, passphrase=passphrase_source(passphrase_file, confirm=False),
            open_store=lambda d: open_store(d, migrate=False),
            expect_keys=passphrase_file is not None or bool(os.environ.get(PASSPHRASE_ENV)),
            by=getpass.getuser())
        _warn(result.warnings)
        if as_json:
            emit_json(result.to_dict())
            return
        _table(f"Restored into {result.data_dir}", {
            "archive written": result.archive_created_at,
            "data version": result.data_version, "database": result.database["where"],
            "keys": (f"restored to {result.key_dir} (key id {result.key_id})"
                     if result.keys_restored else "NOT IN THE ARCHIVE"),
            "audit log": f"{result.audit['entries']} entries, chain intact",
            "rows": f"{sum(result.counts.values()):,} in {len(result.counts)} tables",
            "seconds": str(result.seconds)})


def _table(title: str, rows: dict[str, Any]) -> None:
    from rich.table import Table

    t = Table(title=title, show_header=False)
    for k, v in rows.items():
        t.add_row(k, str(v))
    console.print(t)
