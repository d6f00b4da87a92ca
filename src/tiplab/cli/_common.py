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
        _fail(type(exc).__name__, str(exc), as_json)
    except UnicodeDecodeError as exc:  # a reader that did not say which file: still no trace
        _fail("ReadError", f"an input is not UTF-8 text (byte {exc.start} cannot be read as "
                           f"{exc.encoding}); save it as UTF-8", as_json)


def _fail(kind: str, message: str, as_json: bool) -> None:
    if as_json:
        emit_json({"error": {"type": kind, "message": message}})
    else:
        err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code=2) from None


JsonOption = typer.Option(False, "--json", help="Print one JSON object instead of tables.")

Callback = Callable[..., Any]
