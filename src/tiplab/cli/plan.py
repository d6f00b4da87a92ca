"""``tiplab plan``: the National Action Plan as a file — create, show, compare, export, import.

    tiplab plan new nap-2025 --title "NAP 2025-2028" --country "Utopia" --period 2025-2028
    tiplab plan show nap-2025                  # or a YAML/JSON file
    tiplab plan diff nap-2025@1 nap-2025       # or two files
    tiplab plan export nap-2025 --format pdf --out nap.pdf   # yaml, json, html, pdf, docx, csv
    tiplab plan import nap.yaml                # validate and keep as a new revision
    tiplab plan status nap-2025 adopted        # lifecycle: draft, consultation, adopted, ...
    tiplab plan new-version nap-2025           # the next version's draft, from an adopted one
    tiplab plan demo --out demo-plan.yaml      # the demo plan

Plans are kept under ``<data dir>/plans/`` (every save a new revision); a PLAN argument is a
plan id (``ID`` for its latest revision, ``ID@N`` for revision N) or a YAML/JSON file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors

plan_app = typer.Typer(help="National Action Plans: objectives, measures, budgets, indicators "
                            "and the evidence they cite; versions and documents.",
                       no_args_is_help=True)

DataDir = typer.Option(Path("tiplab-data"), "--data-dir", envvar="TIPLAB_DATA_DIR",
                       help="Data directory; plans are kept under plans/.")
FORMATS = ("yaml", "json", "html", "pdf", "docx", "csv")


def _library(data_dir: Path) -> Any:
    from tiplab.policy.plan import PlanLibrary

    return PlanLibrary(data_dir)


def _resolve(ref: str, data_dir: Path) -> Any:
    """A plan file, or ``ID`` / ``ID@N`` in the data directory's library."""
    from tiplab.policy.plan import PlanError, load_plan

    path = Path(ref)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        if not path.exists():
            raise PlanError([f"no such file: {ref}"])
        return load_plan(path)
    plan_id, _, rev = ref.partition("@")
    if rev and not rev.isdigit():
        raise PlanError([f"{ref!r}: a revision is a number, e.g. {plan_id}@2"])
    return _library(data_dir).load(plan_id, int(rev) if rev else None)


def _money(x: float, currency: str) -> str:
    return f"{x:,.0f} {currency}"


