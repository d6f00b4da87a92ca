"""``tiplab assess legal``: legal-framework assessment against international standards.

    tiplab assess legal show                      # the instruments
    tiplab assess legal show palermo              # an instrument's items
    tiplab assess legal show gbr.yaml [--previous gbr-2024.yaml]   # scores, gaps, changes
    tiplab assess legal export --instrument palermo --country GBR --out gbr.csv
    tiplab assess legal import gbr.yaml           # validate and keep in the data directory
    tiplab assess legal compare [FILES...] --instrument palermo   # harmonisation
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer
import yaml

from tiplab.cli._common import JsonOption, console, emit_json, handle_errors

assess_app = typer.Typer(help="Assess the response: the legal framework against the "
                              "international standards.", no_args_is_help=True)
legal_app = typer.Typer(help="Legal-framework assessment: instruments, assessments, scores, "
                             "gaps, harmonisation across countries.", no_args_is_help=True)

DataDir = typer.Option(Path("tiplab-data"), "--data-dir", envvar="TIPLAB_DATA_DIR",
                       help="Data directory; assessments are kept under legal/.")


def _library(data_dir: Path) -> Any:
    from tiplab.policy.legal import LegalLibrary

    return LegalLibrary(data_dir)


def _kind(path: Path) -> str:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return "unknown"
    if isinstance(data, dict) and "sections" in data:
        return "instrument"
    if isinstance(data, dict) and "answers" in data:
        return "assessment"
    return "unknown"


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{v:.0f}"


@legal_app.command("show")
def show(target: str = typer.Argument(None, help="An instrument id, an instrument YAML or an "
                                                 "assessment YAML. Nothing: the instruments."),
         previous: Path = typer.Option(None, "--previous", exists=True,
                                       help="An earlier assessment: show what changed."),
         data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Show the instruments, one instrument's items, or an assessment's scores and gaps."""
    from tiplab.policy import legal

    with handle_errors(as_json):
        lib = _library(data_dir)
        known = lib.instruments()
        if target is None:
            rows = [{"id": i.id, "version": i.version, "title": i.title, "builtin": i.builtin,
                     "items": len(i.items),
                     "levels": {lv: sum(1 for x in i.items if x.level == lv)
                                for lv in legal.LEVELS}} for i in known.values()]
            if as_json:
                emit_json({"kind": "legal_instruments", "instruments": rows})
                return
            from rich.table import Table

            t = Table("id", "version", "items", "core", "required", "recommended", "title")
            for r in rows:
                t.add_row(r["id"], str(r["version"]), str(r["items"]),
                          *(str(r["levels"][lv]) for lv in legal.LEVELS), r["title"])
            console.print(t)
            return
        path = Path(target)
        if target in known or (path.exists() and _kind(path) == "instrument"):
            inst = known[target] if target in known else legal.load_instrument(path)
            if as_json:
                emit_json({"kind": "legal_instrument", "digest": inst.digest, **inst.to_dict()})
                return
            console.print(f"{inst.title} ({inst.key}, {len(inst.items)} items)",
                          highlight=False)
            for s in inst.sections:
                console.print(f"\n[bold]{s.title}[/]")
                for i in s.items:
                    console.print(f"  {i.id:<45} {i.level:<12} {i.label}", highlight=False)
            return
        if not path.exists():
            raise legal.LegalError([f"{target!r} is neither an instrument id ("
                                    f"{', '.join(sorted(known))}) nor a file"])
        a = legal.load_assessment(path, known)
        inst = known[a.instrument]
        s = legal.score(inst, a)
        found = legal.gaps(inst, a)
        changed = (legal.changes(inst, legal.load_assessment(previous, known), a)
                   if previous is not None else [])
        if as_json:
            emit_json({"kind": "legal_assessment", "data_version": "legal-sha256:" + a.digest[:12],
                       "parameters": {"instrument": inst.key, "country": a.country,
                                      "date": a.date.isoformat()},
                       "illustrative": a.illustrative, "scores": s.to_dict(),
                       "gaps": [g.to_dict() for g in found],
                       "changes": [vars(c) for c in changed]})
            return
        _print_assessment(inst, a, s, found, changed)


