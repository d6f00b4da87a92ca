"""``tiplab release``, ``tiplab ledger`` and ``tiplab brief``: the release workflow from the
command line. A web-layer plug-in of the command line (entry point ``tiplab.commands``),
acting as a named user whose role must allow each step (the same rules as the web pages:
an analyst prepares, another person — a data steward — approves)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors
from tiplab_web.core.cli import ByOption
from tiplab_web.core.cli import acting_user as _user
from tiplab_web.core.cli import setup_django as _django

release_app = typer.Typer(help="Prepare, check, approve and show releases of statistics.",
                          no_args_is_help=True)

VersionArg = Annotated[str, typer.Argument(
    help="A release version: tiplab:XT-2026-0001.v2, 1/v2, or a release alone (its latest).")]


def _version_dict(v: Any) -> dict[str, Any]:
    return {"release": v.release.identifier, "title": v.release.title, "version": v.number,
            "label": v.label, "status": v.status, "data_version": v.data_version,
            "unit": v.unit, "epsilon": v.epsilon, "prepared_by": v.prepared_by.get_username(),
            "approved_by": v.approved_by.get_username() if v.approved_by else None,
            "approved_at": v.approved_at.isoformat() if v.approved_at else None,
            "citation": v.citation, "content_hash": v.content_hash, "checks": v.checks,
            "figures": v.figures, "changes": v.changes, "error": v.error,
            "items": [{k: i[k] for k in ("key", "kind", "title", "rows", "columns", "files")}
                      | {"epsilon": i["meta"].get("epsilon"), "k": i["meta"].get("k")}
                      for i in v.items]}


def _print_version(v: Any) -> None:
    console.print(f"{v.label}  {v.release.title}  [{v.get_status_display()}]")
    console.print(f"  data version {v.data_version or '-'}; ε {v.epsilon:.3g}; "
                  f"counted: {v.unit.get('unit', '-')}")
    for c in v.checks:
        mark = "ok  " if c["passed"] else "FAIL"
        console.print(f"  {mark} {c['name']}{' (' + c['item'] + ')' if c['item'] else ''}: "
                      f"{c['message']}", markup=False)
    for f in v.figures:
        val = "not published" if f.get("value") is None else f"{f['value']:,.0f}"
        console.print(f"  {f['label']}: {val}", markup=False)
    if v.citation:
        console.print(f"  cite: {v.citation}", markup=False)
    if v.error:
        console.print(f"  error: {v.error}", markup=False)


@release_app.command("prepare")
def prepare(
    by: ByOption,
    title: Annotated[str, typer.Option("--title", help="The release's title (a new release).")]
    = "",
    spec: Annotated[Path | None, typer.Option(
        "--spec", help="A release spec (JSON: title, years, items). Default: the standard "
        "items of the web form.")] = None,
    release: Annotated[str, typer.Option(
        "--release", help="Prepare a new version of this release instead.")] = "",
    years: Annotated[str, typer.Option("--years", help="Period, e.g. 2015-2024 (default: "
                                       "the years in the data).")] = "",
    note: Annotated[str, typer.Option("--note", help="What this version is for.")] = "",
    as_json: bool = JsonOption,
) -> None:
    """Prepare a release version from the current data and run its disclosure checks."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab.privacy import release as core
        from tiplab_web.publications import forms, services

        user = _user(by, "publications.prepare")
        if spec is not None:
            try:
                s = core.ReleaseSpec.from_dict(json.loads(spec.read_text(encoding="utf-8")))
            except (OSError, ValueError) as e:
                raise TiplabError(f"{spec}: cannot read the spec ({e})") from e
        else:
            if years:
                try:
                    lo, hi = (int(x) for x in years.split("-"))
                except ValueError:
                    raise TiplabError(f"--years {years!r}: expected FIRST-LAST, e.g. "
                                      "2015-2024") from None
            else:
                first, last = forms._data_years()
                if first is None or last is None:
                    raise TiplabError("no case data to publish: import some first")
                lo, hi = first, last
            items = tuple(core.ItemSpec(
                key=p["key"], kind=p["kind"], title=str(p["title"]),
                dimensions=tuple(p.get("dimensions", ())), columns=tuple(p.get("columns", ())),
                epsilon=float(p.get("epsilon", 0)),
                      delta=float(p.get("delta", 0))) for p in forms.PRESETS if p["on"])
            s = core.ReleaseSpec(title=title or "Release", items=items, years=(lo, hi))
        try:
            if release:
                rel = services.find_version(release, user).release
            else:
                if not (title or spec):
                    raise TiplabError("give --title for a new release, or --release for a "
                                      "new version of one")
                rel = services.create_release(user, title=title or s.title,
                                              description=s.description)
            v = services.new_version(user, rel, s, note=note, background=False)
        except services.PublicationError as e:
            raise TiplabError(str(e)) from e
        if as_json:
            emit_json(_version_dict(v))
        else:
            _print_version(v)


