"""``tiplab link``, ``tiplab link evaluate``, ``tiplab encode`` and ``tiplab encode-key``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from tiplab.cli._common import console, emit_json, handle_errors

LINK_HELP = """Link records of several agency exports (CSV, Parquet, XLSX) into persons.

  tiplab link FILE... --roles ROLES.yaml --out DIR [--threshold P] [--json]

  tiplab link evaluate DIR --truth TRUTH.csv [--json]   (quality against known truth)

  tiplab link sample DIR --out SAMPLE.csv [--size 200] [--seed 1]   (a stratified sample of
  pairs for reviewers to label: match, non-match or unsure in the label column)

  tiplab link estimate SAMPLE.csv [--json]   (precision and recall with intervals from the
  labelled sample)

  tiplab link --all --out DIR [--data-dir D]   (every active case record in the system of
  record; identifiers are unsealed in memory only and never written to DIR)

With no FILE, the files named in ROLES.yaml (``file:``) are linked. Files written by
``tiplab encode`` are linked on their encodings only.
"""


def _inputs(files: list[Path], roles_path: Path | None) -> list[Any]:
    from tiplab.linkage import LinkageError, LinkInput, RolesFile
    from tiplab.linkage.io import encoding_metadata, read_table

    roles = RolesFile.load(roles_path) if roles_path else None
    if not files:
        if roles is None or not roles.files():
            raise LinkageError(
                "no input files: give FILE arguments, or a --roles file whose "
                "inputs name their 'file:'"
            )
        files = roles.files()
    out = []
    for f in files:
        table = read_table(f)
        if table.num_rows == 0:
            raise LinkageError(f"{f}: no records to link (the file has a header but no rows)")
        meta = encoding_metadata(table)
        spec = None
        name = str(meta.get("source") or f.stem) if meta else f.stem
        if roles is not None:
            try:
                name, spec = roles.for_file(f)
            except LinkageError:
                if meta is None:
                    raise
                name = str(meta.get("source") or f.stem)
        encoded = meta is not None or (spec is not None and spec.encoded)
        if encoded:
            out.append(LinkInput(source=name, table=table, record_id="record_id", encoded=True))
        elif spec is None:
            raise LinkageError(
                f"{f}: clear-text input needs --roles ROLES.yaml to say which "
                "column holds which identifier"
            )
        else:
            try:
                out.append(LinkInput.from_roles(name, spec, table))
            except LinkageError as e:  # say which file, not only which input of the roles
                raise type(e)(f"{f}: {e}") from e
    return out


#: Role -> column of the store's linkage table (``CaseStore.linkage_records``).
#: The store keeps the region of exploitation as a canonical code for every source, so it is
#: compared as the ``region`` role (the export files write it in each agency's own style).
STORE_ROLES = {"first_name": "given_name", "last_name": "family_name", "full_name": "full_name",
               "birth_date": "birth_date", "sex": "sex", "citizenship": "citizenship",
               "phone": "phone", "document_number": "document_number",
               "region": "region_of_exploitation",
               "registration_date": "registration_date", "age": "age",
               "exploitation_form": "exploitation_forms",
               "recruiter_relation": "recruiter_relation",
               "means_of_control": "means_of_control"}
STORE_ATTRIBUTES = {"year": "year", "region_of_exploitation": "region_of_exploitation",
                    "sex": "sex", "age_band": "age_band",
                    "exploitation_form": "exploitation_form"}


def _store_inputs(data_dir: Path | None) -> list[Any]:
    """One LinkInput per source agency from the system of record (identifiers in memory)."""
    import pyarrow.compute as pc

    from tiplab.linkage import LinkageError, LinkInput
    from tiplab.store import open_store

    store = open_store(data_dir)
    loader = getattr(store, "linkage_records", None)
    if loader is None:
        raise LinkageError("this system-of-record store cannot provide records for linkage")
    table = loader(with_identifiers=True)
    if table.num_rows == 0:
        raise LinkageError("the system of record holds no active case records to link")
    inputs = []
    for source in sorted(set(table.column("source_agency").to_pylist())):
        part = table.filter(pc.equal(table.column("source_agency"), source))
        roles = {r: c for r, c in STORE_ROLES.items()
                 if part.column(c).null_count < part.num_rows}
        inputs.append(LinkInput(source=source, table=part, record_id="record_id", roles=roles,
                                date_formats=["%Y-%m-%d"], attributes=dict(STORE_ATTRIBUTES),
                                registration_date_formats=["%Y-%m-%d"]))
    return inputs


def link_command(
    files: list[Path] = typer.Argument(None, help="Input files; or 'evaluate DIR'."),
    roles: Path = typer.Option(None, "--roles", help="ROLES.yaml: column roles per input."),
    out: Path = typer.Option(None, "--out", help="Output directory."),
    threshold: float = typer.Option(
        None, "--threshold", help="Match probability threshold (default: chosen)."
    ),
    engine: str = typer.Option("duckdb", "--engine", help="duckdb (default) or spark."),
    decisions: Path = typer.Option(
        None, "--decisions", help="Review decisions file (CSV/Parquet) to respect."
    ),
    truth: Path = typer.Option(None, "--truth", help="With 'evaluate': truth CSV."),
    size: int = typer.Option(200, "--size", help="With 'sample': pairs to draw (about)."),
    seed: int = typer.Option(1, "--seed", help="With 'sample': random seed."),
    link_all: bool = typer.Option(False, "--all",
                                  help="Link every active case record in the system of record."),
    data_dir: Path = typer.Option(None, "--data-dir", envvar="TIPLAB_DATA_DIR",
                                  help="With --all: the data directory."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    files = list(files or [])
    with handle_errors(as_json):
        from tiplab.linkage import LinkageError

        if files and str(files[0]) == "evaluate":
            if len(files) != 2 or truth is None:
                raise LinkageError("usage: tiplab link evaluate DIR --truth TRUTH.csv [--json]")
            _evaluate(files[1], truth, as_json)
            return
        if files and str(files[0]) == "sample":
            if len(files) != 2 or out is None:
                raise LinkageError(
                    "usage: tiplab link sample DIR --out SAMPLE.csv [--size N] [--seed S]"
                )
            _sample(files[1], out, size, seed, as_json)
            return
        if files and str(files[0]) == "estimate":
            if len(files) != 2:
                raise LinkageError("usage: tiplab link estimate SAMPLE.csv [--json]")
            _estimate(files[1], as_json)
            return
        if out is None:
            raise LinkageError("--out DIR is required (where clusters.csv etc. are written)")
        from tiplab.linkage import LinkSettings, link
        from tiplab.linkage.review import read_decisions

        settings = LinkSettings(engine=engine, threshold=threshold)  # type: ignore[arg-type]
        dec = read_decisions(decisions) if decisions else None
        if link_all:
            if files or roles:
                raise LinkageError("--all links the system of record: give no FILE or --roles")
            inputs = _store_inputs(data_dir)
        else:
            inputs = _inputs(files, roles)
        try:
            result = link(inputs, settings, decisions=dec)
        except LinkageError as e:  # "input 'police': ..." -> which file that is
            message = str(e)
            for i, f in zip(inputs, files or [], strict=False):
                message = message.replace(f"input '{i.source}'", f"{f} (input '{i.source}')")
            if message == str(e) and files:  # about the inputs together: name them
                message = f"linking {', '.join(str(f) for f in files)}: {e}"
            if message == str(e):
                raise
            raise type(e)(message) from e
        result.write(out)
        if as_json:
            emit_json(result.summary())
        else:
            console.print(result.to_text(), highlight=False)
            console.print(f"written to {out}", highlight=False)


def _evaluate(out_dir: Path, truth: Path, as_json: bool) -> None:
    from tiplab.linkage import LinkageError, evaluate_clusters
    from tiplab.linkage.io import read_table

    clusters_path = out_dir / "clusters.csv" if out_dir.is_dir() else out_dir
    if not clusters_path.exists():
        raise LinkageError(
            f"{clusters_path}: not found; give the --out directory of a `tiplab link` run"
        )
    q = evaluate_clusters(read_table(clusters_path), read_table(truth))
    if as_json:
        emit_json(q.to_dict())
    else:
        console.print(q.to_text(), highlight=False)


def _run_files(out_dir: Path) -> tuple[Any, Any]:
    from tiplab.linkage import LinkageError
    from tiplab.linkage.io import read_table

    if not out_dir.is_dir():
        raise LinkageError(
            f"{out_dir}: not a directory; give the --out directory of a `tiplab link` run"
        )
    found = []
    for name in ("clusters", "pairs"):
        path = next(
            (out_dir / f"{name}.{ext}" for ext in ("parquet", "csv")
             if (out_dir / f"{name}.{ext}").exists()),
            None,
        )
        if path is None:
            raise LinkageError(
                f"{out_dir}: no {name}.parquet or {name}.csv; give the --out directory of a "
                "`tiplab link` run"
            )
        found.append(read_table(path))
    return found[0], found[1]


def _sample(out_dir: Path, path: Path, size: int, seed: int, as_json: bool) -> None:
    from tiplab.linkage.sample import draw_sample, sampling_frame

    clusters, pairs = _run_files(out_dir)
    sample = draw_sample(sampling_frame(clusters, pairs), size=size, seed=seed)
    sample.write(path)
    summary = {
        "out": str(path),
        "pairs": sample.pairs.num_rows,
        "seed": seed,
        "strata": [s.__dict__ for s in sample.strata],
    }
    if as_json:
        emit_json(summary)
    else:
        console.print(
            f"{sample.pairs.num_rows} pairs written to {path}; fill the label column (match, "
            f"non-match or unsure), then run `tiplab link estimate {path}`",
            highlight=False,
        )


def _estimate(path: Path, as_json: bool) -> None:
    from tiplab.linkage.sample import estimate_quality, read_sample

    q = estimate_quality(read_sample(path))
    if as_json:
        emit_json(q.to_dict())
    else:
        console.print(q.to_text(), highlight=False)


def encode_command(
    file: Path = typer.Argument(..., help="The agency's clear-text export."),
    roles: Path = typer.Option(..., "--roles", help="ROLES.yaml naming this file's columns."),
    key_file: Path = typer.Option(..., "--key-file", help="The shared secret key file."),
    out: Path = typer.Option(..., "--out", help="Output file (.parquet, or .csv: base64)."),
    bits: int = typer.Option(1024, "--bits", help="Bloom filter length in bits."),
    hashes: int = typer.Option(20, "--hashes", help="Hash functions per q-gram."),
    flip_probability: float = typer.Option(
        0.0, "--flip-probability", help="BLIP bit-flip probability (0 = off)."
    ),
    fold: bool = typer.Option(False, "--fold", help="XOR-fold filters to half length."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Encode identifiers into keyed Bloom filters and hashes (run at the agency)."""
    with handle_errors(as_json):
        from tiplab.linkage import EncodingSettings, LinkInput, RolesFile, encode, load_key
        from tiplab.linkage.encode import write_encoded
        from tiplab.linkage.io import read_table

        spec_file = RolesFile.load(roles)
        name, spec = spec_file.for_file(file)
        es = EncodingSettings(
            bits=bits, hashes=hashes, flip_probability=flip_probability, fold=fold
        )
        table = encode(LinkInput.from_roles(name, spec, read_table(file)), load_key(key_file), es)
        write_encoded(table, out)
        summary = {
            "source": name,
            "records": table.num_rows,
            "out": str(out),
            "columns": table.column_names,
            "settings": es.model_dump(),
        }
        if as_json:
            emit_json(summary)
        else:
            console.print(f"encoded {table.num_rows} records of '{name}' -> {out}", highlight=False)


def encode_key_command(
    key_file: Path = typer.Argument(..., help="Where to write the new key (must not exist)."),
) -> None:
    """Write a new random 256-bit linkage key (readable by its owner only)."""
    with handle_errors(False):
        from tiplab.linkage import LinkageError, generate_key

        if key_file.exists():
            raise LinkageError(f"{key_file}: exists; refusing to overwrite a key")
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(generate_key() + "\n")
        console.print(
            f"new key written to {key_file} (mode 600); share it with the "
            "participating agencies only, never with the central office",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.command("link", help=LINK_HELP)(link_command)
    app.command("encode")(encode_command)
    app.command("encode-key")(encode_key_command)


__all__ = ["json", "register"]