def _print_assessment(inst: Any, a: Any, s: Any, found: list[Any], changed: list[Any]) -> None:
    from rich.table import Table

    from tiplab.policy.legal import country_name

    console.print(f"{country_name(a.country)} ({a.country}) against {inst.title}, "
                  f"{a.date}" + (" — ILLUSTRATIVE" if a.illustrative else ""), highlight=False)
    t = Table("", "score", "assessed", "applicable", "coverage")
    t.add_row("overall (level-weighted)", _pct(s.overall.score), str(s.overall.assessed),
              str(s.overall.applicable), f"{s.overall.coverage:.0%}")
    for lv, v in s.by_level.items():
        t.add_row(lv, _pct(v.score), str(v.assessed), str(v.applicable), f"{v.coverage:.0%}")
    titles = {x.id: x.title for x in inst.sections}
    for sid, v in s.by_section.items():
        t.add_row(f"  {titles[sid]}", _pct(v.score), str(v.assessed), str(v.applicable),
                  f"{v.coverage:.0%}")
    console.print(t)
    if found:
        g = Table("item", "level", "answer", "article", "suggested action", title="Gaps")
        for x in found:
            g.add_row(x.item, x.level, x.answer, x.article, x.action)
        console.print(g)
    if changed:
        c = Table("item", "before", "after", "change", title="Changes since the previous")
        for x in changed:
            c.add_row(x.item, x.before, x.after, x.kind)
        console.print(c)


