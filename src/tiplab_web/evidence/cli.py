"""``tiplab notes import`` and ``tiplab code suggest|train|evaluate``: qualitative evidence
from the command line, acting as a named user whose role must allow each step (the same
rules as the web pages). A web-layer plug-in (entry point ``tiplab.commands``)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Annotated, Any

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors
from tiplab_web.core.cli import acting_user as _user
from tiplab_web.core.cli import setup_django as _django

notes_app = typer.Typer(help="Interview notes: import them (sealed at rest).",
                        no_args_is_help=True)
code_app = typer.Typer(help="Assisted coding: suggestions, the classifier, agreement.",
                       no_args_is_help=True)

AsOption = Annotated[str, typer.Option(
    "--as", "--by", help="Username of the person acting (audited).")]

CSV_COLUMNS = ("title", "text", "source_type", "interview_date", "region", "language",
               "exploitation_form", "consent_analysis", "consent_quote")
_TRUE = {"1", "true", "yes", "y", "on"}
_FALSE = {"0", "false", "no", "n", "off", ""}


def _flag(value: str, where: str) -> bool:
    from tiplab.errors import TiplabError

    v = (value or "").strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise TiplabError(f"{where}: {value!r} is not yes/no")


def _date(value: str, where: str) -> dt.date | None:
    from tiplab.errors import TiplabError

    if not (value or "").strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise TiplabError(f"{where}: {value!r} is not a date (YYYY-MM-DD)") from None


def _csv_rows(path: Path, data: bytes, defaults: dict[str, Any]) -> list[tuple[str, Any, str]]:
    from tiplab.errors import TiplabError
    from tiplab_web.evidence import services

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise TiplabError(f"{path}: not UTF-8 text (byte {e.start}); save it as UTF-8") from e
    reader = csv.DictReader(io.StringIO(text))
    missing = {"title", "text"} - set(reader.fieldnames or ())
    if missing:
        raise TiplabError(f"{path}: missing column(s) {', '.join(sorted(missing))}; the columns "
                          f"are {', '.join(CSV_COLUMNS)}")
    out = []
    for i, row in enumerate(reader, start=2):
        where = f"{path}, line {i}"
        meta = services.NoteInput(
            title=(row.get("title") or "").strip(),
            source_type=(row.get("source_type") or defaults["source_type"]).strip(),
            interview_date=_date(row.get("interview_date") or "", where) or defaults["date"],
            region=(row.get("region") or defaults["region"]).strip(),
            language=(row.get("language") or defaults["language"]).strip(),
            exploitation_form=(row.get("exploitation_form") or defaults["form"]).strip(),
            consent_analysis=_flag(row["consent_analysis"], where)
            if row.get("consent_analysis") not in (None, "") else defaults["consent_analysis"],
            consent_quote=_flag(row["consent_quote"], where)
            if row.get("consent_quote") not in (None, "") else defaults["consent_quote"],
            file_name=path.name, file_kind="csv")
        out.append((row.get("text") or "", meta, where))
    if not out:
        raise TiplabError(f"{path}: no notes (only a header)")
    return out


@notes_app.command("import")
def import_notes(
    files: Annotated[list[Path], typer.Argument(help="TXT, DOCX or PDF files, or a CSV of "
                                                "notes (columns: " + ", ".join(CSV_COLUMNS)
                                                + ").")],
    as_user: AsOption,
    source_type: Annotated[str, typer.Option(
        "--source-type", help="survivor, ngo, community, law_enforcement, judiciary or "
        "other (a CSV's source_type column wins).")] = "",
    region: Annotated[str, typer.Option("--region", help="A region code.")] = "",
    date: Annotated[str, typer.Option("--date", help="Interview date, YYYY-MM-DD.")] = "",
    language: Annotated[str, typer.Option("--language", help="Language code (default: "
                                                              "detected).")] = "",
    form: Annotated[str, typer.Option("--form", help="Form of exploitation (HTCDS code, "
                                                      "e.g. ForcedLabour).")] = "",
    consent_analysis: Annotated[bool, typer.Option(
        "--consent-analysis/--no-consent-analysis",
        help="The people interviewed agreed to use in analysis.")] = False,
    consent_quote: Annotated[bool, typer.Option(
        "--consent-quote/--no-consent-quote", help="... and to quotation (redacted).")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Import notes: every file is read and checked first; nothing is stored unless all are."""
    with handle_errors(as_json):
        _django()
        from django.db import transaction

        from tiplab.errors import TiplabError
        from tiplab.qualitative.extract import extract
        from tiplab_web.evidence import services

        user = _user(as_user, "evidence.manage")
        defaults = {"source_type": source_type, "region": region, "language": language,
                    "form": form, "date": _date(date, "--date"),
                    "consent_analysis": consent_analysis, "consent_quote": consent_quote}
        pending: list[tuple[str, services.NoteInput, str]] = []
        for path in files:
            try:
                data = path.read_bytes()
            except OSError as e:
                raise TiplabError(f"{path}: cannot read ({e.strerror})") from e
            if path.suffix.lower() == ".csv":
                pending += _csv_rows(path, data, defaults)
                continue
            got = extract(data, path.name)
            pending.append((got.text, services.NoteInput(
                title=path.stem, source_type=source_type, interview_date=defaults["date"],
                region=region, language=language, exploitation_form=form,
                consent_analysis=consent_analysis, consent_quote=consent_quote,
                file_name=path.name, file_kind=got.kind), str(path)))
        for text, meta, where in pending:  # check everything before storing anything
            try:
                services.clean_text(text)
                services.check_input(meta)
            except TiplabError as e:
                raise TiplabError(f"{where}: {e}") from e
        with transaction.atomic():
            notes = [services.create_note(user, text, meta) for text, meta, _w in pending]
        rows = [{"id": n.pk, "title": n.title, "source_type": n.source_type,
                 "language": n.language, "supported": n.language_supported,
                 "characters": n.text_length, "file": n.source_file_name,
                 "redacted": n.redaction_counts} for n in notes]
        if as_json:
            emit_json({"imported": len(rows), "notes": rows})
            return
        for r in rows:
            extra = "" if r["supported"] else "  (assisted coding off: code it by hand)"
            console.print(f"{r['id']:>5}  {r['title']}  [{r['language'] or '?'}]{extra}",
                          markup=False)
        console.print(f"imported {len(rows)} notes (sealed)", markup=False)