@plan_app.command("new")
def new(plan_id: str = typer.Argument(..., help="The plan's id (letters, digits, . _ -)."),
        title: str = typer.Option(..., "--title"),
        country: str = typer.Option(..., "--country", help="Country or region."),
        period: str = typer.Option(..., "--period", help="First and last year, e.g. 2025-2028."),
        currency: str = typer.Option("EUR", "--currency", help="ISO 4217 code."),
        pillars: str = typer.Option("4p", "--pillars",
                                    help="4p, 3p, or your pillars' titles separated by commas."),
        out: Path = typer.Option(None, "--out", help="Write the file here instead of keeping "
                                                     "it in the data directory."),
        data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Start a plan: its pillars, period and currency (objectives and measures are added in the
    file or on the web)."""
    from tiplab.policy.plan import PlanError, dump_plan, new_plan

    with handle_errors(as_json):
        first, sep, last = period.partition("-")
        if not sep or not first.strip().isdigit() or not last.strip().isdigit():
            raise PlanError([f"--period {period!r}: give the first and last year, e.g. "
                             "2025-2028"])
        plan = new_plan(plan_id, title, country, int(first), int(last), currency=currency,
                        pillars=pillars)
        if out is not None:
            out.write_text(dump_plan(plan, "json" if out.suffix == ".json" else "yaml"),
                           encoding="utf-8")
            where: dict[str, Any] = {"file": str(out)}
        else:
            if _library(data_dir).revisions(plan.id):
                raise PlanError([f"a plan {plan.id!r} already exists in {data_dir}; choose "
                                 "another id"])
            where = _library(data_dir).save(plan, comment="created").to_dict()
        if as_json:
            emit_json({"plan": plan.to_dict(), "stored": where})
        else:
            console.print(f"plan {plan.id} created: {where.get('file')}", highlight=False)


@plan_app.command("show")
def show(plan_ref: str = typer.Argument(..., metavar="PLAN", help="ID, ID@N or a file."),
         data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """The plan's outline, budget by pillar, year and source, and its evidence."""
    from tiplab.policy.plan import MEASURE_STATUSES, PLAN_STATUSES, budget_summary, logframe

    with handle_errors(as_json):
        plan = _resolve(plan_ref, data_dir)
        budget = budget_summary(plan)
        if as_json:
            emit_json({"plan": plan.to_dict(), "budget": budget, "logframe": logframe(plan),
                       "hash": plan.content_hash()})
            return
        console.print(f"[bold]{plan.title}[/bold] ({plan.country}, {plan.start_year}-"
                      f"{plan.end_year}) — {PLAN_STATUSES[plan.status]}, version "
                      f"{plan.version}", highlight=False)
        for p in plan.pillars:
            console.print(f"\n[bold]{p.title}[/bold]", highlight=False)
            for o in (o for o in plan.objectives if o.pillar == p.id):
                console.print(f"  {o.id} {o.title}", highlight=False)
                for m in o.measures:
                    ev = f", {len(m.evidence)} citation(s)" if m.evidence else ""
                    console.print(f"    {m.id} {m.title} — {m.lead or 'no lead'}; "
                                  f"{_money(m.budget_total(plan.currency), plan.currency)}; "
                                  f"{MEASURE_STATUSES[m.status].lower()}{ev}",
                                  highlight=False)
        console.print(f"\nBudget: {_money(budget['total'], plan.currency)}", highlight=False)
        for row in budget["by_pillar"]:
            console.print(f"  {row['title']:<14} {_money(row['amount'], plan.currency):>18} "
                          f"{row['share']:6.1%}", highlight=False)
        for row in budget["by_year"]:
            console.print(f"  {row['year']:<14} {_money(row['amount'], plan.currency):>18}",
                          highlight=False)
        for row in budget["by_source"]:
            console.print(f"  {row['title']:<20} {_money(row['amount'], plan.currency):>12}",
                          highlight=False)


@plan_app.command("diff")
def diff_(old: str = typer.Argument(..., help="ID@N or a file."),
          new: str = typer.Argument(..., help="ID, ID@N or a file."),
          data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """What changed between two versions: measures added, removed and changed (field by
    field), budget and target changes, and the narrative line by line."""
    from tiplab.policy.plan import diff

    with handle_errors(as_json):
        d = diff(_resolve(old, data_dir), _resolve(new, data_dir))
        if as_json:
            emit_json(d.to_dict())
            return
        console.print(f"{d.old} -> {d.new}", highlight=False)
        if d.empty:
            console.print("no changes", highlight=False)
        for h in d.header:
            console.print(f"  {h['field']}: {h['old']!r} -> {h['new']!r}", highlight=False)
        for m in d.measures_added:
            console.print(f"  + {m['measure']} {m['title']} ({m['objective']})",
                          highlight=False)
        for m in d.measures_removed:
            console.print(f"  - {m['measure']} {m['title']} ({m['objective']})",
                          highlight=False)
        for m in d.measures_changed:
            fields = ", ".join(f["field"] for f in m["fields"])
            console.print(f"  ~ {m['measure']} {m['title']}: {fields}", highlight=False)
        for b in d.budget:
            console.print(f"    budget {b['measure']} {b['year']} {b['source']}: "
                          f"{b['old']} -> {b['new']}", highlight=False)
        for t in d.targets:
            console.print(f"    target {t['measure']} {t['indicator']} {t['year']}: "
                          f"{t['old']} -> {t['new']}", highlight=False)
        for line in d.narrative:
            console.print(f"    {line}", highlight=False, markup=False)


@plan_app.command("export")
def export(plan_ref: str = typer.Argument(..., metavar="PLAN", help="ID, ID@N or a file."),
           fmt: str = typer.Option("yaml", "--format", help="yaml, json, html, pdf, docx, or "
                                                            "csv (the logframe)."),
           out: Path = typer.Option(None, "--out", help="File to write (default: standard "
                                                        "output for text formats)."),
           data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """The plan as a file to share: YAML/JSON (re-importable), HTML, PDF or Word with the
    table of contents, logframe, budget summary and the evidence cited; or the logframe as CSV."""
    from tiplab.policy import documents
    from tiplab.policy.plan import PlanError, dump_plan

    with handle_errors(as_json):
        if fmt not in FORMATS:
            raise PlanError([f"--format {fmt!r}: one of " + ", ".join(FORMATS)])
        plan = _resolve(plan_ref, data_dir)
        body: str | bytes
        if fmt in ("yaml", "json"):
            body = dump_plan(plan, fmt)
        elif fmt == "csv":
            body = documents.logframe_csv(plan)
        elif fmt == "html":
            body = documents.plan_html(plan)
        elif fmt == "pdf":
            body = documents.plan_pdf(plan)
        else:
            body = documents.plan_docx(plan)
        if out is None:
            if isinstance(body, bytes):
                raise PlanError([f"--format {fmt} is binary: give --out FILE"])
            typer.echo(body, nl=False)
            return
        if isinstance(body, bytes):
            out.write_bytes(body)
        else:
            out.write_text(body, encoding="utf-8")
        if as_json:
            emit_json({"file": str(out), "format": fmt, "bytes": out.stat().st_size})
        else:
            console.print(f"wrote {out} ({out.stat().st_size:,} bytes)", highlight=False)


@plan_app.command("import")
def import_(path: Path = typer.Argument(..., exists=True, help="A plan (YAML or JSON)."),
            check: bool = typer.Option(False, "--check", help="Validate only; keep nothing."),
            author: str = typer.Option("", "--author", help="Who made this revision."),
            comment: str = typer.Option("", "--comment", help="Why (kept in the log)."),
            data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Validate a plan file whole (every problem with its line and field) and keep it as the
    plan's next revision. An adopted version is never changed."""
    from tiplab.policy.plan import load_plan

    with handle_errors(as_json):
        plan = load_plan(path)
        rev = None if check else _library(data_dir).save(plan, author=author, comment=comment)
        body = {"plan": plan.id, "version": plan.version, "status": plan.status,
                "measures": sum(1 for _ in plan.measures()),
                "stored": rev.to_dict() if rev else None}
        if as_json:
            emit_json(body)
        else:
            what = "valid" if rev is None else f"kept as revision {rev.number}"
            console.print(f"plan {plan.id} v{plan.version}: {what}", highlight=False)


@plan_app.command("status")
def status(plan_id: str = typer.Argument(...),
           to: str = typer.Argument(..., help="consultation, adopted, review, revised, "
                                              "superseded or draft."),
           author: str = typer.Option("", "--author"),
           data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Move the plan along its lifecycle (draft -> consultation -> adopted -> under review ->
    revised / superseded); the move is a revision of its own."""
    from dataclasses import replace

    from tiplab.policy.plan import check_transition

    with handle_errors(as_json):
        lib = _library(data_dir)
        plan = lib.load(plan_id)
        check_transition(plan.status, to)
        rev = lib.save(replace(plan, status=to), author=author, comment=f"status: {to}")
        if as_json:
            emit_json(rev.to_dict())
        else:
            console.print(f"{plan_id} v{plan.version}: {plan.status} -> {to} (revision "
                          f"{rev.number})", highlight=False)


@plan_app.command("new-version")
def new_version_(plan_id: str = typer.Argument(...), author: str = typer.Option("", "--author"),
                 data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Start the next version's draft from an adopted plan (the adopted one is kept as is)."""
    from tiplab.policy.plan import next_version

    with handle_errors(as_json):
        lib = _library(data_dir)
        plan = next_version(lib.load(plan_id))
        rev = lib.save(plan, author=author, comment=f"version {plan.version} started")
        if as_json:
            emit_json(rev.to_dict())
        else:
            console.print(f"{plan_id}: version {plan.version} draft (revision {rev.number})",
                          highlight=False)


@plan_app.command("demo")
def demo(out: Path = typer.Option(None, "--out", help="Write it here (default: standard "
                                                      "output)."),
         as_json: bool = JsonOption) -> None:
    """The demo plan of the synthetic country (2025-2028), to start from or to try."""
    from tiplab.policy.plan import demo_plan, dump_plan

    with handle_errors(as_json):
        text = dump_plan(demo_plan(), "json" if as_json else "yaml")
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text, encoding="utf-8")


def allocate(plan_ref: str = typer.Argument(..., metavar="PLAN", help="ID, ID@N or a file."),
             scenario: Path = typer.Option(..., "--scenario", exists=True,
                                           help="The scenario (YAML or JSON): costs, effects, "
                                                "budgets and constraints (docs/plans.md)."),
             greedy: bool = typer.Option(False, "--greedy", help="Also run the greedy "
                                                                  "heuristic, to compare."),
             data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Allocate the plan's money with HiGHS: what each measure gets by region, year and
    source, the binding constraints, and what one more unit of money buys where. An
    infeasible scenario names the constraints that conflict."""
    from tiplab.policy import allocation
    from tiplab.policy.funding import problem_document, read_scenario

    with handle_errors(as_json):
        plan = _resolve(plan_ref, data_dir)
        problem = allocation.problem_from_dict(problem_document(plan,
                                                                read_scenario(scenario)))
        result = allocation.solve(problem)
        heuristic = allocation.greedy(problem) if greedy else None
        if as_json:
            emit_json({"allocation": result.to_dict(),
                       "greedy": heuristic.to_dict() if heuristic else None})
            if result.status == "infeasible":
                raise typer.Exit(1)
            return
        console.print(result.message, highlight=False)
        if result.status == "infeasible":
            raise typer.Exit(1)
        console.print(f"expected effect {result.objective:,.2f}; spend "
                      f"{result.total_spend:,.0f} {result.currency}", highlight=False)
        for pillar, amount in result.totals.get("pillar", {}).items():
            console.print(f"  {pillar:<14} {amount:>14,.0f}", highlight=False)
        for m in result.measures:
            console.print(f"  {m.id:<10} {'funded' if m.funded else 'not funded':<11} "
                          f"{m.units:>10,.1f} units {m.money:>14,.0f}", highlight=False)
        if result.binding:
            console.print("binding:", highlight=False)
            for b in result.binding:
                console.print(f"  - {b.description}", highlight=False)
        for sp in result.shadow_prices[:10]:
            console.print(f"  {sp.explanation}", highlight=False)
        if heuristic is not None:
            console.print(f"greedy heuristic: {heuristic.status}, expected effect "
                          f"{heuristic.total_effect:,.2f} ({heuristic.message})",
                          highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(plan_app, name="plan")
    app.command("allocate")(allocate)
