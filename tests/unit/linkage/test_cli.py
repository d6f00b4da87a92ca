"""The command line: link, evaluate, encode, encode-key (files in, files out)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from factories import make_dataset
from typer.testing import CliRunner

from tiplab.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("cli")
    make_dataset(700, seed=31).write(d)
    return d


def test_link_evaluate_and_encoded_round(data_dir: Path, tmp_path: Path) -> None:
    roles = data_dir / "linkage_roles.yaml"
    r = runner.invoke(app, ["link", "--roles", str(roles), "--out", str(tmp_path / "o"), "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.output.strip().splitlines()[-1])
    assert summary["records"] > 1000
    assert summary["persons"] < summary["records"]
    assert {"threshold", "pairs_above_threshold", "timings"} <= set(summary)
    for f in (
        "clusters.csv",
        "pairs.parquet",
        "persons.parquet",
        "model.json",
        "threshold.json",
        "summary.json",
        "review_queue.parquet",
    ):
        assert (tmp_path / "o" / f).exists(), f
    r = runner.invoke(
        app,
        [
            "link",
            "evaluate",
            str(tmp_path / "o"),
            "--truth",
            str(data_dir / "truth" / "records.csv"),
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    q = json.loads(r.output)
    assert q["pairwise_f1"] > 0.9

    key = tmp_path / "round1.key"
    assert runner.invoke(app, ["encode-key", str(key)]).exit_code == 0
    assert oct(key.stat().st_mode)[-3:] == "600"
    assert runner.invoke(app, ["encode-key", str(key)]).exit_code == 2  # never overwrite
    enc = []
    for f in sorted(data_dir.glob("*.csv")) + sorted(data_dir.glob("*.parquet")):
        out = tmp_path / f"{f.stem}.enc.parquet"
        r = runner.invoke(
            app,
            ["encode", str(f), "--roles", str(roles), "--key-file", str(key), "--out", str(out)],
        )
        assert r.exit_code == 0, r.output
        enc.append(str(out))
    r = runner.invoke(app, ["link", *enc, "--out", str(tmp_path / "e"), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["mode"] == "encoded"
    r = runner.invoke(
        app,
        [
            "link",
            "evaluate",
            str(tmp_path / "e"),
            "--truth",
            str(data_dir / "truth" / "records.csv"),
            "--json",
        ],
    )
    assert json.loads(r.output)["pairwise_f1"] > 0.85


def test_errors_are_clear(data_dir: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["link", str(data_dir / "police.csv"), "--out", str(tmp_path), "--json"])
    assert r.exit_code == 2
    assert "needs --roles" in json.loads(r.output)["error"]["message"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs:\n  police:\n    record_id: case_no\n    roles: {shoe_size: x}\n")
    r = runner.invoke(
        app,
        [
            "link",
            str(data_dir / "police.csv"),
            "--roles",
            str(bad),
            "--out",
            str(tmp_path),
            "--json",
        ],
    )
    assert r.exit_code == 2
    assert "unknown role" in json.loads(r.output)["error"]["message"]


def test_roles_file_gazetteer_and_registration_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tiplab.linkage import RolesError, RolesFile

    p = tmp_path / "roles.yaml"
    p.write_text(
        "codes:\n  region: {North Hills: XT-01, Lowlands: XT-02}\n"
        "inputs:\n"
        "  a:\n    record_id: id\n    registration_date_format: '%m/%d/%Y'\n"
        "    roles: {region: loc, registration_date: called, age: age}\n"
        "  b:\n    record_id: id\n    roles: {region: loc}\n"
        "    codes: {region: {North Hills: XT-09}}\n",
        encoding="utf-8",
    )
    rf = RolesFile.load(p)
    assert rf.inputs["a"].registration_date_format == ["%m/%d/%Y"]
    assert rf.inputs["a"].codes["region"]["Lowlands"] == "XT-02"
    assert rf.inputs["b"].codes["region"]["North Hills"] == "XT-09"  # the input's own wins
    p.write_text("codes:\n  given: {x: y}\ninputs:\n  a: {record_id: id}\n", encoding="utf-8")
    with pytest.raises(RolesError, match="codes apply to"):
        RolesFile.load(p)


def test_sample_then_estimate_from_the_labels(data_dir: Path, tmp_path: Path) -> None:
    import pyarrow.csv as pacsv

    from tiplab.linkage.io import read_table
    from tiplab.linkage.sample import label_from_truth, read_sample

    out = tmp_path / "o"
    r = runner.invoke(
        app, ["link", "--roles", str(data_dir / "linkage_roles.yaml"), "--out", str(out), "--json"]
    )
    assert r.exit_code == 0, r.output
    sample = tmp_path / "sample.csv"
    r = runner.invoke(
        app,
        ["link", "sample", str(out), "--out", str(sample), "--size", "80", "--seed", "4", "--json"],
    )
    assert r.exit_code == 0, r.output
    drawn = json.loads(r.output.strip().splitlines()[-1])
    assert drawn["pairs"] == read_sample(sample).num_rows >= 40
    # unlabelled: the estimate says it is provisional
    r = runner.invoke(app, ["link", "estimate", str(sample), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.strip().splitlines()[-1])["provisional"] is True
    # the truth plays the reviewer
    labelled = label_from_truth(read_sample(sample), read_table(data_dir / "truth" / "records.csv"))
    pacsv.write_csv(labelled, sample)
    r = runner.invoke(app, ["link", "estimate", str(sample), "--json"])
    assert r.exit_code == 0, r.output
    q = json.loads(r.output.strip().splitlines()[-1])
    assert q["labelled"] == labelled.num_rows
    assert q["precision_low"] <= q["precision"] <= q["precision_high"]
    # errors say what and where
    r = runner.invoke(app, ["link", "sample", str(tmp_path), "--out", str(sample)])
    assert r.exit_code != 0
    assert "clusters.parquet or clusters.csv" in " ".join(r.output.split())
