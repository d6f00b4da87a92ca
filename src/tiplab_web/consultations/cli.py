"""``tiplab codes`` and ``tiplab consultation``: one-time codes for survivors' and the public's
input, and a consultation's "you said, we did" report and participation figures.

These act on the system of record (the web platform's database), so they live in the web
layer and join the ``tiplab`` command line as a plug-in (entry-point group
``tiplab.commands``; the core never imports the web app). Unlike the file commands they set
Django up — with ``DJANGO_SETTINGS_MODULE`` when set, else the embedded defaults
(``tiplab_web.settings.dev``) — and act as a named user (``--by``), whose role must allow it
and who is recorded in the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors
from tiplab_web.core.cli import ByOption
from tiplab_web.core.cli import acting_user as _user
from tiplab_web.core.cli import setup_django as _django

codes_app = typer.Typer(help="One-time codes for survivors' and the public's anonymous input.",
                        no_args_is_help=True)
consultation_app = typer.Typer(help="Consultations on a plan: report and participation.",
                               no_args_is_help=True)







def _consultation(user: Any, pk: int) -> Any:
    from tiplab.errors import TiplabError
    from tiplab_web.consultations import services

    c = services.visible_to(user).filter(pk=pk).first()
    if c is None:
        raise TiplabError(f"consultation {pk}: not found, or not visible to {user.username}")
    return c


@codes_app.command("issue")
def issue(
    out: Annotated[Path, typer.Option("--out", help="The sheet to print: .pdf or .html; "
                                      ".csv lists the codes one per line.")],
    by: ByOption,
    consultation: Annotated[int | None, typer.Option("--consultation",
                                                     help="Consultation id.")] = None,
    questionnaire: Annotated[str, typer.Option(
        "--questionnaire", help="Questionnaire key, e.g. barriers-to-justice.")] = "",
    n: Annotated[int, typer.Option("--n", help="How many codes (1-1000).")] = 20,
    days: Annotated[int, typer.Option("--days", help="Valid for this many days.")] = 60,
    group: Annotated[str, typer.Option("--group", help="survivor_board or public.")
                     ] = "survivor_board",
    note: Annotated[str, typer.Option("--note", help="Where or when they are handed out "
                                      "(never a person).")] = "",
    base_url: Annotated[str, typer.Option(
        "--base-url", envvar="TIPLAB_PUBLIC_URL",
        help="The platform's public address, for the QR codes.")] = "http://127.0.0.1:8000",
    as_json: bool = JsonOption,
) -> None:
    """Issue one-time codes and write the sheet to print. The codes exist only in that file:
    the database keeps a keyed fingerprint of each."""
    with handle_errors(as_json):
        from tiplab.errors import TiplabError

        suffix = out.suffix.lower()
        if suffix not in (".pdf", ".html", ".csv"):
            raise TiplabError(f"--out {out}: write a .pdf, .html or .csv file")
        _django()
        from django.core.exceptions import ValidationError

        from tiplab.policy.files import write_text_whole
        from tiplab_web.consultations import codes as sheets
        from tiplab_web.consultations import services

        user = _user(by, "voice.issue_codes")
        c = _consultation(user, consultation) if consultation is not None else None
        try:
            batch = services.issue_codes(user, n=n, consultation=c,
                                         questionnaire=questionnaire, days=days, group=group,
                                         note=note)
        except ValidationError as e:
            raise TiplabError(" ".join(e.messages)) from None
        start = base_url.rstrip("/") + "/voice/"
        if suffix == ".pdf":
            data = sheets.sheet_pdf(batch, start)
            tmp = out.with_name(out.name + ".part")
            tmp.write_bytes(data)
            tmp.replace(out)
        elif suffix == ".html":
            write_text_whole(out, sheets.sheet_html(batch, start))
        else:
            write_text_whole(out, "code\n" + "\n".join(batch.codes) + "\n")
        result = {"batch": batch.batch, "codes": len(batch.codes), "out": str(out),
                  "expires_on": batch.expires_on.isoformat(), "group": batch.group,
                  "consultation": c.pk if c else None, "questionnaire": questionnaire or None}
        if as_json:
            emit_json(result)
        else:
            console.print(f"{len(batch.codes)} codes (batch {batch.batch}), valid until "
                          f"{result['expires_on']}, written to {out}. They are not kept "
                          "anywhere else: print or store the file safely.")


@codes_app.command("list")
def list_batches(by: ByOption, as_json: bool = JsonOption) -> None:
    """The batches your organisation issued: how many used, expired, revoked."""
    with handle_errors(as_json):
        _django()
        from tiplab_web.consultations import services
        from tiplab_web.core.access import organisation_of

        user = _user(by, "voice.issue_codes")
        rows = services.batches(organisation_of(user))
        if as_json:
            emit_json({"batches": rows})
            return
        for r in rows:
            console.print(f"{r['batch']}  {r['consultation__title'] or r['questionnaire']}  "
                          f"{r['n']} codes, {r['n_used']} used, {r['n_expired']} expired, "
                          f"{r['n_revoked']} revoked; valid until {r['expires_on']}")


@consultation_app.command("export")
def export(
    consultation: Annotated[int, typer.Argument(help="Consultation id.")],
    out: Annotated[Path, typer.Option("--out", help="The report: .csv, .html or .pdf.")],
    by: ByOption,
    as_json: bool = JsonOption,
) -> None:
    """The "you said, we did" report: every published contribution, its stakeholder group,
    the answer and the plan revision that changed the text."""
    with handle_errors(as_json):
        from tiplab.errors import TiplabError

        suffix = out.suffix.lower()
        if suffix not in (".csv", ".html", ".pdf"):
            raise TiplabError(f"--out {out}: write a .csv, .html or .pdf file")
        _django()
        from tiplab.policy import consultation as core
        from tiplab.policy.files import write_text_whole
        from tiplab_web.audit.services import record
        from tiplab_web.consultations import services

        user = _user(by, "consultations.view")
        c = _consultation(user, consultation)
        rows = services.report_rows(c)
        meta = services.report_meta(c)
        part = services.participation(c)
        if suffix == ".pdf":
            tmp = out.with_name(out.name + ".part")
            tmp.write_bytes(core.report_pdf(meta, rows, part))
            tmp.replace(out)
        elif suffix == ".html":
            write_text_whole(out, core.report_html(meta, rows, part))
        else:
            write_text_whole(out, core.report_csv(rows))
        record(user, "consultations.report", c, format=suffix[1:], via="cli")
        answered = sum(1 for r in rows if r.outcome)
        if as_json:
            emit_json({"consultation": c.pk, "out": str(out), "contributions": len(rows),
                       "answered": answered})
        else:
            console.print(f"{len(rows)} contributions ({answered} answered) written to {out}")


@consultation_app.command("stats")
def stats(
    consultation: Annotated[int, typer.Argument(help="Consultation id.")],
    by: ByOption,
    as_json: bool = JsonOption,
) -> None:
    """Participation by stakeholder group: who was invited, who was heard, who was not."""
    with handle_errors(as_json):
        _django()
        from tiplab.policy import consultation as core
        from tiplab_web.consultations import services

        user = _user(by, "consultations.view")
        c = _consultation(user, consultation)
        data = core.as_dict(services.participation(c))
        if as_json:
            emit_json({"consultation": c.pk, "title": c.title, **data})
            return
        for g in data["groups"]:
            console.print(f"{g['label']}: {len(g['heard'])}/{len(g['invited'])} organisations "
                          f"heard, {g['contributions']} contributions, "
                          f"{g['anonymous_inputs']} anonymous inputs"
                          + (f"; not heard: {', '.join(g['not_heard'])}" if g["not_heard"]
                             else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(codes_app, name="codes")
    app.add_typer(consultation_app, name="consultation")
