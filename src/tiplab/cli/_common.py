"""Helpers shared by the command modules: JSON output, error reporting, data dir."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.console import Console

from tiplab.errors import TiplabError

console = Console(stderr=False)
err_console = Console(stderr=True)


def emit_json(obj: Any) -> None:
    """Print one JSON object on stdout (the ``--json`` contract)."""
    sys.stdout.write(json.dumps(obj, default=_json_default, ensure_ascii=False) + "\n")


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


@contextmanager
def handle_errors(as_json: bool = False) -> Iterator[None]:
    """Turn a TiplabError into a clear message and exit code 2 (JSON when asked)."""
    try:
        yield
    except TiplabError as exc:
        if as_json:
            emit_json({"error": {"type": type(exc).__name__, "message": str(exc)}})
        else:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise typer.Exit(code=2) from None


JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")

Callback = Callable[..., Any]
