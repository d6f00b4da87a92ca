"""``tiplab scorecard PLAN``: a plan's scorecard from the platform's database (the approved
values of its reporting rounds and the indicators tiplab computes), as a table or ``--json``.
A web-layer plug-in of the command line (entry point ``tiplab.commands``), acting as a named
user whose role must allow it."""

from __future__ import annotations

from typing import Annotated

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors
from tiplab_web.core.cli import acting_user as _user
from tiplab_web.core.cli import setup_django as _django


def scorecard(
    plan: Annotated[str, typer.Argument(help="The plan's id, e.g. xt-nap-2025.")],
    by: Annotated[str, typer.Option("--by", help="Username of the person asking.")],
    year: Annotated[int | None, typer.Option("--year", help="The year rated (default: this "
                                             "year, within the plan's period).")] = None,
    as_json: bool = JsonOption,
) -> None:
    """Is each measure on track? The rules are in docs/monitoring.md."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab.policy.scorecard import STATUSES
        from tiplab_web.core.access import organisation_of
        from tiplab_web.evaluation import services
        from tiplab_web.plans.models import Plan

        user = _user(by, "evaluation.view")
        found = Plan.objects.filter(organisation=organisation_of(user), ident=plan).first()
        if found is None:
            raise TiplabError(f"plan {plan!r}: not found in {by}'s organisation")
        doc = services.current_doc(found)
        if year is not None and not doc.start_year <= year <= doc.end_year:
            raise TiplabError(f"--year {year}: outside the plan's period "
                              f"({doc.start_year}-{doc.end_year})")
        card = services.scorecard(found, year, doc)
        if as_json:
            emit_json(card.to_dict())
            return
        counts = ", ".join(f"{STATUSES[k].lower()} {n}" for k, n in card.counts().items())
        console.print(f"{doc.title} — scorecard {card.year}: {counts}")
        for m in card.measures:
            latest = "; ".join(f"{i.indicator} {i.latest:g} ({i.period})" for i in m.indicators
                               if i.latest is not None)
            console.print(f"  {m.measure:<8} {STATUSES[m.status]:<20} {m.title[:50]}"
                          + (f"  [{latest}]" if latest else ""))


def register(app: typer.Typer) -> None:
    app.command("scorecard")(scorecard)
