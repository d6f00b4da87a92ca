"""``tiplab screen``: flag free texts (case narratives, advertisements) for ILO indicators."""

from __future__ import annotations

from pathlib import Path

import typer

from tiplab.cli._common import JsonOption, console, emit_json, err_console, handle_errors


def screen_cmd(
    file: Path = typer.Argument(..., help="A UTF-8 CSV file with a header row."),
    out: Path = typer.Option(..., "--out", help="The flags CSV to write (whole or not at all)."),
    id_column: str = typer.Option("id", "--id-column",
                                  help="Column with each text's id; 'a+b' joins two columns "
                                       "(source_agency+record_id for the simulator's "
                                       "narratives.csv)."),
    text_column: str = typer.Option("text", "--text-column", help="Column with the text."),
    threshold: float = typer.Option(0.5, "--threshold",
                                    help="Flag a code at or above this confidence (0-1]."),
    method: str = typer.Option("auto", "--method",
                               help="auto (the classifier when given, else zero-shot), "
                                    "zero-shot, classifier or keywords (cue phrases only)."),
    classifier: Path | None = typer.Option(None, "--classifier",
                                           help="A trained classifier (JSON), trained on the "
                                                "same codebook."),
    codes: str = typer.Option("forced_labour", "--codes",
                              help="Which codes of the shipped codebook: a group "
                                   "(forced_labour, operational, vulnerability, recruitment, "
                                   "barriers, service_gaps) or 'all'."),
    unit: str = typer.Option("text", "--unit",
                             help="text: embed each text once (first ~90 words); sentences: "
                                  "score each sentence, slower."),
    as_json: bool = JsonOption,
) -> None:
    """Screen the texts of FILE and write flags.csv: id, flagged, codes, top_code, score, one
    confidence column per code, method. A flag asks a person to read the text; it is not a
    finding. Without the embedded model, cue phrases are used (and said)."""
    with handle_errors(as_json):
        from tiplab.qualitative.codebook import GROUPS, default_codebook
        from tiplab.qualitative.embed import ModelUnavailable, default_embedder
        from tiplab.qualitative.evaluate import restrict
        from tiplab.qualitative.screen import ScreenError, screen_csv
        from tiplab.qualitative.suggest import (
            METHODS,
            Suggester,
            SuggestError,
            SuggestSettings,
            TrainedClassifier,
        )

        if method not in METHODS:
            raise SuggestError(f"--method {method!r}: use one of {', '.join(METHODS)}")
        if codes != "all" and codes not in GROUPS:
            raise ScreenError(f"--codes {codes!r}: use 'all' or one of {', '.join(GROUPS)}")
        cb = default_codebook()
        if codes != "all":
            cb = restrict(cb, group=codes)
        notes: list[str] = []
        embedder = None
        if method != "keywords":
            try:
                embedder = default_embedder()
            except ModelUnavailable as e:
                notes.append(f"the embedded model is not installed, so the texts were "
                             f"screened with the codebook's cue phrases only ({e})")
                method = "keywords"
        clf = None
        if classifier is not None and embedder is not None:
            try:
                clf = TrainedClassifier.from_json(classifier.read_text(encoding="utf-8"))
            except OSError as e:
                raise ScreenError(f"{classifier}: cannot read the classifier ({e})") from e
        suggester = Suggester(cb, embedder=embedder, classifier=clf,
                              settings=SuggestSettings(method=method, threshold=threshold))
        for n in notes:
            if not as_json:
                err_console.print(f"[yellow]note:[/] {n}", highlight=False)
        report = screen_csv(file, out, id_column=id_column, text_column=text_column,
                            suggester=suggester, threshold=threshold, unit=unit)
        data = report.as_dict()
        data["notes"] = notes + data["notes"]
        data["out"] = str(out)
        if as_json:
            emit_json(data)
            return
        console.print(f"screened {report.texts} texts with {report.method} "
                      f"({len(suggester.codes)} codes, threshold {report.threshold}) in "
                      f"{report.seconds:.1f} s: {report.flagged} flagged; wrote {out}",
                      highlight=False)
        if report.by_code:
            labels = {c.key: c.label for c in cb.codes}
            for code, count in report.by_code.items():
                console.print(f"  {code:<6} {labels.get(code, ''):<40} {count}",
                              highlight=False)
        if report.rejected:
            console.print(f"{len(report.rejected)} rows rejected:", highlight=False)
            for r in report.rejected[:20]:
                console.print(f"  row {r['row']} ({r['id'] or 'no id'}): {r['reason']}",
                              highlight=False)
            if len(report.rejected) > 20:
                console.print(f"  ... and {len(report.rejected) - 20} more (see --json)",
                              highlight=False)


def register(app: typer.Typer) -> None:
    app.command("screen")(screen_cmd)