@release_app.command("check")
def check(version: VersionArg, by: ByOption, as_json: bool = JsonOption) -> None:
    """Run the disclosure checks again (budget and data version as of now, k on the file)."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab_web.publications import services

        user = _user(by, "publications.prepare")
        try:
            v = services.check(user, services.find_version(version, user))
        except services.PublicationError as e:
            raise TiplabError(str(e)) from e
        if as_json:
            emit_json(_version_dict(v))
        else:
            _print_version(v)
        if v.status != "checked":
            raise typer.Exit(1)


@release_app.command("approve")
def approve(version: VersionArg, by: ByOption, as_json: bool = JsonOption) -> None:
    """Approve and publish a checked version, spending its ε from the ledger."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab_web.publications import services

        user = _user(by, "publications.approve")
        try:
            v = services.approve(user, services.find_version(version, user))
        except services.PublicationError as e:
            raise TiplabError(str(e)) from e
        if as_json:
            emit_json(_version_dict(v))
        else:
            _print_version(v)


@release_app.command("show")
def show(by: ByOption,
         version: Annotated[str, typer.Argument(help="A version (default: list releases).")]
         = "", as_json: bool = JsonOption) -> None:
    """Show a version (its checks, figures, citation) or list every release."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab_web.publications import services

        user = _user(by, "publications.view")
        if version:
            try:
                v = services.find_version(version, user)
            except services.PublicationError as e:
                raise TiplabError(str(e)) from e
            if as_json:
                emit_json(_version_dict(v))
            else:
                _print_version(v)
            return
        rows = [{"release": r.identifier, "number": r.number, "title": r.title,
                 "versions": [{"version": v.number, "status": v.status}
                              for v in r.versions.order_by("number")]}
                for r in services.releases_for(user).order_by("number")]
        if as_json:
            emit_json({"releases": rows})
            return
        for r in rows:
            vs = ", ".join(f"v{v['version']} {v['status']}" for v in r["versions"])
            console.print(f"{r['number']:>3}  {r['release']}  {r['title']}  ({vs})", markup=False)


def ledger(by: ByOption, as_json: bool = JsonOption) -> None:
    """The privacy-budget ledger: every release's spend, the total against the cap, and
    whether the hash chain is intact."""
    with handle_errors(as_json):
        _django()
        from tiplab_web.publications import services

        _user(by, "publications.view")
        led = services.ledger()
        spent = services.spent(led)
        entries = [{"seq": e.seq, "release": e.version.label, "item": e.item_key,
                    "query": e.query, "mechanism": e.mechanism, "unit": e.unit,
                    "epsilon": e.epsilon, "delta": e.delta, "rho": e.rho,
                    "data_version": e.data_version, "approved_by": e.approved_by.get_username(),
                    "created_at": e.created_at.isoformat(), "hash": e.hash}
                   for e in led.entries.select_related("version__release", "approved_by")]
        problems = services.verify_ledger(led)
        if as_json:
            emit_json({"dataset": led.dataset, "epsilon_cap": led.epsilon_cap,
                       "delta_cap": led.delta_cap, "spent": spent, "entries": entries,
                       "chain_intact": not problems, "problems": problems})
        else:
            console.print(f"{led.title}: ε {spent['epsilon']:.3g} of {led.epsilon_cap:g} spent "
                          f"({spent['epsilon_left']:.3g} left); chain "
                          f"{'intact' if not problems else 'BROKEN'}", markup=False)
            for e in entries:
                console.print(f"  #{e['seq']:<3} {e['release']:<28} {e['item']:<22} "
                              f"ε {e['epsilon']:<6.3g} {e['mechanism']:<18} {e['approved_by']}",
                              markup=False)
            for p in problems:
                console.print(f"  problem: {p}", markup=False)
        if problems:
            raise typer.Exit(1)


def brief(
    release: Annotated[str, typer.Option("--release", help="A published version.")],
    out: Annotated[Path, typer.Option("--out", help="brief.pdf, brief.docx or brief.html.")],
    by: ByOption,
    kind: Annotated[str, typer.Option("--kind", help="brief (4 pages) or annual.")] = "brief",
    as_json: bool = JsonOption,
) -> None:
    """Render the evidence brief (or annual report) of a published version: its latest saved
    narrative, or the default one."""
    with handle_errors(as_json):
        _django()
        from tiplab.errors import TiplabError
        from tiplab_web.publications import briefs, services
        from tiplab_web.publications.models import Brief

        user = _user(by, "publications.view")
        fmt = out.suffix.lstrip(".").lower()
        if fmt not in ("pdf", "docx", "html"):
            raise TiplabError(f"--out {out}: give a .pdf, .docx or .html file")
        if kind not in Brief.Kind.values:
            raise TiplabError(f"--kind {kind!r}: use brief or annual")
        try:
            v = services.find_version(release, user)
        except services.PublicationError as e:
            raise TiplabError(str(e)) from e
        b = Brief.objects.filter(version=v, kind=kind).order_by("-updated_at").first()
        if b is None:
            b = briefs.create(user, v, kind=kind)
        data = briefs.render(b, fmt)
        out.write_bytes(data)
        from tiplab_web.audit.services import record

        record(user, "publications.brief_render", b, format=fmt, via="cli")
        if as_json:
            emit_json({"out": str(out), "bytes": len(data), "release": v.label,
                       "data_version": v.data_version, "kind": kind})
        else:
            console.print(f"wrote {out} ({len(data):,} bytes) from {v.label}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(release_app, name="release")
    app.command("ledger")(ledger)
    app.command("brief")(brief)
