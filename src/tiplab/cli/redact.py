"""``tiplab redact``: mask names, phone numbers, places and other identifying details."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from tiplab.cli._common import JsonOption, emit_json, handle_errors


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def redact_cmd(
    file: str = typer.Argument(..., help="A UTF-8 text file, or - to read standard input."),
    names: str = typer.Option(None, "--names", help="Extra names to mask, comma-separated."),
    places: str = typer.Option(None, "--places",
                               help="Extra places to mask (e.g. the country's regions), "
                                    "comma-separated."),
    kinds: str = typer.Option(None, "--kinds",
                              help="Only these kinds, comma-separated: name, phone, email, "
                                   "address, place, document, date, account, url, handle."),
    language: str = typer.Option(None, "--language", help="en, fr or es, when known."),
    as_json: bool = JsonOption,
) -> None:
    """Print FILE with names, phone numbers, places, addresses, documents, dates, accounts,
    e-mails, URLs and handles replaced by [NAME], [PHONE], ... (or JSON with the findings)."""
    with handle_errors(as_json):
        from tiplab.errors import ReadError
        from tiplab.privacy.redact import redact

        if file == "-":
            text = sys.stdin.read()
        else:
            path = Path(file)
            try:
                text = path.read_text(encoding="utf-8")
            except FileNotFoundError as exc:
                raise ReadError(f"{path}: no such file") from exc
            except IsADirectoryError as exc:
                raise ReadError(f"{path}: is a folder, give a text file") from exc
            except UnicodeDecodeError as exc:
                raise ReadError(f"{path}: not UTF-8 text (byte {exc.start}); save it as "
                                f"UTF-8") from exc
        result = redact(text, names=_split(names), places=_split(places),
                        kinds=_split(kinds) or None, language=language)
        if as_json:
            emit_json({"text": result.text, "counts": result.counts(),
                       "findings": [{"start": f.start, "end": f.end, "kind": f.kind,
                                     "text": f.text, "source": f.source}
                                    for f in result.findings]})
        else:
            sys.stdout.write(result.text if result.text.endswith("\n") else result.text + "\n")


def register(app: typer.Typer) -> None:
    app.command("redact")(redact_cmd)
