"""``tiplab round``: open a reporting round, show its completeness, import an agency's filled-in
template — the same operations as the web pages, on the system of record.

A plug-in of the ``tiplab`` command line (entry-point group ``tiplab.commands``; the core
never imports the web app). It sets Django up — with ``DJANGO_SETTINGS_MODULE`` when set, else
``tiplab_web.settings.dev`` — and acts as a named user (``--by``), whose role must allow it
and who is recorded in the audit log. ``round status`` without ``--by`` is the operator's
read of the database (whoever runs it already holds the database).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors
from tiplab_web.core.cli import ByOption
from tiplab_web.core.cli import acting_user as _user
from tiplab_web.core.cli import setup_django as _django

round_app = typer.Typer(help="Reporting rounds: agencies' indicator values for a period.",
                        no_args_is_help=True)







def _date(text: str, option: str) -> dt.date:
    from tiplab.errors import TiplabError

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise TiplabError(f"{option} {text}: write a date as YYYY-MM-DD") from None


def _refused(e: Exception) -> Exception:
    from tiplab.errors import TiplabError

    return TiplabError(" ".join(getattr(e, "messages", [str(e)])))


@round_app.command("open")
def open_round(
    plan: Annotated[str, typer.Argument(help="The plan's short id (e.g. xt-nap-2025).")],
    period: Annotated[str, typer.Option("--period", help="A year (2026) or a quarter "
                                        "(2026-Q1).")],
    deadline: Annotated[str, typer.Option("--deadline", help="YYYY-MM-DD.")],
    by: ByOption,
    opens: Annotated[str, typer.Option("--opens", help="Opening day, YYYY-MM-DD (default: "
                                       "today).")] = "",
    as_json: bool = JsonOption,
) -> None:
    """Open a round: one form per organisation that leads a measure with indicators."""
    with handle_errors(as_json):
        from tiplab.errors import TiplabError

        due = _date(deadline, "--deadline")
        start = _date(opens, "--opens") if opens else None
        _django()
        from django.core.exceptions import ValidationError

        from tiplab_web.core.access import organisation_of
        from tiplab_web.monitoring import services
        from tiplab_web.plans.models import Plan

        user = _user(by, "monitoring.manage")
        found = Plan.objects.filter(organisation=organisation_of(user), ident=plan).first()
        if found is None:
            raise TiplabError(f"plan {plan}: not found among {by}'s organisation's plans")
        try:
            rnd = services.open_round(user, found, period=period, deadline=due, opens_on=start)
        except ValidationError as e:
            raise _refused(e) from None
        forms = [{"form": f.pk, "organisation": f.organisation.name,
                  "indicators": [i.key for i in f.items.all()]}
                 for f in rnd.forms.select_related("organisation").prefetch_related("items")]
        result = {"round": rnd.pk, "plan": found.ident, "period": rnd.period,
                  "opens_on": rnd.opens_on.isoformat(), "deadline": rnd.deadline.isoformat(),
                  "forms": forms,
                  "unmatched_leads": [{"measure": m, "lead": lead}
                                      for m, lead in services.unmatched_leads(found)]}
        if as_json:
            emit_json(result)
            return
        console.print(f"Round {rnd.pk} ({rnd.period}) opened on {found.ident}, due "
                      f"{rnd.deadline}: {len(forms)} agencies owe values.")
        for f in forms:
            console.print(f"  {f['organisation']}: {', '.join(f['indicators'])}")
        for m, lead in services.unmatched_leads(found):
            console.print(f"  [yellow]measure {m}: lead {lead!r} is no organisation here; "
                          "nobody owes its indicators[/]")


@round_app.command("status")
def status(
    round_id: Annotated[int, typer.Argument(metavar="ROUND", help="Round id.")],
    by: Annotated[str, typer.Option("--by", help="Show only what this user may see.")] = "",
    as_json: bool = JsonOption,
) -> None:
    """Completeness and timeliness: forms expected, submitted, on time, approved, returned,
    and each agency's state."""
    with handle_errors(as_json):
        from tiplab.errors import TiplabError

        _django()
        from tiplab_web.monitoring import services
        from tiplab_web.monitoring.models import Round

        qs = Round.objects.all()
        if by:
            qs = services.rounds_for(_user(by, "monitoring.view"))
        rnd = qs.select_related("plan").filter(pk=round_id).first()
        if rnd is None:
            raise TiplabError(f"round {round_id}: not found" + (f", or not visible to {by}"
                                                                 if by else ""))
        c = services.completeness(rnd)
        data = {"round": rnd.pk, "plan": rnd.plan.ident, "period": rnd.period,
                "deadline": rnd.deadline.isoformat(), "closed": rnd.is_closed, **c.as_dict()}
        if as_json:
            emit_json(data)
            return
        pct = (f"{c.completeness:.0f}% complete, {c.timeliness:.0f}% on time"
               if c.expected else "no form expected")
        console.print(f"Round {rnd.pk}: {rnd.plan.ident} {rnd.period}, due {rnd.deadline}"
                      f"{' (closed)' if rnd.is_closed else ''}: {c.submitted}/{c.expected} "
                      f"submitted, {c.on_time} on time, {c.approved} approved, {c.returned} "
                      f"returned ({pct})")
        for a in data["agencies"]:
            late = f", {a['days_late']} days late" if a["days_late"] else ""
            console.print(f"  {a['organisation']:<32} {a['state']}{late}")


@round_app.command("import")
def import_template(
    round_id: Annotated[int, typer.Argument(metavar="ROUND", help="Round id.")],
    file: Annotated[Path, typer.Argument(help="The filled-in template (.csv or .xlsx).")],
    by: ByOption,
    submit: Annotated[bool, typer.Option("--submit", help="Submit the form after the "
                                         "import.")] = False,
    as_json: bool = JsonOption,
) -> None:
    """Import a filled-in template into the acting user's organisation's form (all or
    nothing, as a draft; ``--submit`` submits it too)."""
    with handle_errors(as_json):
        from tiplab.errors import TiplabError

        if not file.is_file():
            raise TiplabError(f"{file}: no such file")
        data = file.read_bytes()
        _django()
        from django.core.exceptions import ValidationError

        from tiplab_web.core.access import organisation_of
        from tiplab_web.monitoring import services, sheets
        from tiplab_web.monitoring.models import AgencyForm

        user = _user(by, "indicators.submit")
        form = AgencyForm.objects.select_related("round", "round__plan", "organisation").filter(
            round_id=round_id, organisation=organisation_of(user)).first()
        if form is None:
            raise TiplabError(f"round {round_id}: not found, or {by}'s organisation owes "
                              "nothing in it")
        try:
            changed = sheets.upload(user, form, file.name, data, via="cli")
            if submit:
                form = services.submit(user, form, via="cli")
        except ValidationError as e:
            raise _refused(e) from None
        form.refresh_from_db()
        result = {"round": round_id, "form": form.pk, "organisation": form.organisation.name,
                  "changed": changed, "status": form.status, "version": form.version}
        if as_json:
            emit_json(result)
        else:
            console.print(f"{file.name}: {changed} values changed on {form.organisation.name}'s "
                          f"form ({form.get_status_display()}).")


def register(app: typer.Typer) -> None:
    app.add_typer(round_app, name="round")