@legal_app.command("export")
def export(instrument: str = typer.Option(None, "--instrument",
                                          help="Instrument id for a blank template."),
           country: str = typer.Option(None, "--country", help="ISO 3166 code or name."),
           source: Path = typer.Option(None, "--from", exists=True,
                                       help="An assessment YAML to convert."),
           date: str = typer.Option(None, "--date", help="YYYY-MM-DD (default today)."),
           fmt: str = typer.Option("yaml", "--format", help="yaml or csv."),
           out: Path = typer.Option(..., "--out", help="File to write."),
           data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Write a blank assessment template (to fill in, then import), or an assessment as CSV."""
    from tiplab.policy import legal

    with handle_errors(as_json):
        known = _library(data_dir).instruments()
        if fmt not in ("yaml", "csv"):
            raise legal.LegalError([f"--format {fmt!r}: use yaml or csv"])
        if source is not None:
            a = legal.load_assessment(source, known)
            inst = known[a.instrument]
        else:
            if not instrument or instrument not in known:
                raise legal.LegalError([f"--instrument: give one of {', '.join(sorted(known))}"])
            if not country:
                raise legal.LegalError(["--country: give the country the template is for"])
            inst = known[instrument]
            try:
                day = dt.date.fromisoformat(date) if date else None
                a = legal.assessment_template(inst, country, day)
            except ValueError as e:
                raise legal.LegalError([str(e)]) from e
        text = legal.answers_to_csv(inst, a) if fmt == "csv" else a.to_yaml()
        out.write_text(text, encoding="utf-8")
        if as_json:
            emit_json({"kind": "legal_export", "path": str(out), "format": fmt,
                       "instrument": inst.key, "country": a.country, "items": len(inst.items)})
        else:
            console.print(f"wrote {out} ({fmt}, {len(inst.items)} items of {inst.key})",
                          highlight=False)


@legal_app.command("import")
def import_(path: Path = typer.Argument(..., exists=True,
                                        help="An instrument or an assessment (YAML)."),
            replace: bool = typer.Option(False, "--replace",
                                         help="Correct an assessment of the same date."),
            check: bool = typer.Option(False, "--check", help="Validate only; keep nothing."),
            data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Validate an instrument or assessment and keep it in the data directory's library
    (nothing is kept if anything is wrong; every problem is reported with line and field)."""
    from tiplab.policy import legal

    with handle_errors(as_json):
        lib = _library(data_dir)
        kind = _kind(path)
        if kind == "instrument":
            inst = legal.load_instrument(path)
            stored = None if check else lib.add_instrument(inst)
            body: dict[str, Any] = {"kind": "instrument", "id": inst.id,
                                    "version": inst.version, "items": len(inst.items)}
        elif kind == "assessment":
            a = legal.load_assessment(path, lib.instruments())
            stored = None if check else lib.add_assessment(a, replace=replace)
            inst = lib.instruments()[a.instrument]
            body = {"kind": "assessment", "country": a.country, "instrument": inst.key,
                    "date": a.date.isoformat(), "answers": len(a.answers),
                    "score": legal.score(inst, a).overall.score}
        else:
            raise legal.LegalError(["not an instrument (it has no sections) nor an assessment "
                                    "(it has no answers)"], path=str(path))
        body["stored"] = str(stored) if stored else None
        if as_json:
            emit_json(body)
        else:
            what = "checked" if stored is None else f"kept as {stored}"
            console.print(f"{body['kind']} {what}", highlight=False)


@legal_app.command("compare")
def compare(files: list[Path] = typer.Argument(None, help="Assessment YAMLs (default: the "
                                                          "library's, latest per country)."),
            instrument: str = typer.Option("palermo", "--instrument"),
            p3: Path = typer.Option(None, "--p3", exists=True,
                                    help="3P index CSV (policy_index.csv layout). Default: "
                                         "the latest values shipped with tiplab."),
            tip: Path = typer.Option(None, "--tip", exists=True,
                                     help="TIP tiers CSV with ISO codes (tip_tiers_orig.csv "
                                          "layout). Default: the latest shipped."),
            data_dir: Path = DataDir, as_json: bool = JsonOption) -> None:
    """Harmonisation across countries: items x countries, divergent items, the cross-border
    loopholes per pair, and the scores against the 3P index and the US TIP tiers."""
    from tiplab.policy import legal

    with handle_errors(as_json):
        lib = _library(data_dir)
        known = lib.instruments()
        if instrument not in known:
            raise legal.LegalError([f"--instrument: give one of {', '.join(sorted(known))}"])
        found = ([legal.load_assessment(f, known) for f in files] if files
                 else lib.assessments(instrument))
        if len({a.country for a in found}) < 2:
            raise legal.LegalError(["harmonisation compares at least two countries: import "
                                    "assessments (tiplab assess legal import) or name files"])
        ratings = legal.shipped_ratings()
        if p3 is not None:
            ratings["3P index"] = legal.load_p3_index(p3)
        if tip is not None:
            ratings["TIP tier"] = legal.load_tip_tiers(tip)
        h = legal.harmonisation(known[instrument], found, ratings)
        if as_json:
            emit_json(h.to_dict())
            return
        _print_harmonisation(known[instrument], h)


def _print_harmonisation(inst: Any, h: Any) -> None:
    from rich.table import Table

    console.print(f"Harmonisation against {inst.title} ({h.data_version})", highlight=False)
    t = Table("", *h.countries)
    t.add_row("score", *(_pct(h.scores[c].overall.score) for c in h.countries))
    t.add_row("coverage", *(f"{h.scores[c].overall.coverage:.0%}" for c in h.countries))
    t.add_row("assessed on", *(h.dates[c] for c in h.countries))
    console.print(t)
    d = Table("divergent item", *h.countries, title=f"{len(h.divergent)} items where the "
                                                    "countries' laws diverge")
    for item in h.divergent:
        d.add_row(item, *(h.matrix[item][c] for c in h.countries))
    console.print(d)
    for (covers, lacks), holes in h.pair_loopholes().items():
        console.print(f"{covers} covers, {lacks} does not: "
                      + ", ".join(x.item for x in holes), highlight=False)
    for c in h.correlations:
        rho = "-" if c.rho is None else f"{c.rho:+.2f}"
        p = "" if c.p_value is None else f", p = {c.p_value:.2f}"
        console.print(f"Spearman rho with the {c.rating}: {rho} over {c.n} countries{p} "
                      f"({c.reading})", highlight=False)


def register(app: typer.Typer) -> None:
    assess_app.add_typer(legal_app, name="legal")
    app.add_typer(assess_app, name="assess")