@code_app.command("suggest")
def suggest(
    as_user: AsOption,
    note: Annotated[list[int] | None, typer.Option("--note", help="A note id (repeat).")]
    = None,
    all_notes: Annotated[bool, typer.Option("--all", help="Every note nobody coded yet.")]
    = False,
    as_json: bool = JsonOption,
) -> None:
    """Compute the model's suggestions (pending until a person accepts or rejects them)."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab_web.core.access import organisation_of
        from tiplab_web.evidence import assist, services

        user = _user(as_user, "evidence.code")
        if bool(note) == all_notes:
            raise TiplabError("give --note ID (one or more) or --all")
        if all_notes:
            notes = list(assist.uncoded(organisation_of(user)).order_by("pk"))
        else:
            qs = services.notes_for(user)
            notes = []
            for pk in note or []:
                found = qs.filter(pk=pk).first()
                if found is None:
                    raise TiplabError(f"--note {pk}: no such note in your organisation")
                notes.append(found)
        result = assist.suggest_notes(user, notes)
        result["model_available"] = assist.model_available()
        if as_json:
            emit_json(result)
            return
        console.print(f"{result['suggestions']} suggestions for {result['notes']} notes "
                      f"(method {result['method']})", markup=False)
        for s in result["skipped"]:
            console.print(f"  note {s['note']} skipped: {s['reason']}", markup=False)


@code_app.command("train")
def train(as_user: AsOption,
          seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
          as_json: bool = JsonOption) -> None:
    """Train the classifier from the human codes of finished notes (needs the model)."""
    with handle_errors(as_json):
        _django()
        from tiplab_web.evidence import assist

        user = _user(as_user, "evidence.manage")
        row = assist.train_classifier(user, seed=seed)
        out = {"classifier": row.number, "examples": row.n_examples,
               "positives": row.positives, "held_out": row.agreement}
        if as_json:
            emit_json(out)
            return
        console.print(f"classifier {row.number}: {row.n_examples} sentences", markup=False)


@code_app.command("evaluate")
def evaluate(as_user: AsOption, as_json: bool = JsonOption) -> None:
    """Agreement of the model with the human codes per code, and κ between human coders."""
    with handle_errors(as_json):
        _django()
        from tiplab_web.core.access import organisation_of
        from tiplab_web.evidence import assist, services

        user = _user(as_user, "evidence.view")
        org = organisation_of(user)
        clf = assist.latest_classifier(org)
        data, kappas = services.agreement(org)
        out: dict[str, Any] = {
            "model_available": assist.model_available(),
            "classifier": None if clf is None else {
                "number": clf.number, "examples": clf.n_examples, "held_out": clf.agreement},
            "suggestions": assist.model_agreement(org),
            "coders": {"notes": data.notes, "units": len(data.units), "coders": data.coders,
                       "per_code": [{"code": r.code, "method": r.method, "units": r.units,
                                     "coders": r.coders, "positive": r.positive,
                                     "observed": r.observed, "expected": r.expected,
                                     "kappa": r.kappa, "label": r.label} for r in kappas]}}
        if as_json:
            emit_json(out)
            return
        console.print(f"between coders: {data.notes} notes, {len(data.units)} sentences",
                      markup=False)
        for r in kappas:
            k = "-" if r.kappa is None else f"{r.kappa:.3f}"
            console.print(f"  {r.code:<20} {r.method:<7} κ {k:<7} {r.label}", markup=False)
        if clf is not None:
            console.print(f"classifier {clf.number} (held out: "
                          f"{clf.agreement.get('method')})", markup=False)
            for code, m in (clf.agreement.get("per_code") or {}).items():
                console.print(f"  {code:<20} precision {m['precision']} recall {m['recall']} "
                              f"κ {m['kappa']}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(notes_app, name="notes")
    app.add_typer(code_app, name="code")
