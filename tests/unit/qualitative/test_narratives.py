"""Simulated case narratives: known indicators, reproducible, identifier-free, and written
from their own random stream so every other output of a run keeps its bytes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tiplab.qualitative.codebook import default_codebook
from tiplab.simulate import SimulationSettings, simulate
from tiplab.simulate import narratives as N
from tiplab.simulate.agencies import specs
from tiplab.simulate.defaults import load_shares

SETTINGS = SimulationSettings(seed=21, victims=1500)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("narr")
    plain = simulate(SETTINGS, root / "plain")
    with_n = simulate(SETTINGS, root / "with", narratives=True)
    return plain.out_dir, with_n.out_dir, with_n


def _hashes(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_narratives_leave_every_other_file_byte_identical(runs):
    plain, with_n, result = runs
    a, b = _hashes(plain), _hashes(with_n)
    assert set(b) - set(a) == {"narratives.csv", "truth/narratives.csv"}
    assert all(a[f] == b[f] for f in a)
    assert {"narratives.csv", "truth/narratives.csv"} <= set(result.files)


def test_narratives_are_reproducible(runs, tmp_path):
    _, with_n, _ = runs
    again = simulate(SETTINGS, tmp_path / "again", narratives=True).out_dir
    for f in ("narratives.csv", "truth/narratives.csv"):
        assert (again / f).read_bytes() == (with_n / f).read_bytes()


def test_a_share_of_the_free_text_agencies_records_gets_a_narrative_with_valid_codes(runs):
    _, out, _ = runs
    texts = pd.read_csv(out / "narratives.csv", dtype=str, keep_default_na=False)
    truth = pd.read_csv(out / "truth" / "narratives.csv", dtype=str, keep_default_na=False)
    records = pd.read_csv(out / "truth" / "records.csv", dtype=str)
    assert list(texts.columns) == ["source_agency", "record_id", "text"]
    assert list(truth.columns) == ["source_agency", "record_id", "codes"]
    keys_cols = ["source_agency", "record_id"]
    assert (texts[keys_cols] == truth[keys_cols]).all().all()
    assert set(texts.source_agency) == set(N.AGENCIES)
    mine = records[records.source.isin(N.AGENCIES)]
    share = len(texts) / len(mine)
    assert 0.33 < share < 0.45, share
    keys = set(zip(mine.source, mine.record_id, strict=True))
    assert all(k in keys for k in zip(texts.source_agency, texts.record_id, strict=True))
    assert not texts.duplicated(["source_agency", "record_id"]).any()
    known = set(default_codebook().keys())
    codes = [set(c.split(";")) - {""} for c in truth.codes]
    assert all(c <= known for c in codes)
    assert sum(1 for c in codes if any(k.startswith("FL") for k in c)) > 0.6 * len(codes)
    n_sent = texts.text.str.count(r"[.;!?](?:\s|$)")
    assert n_sent.between(1, 5).all()  # 1-4 sentences (one paraphrase has a ';')


def test_narratives_hold_no_name_phone_or_document_number(runs):
    _, out, _ = runs
    texts = pd.read_csv(out / "narratives.csv", dtype=str, keep_default_na=False)
    assert not texts.text.str.contains(r"\d").any()  # phones, documents, dates: all digits
    shares = load_shares(SETTINGS.glotip_path, SETTINGS.ctdc_missing_path)
    checked = 0
    for agency, spec in specs(shares.missing, SETTINGS.noise.birth_date_missing).items():
        if agency not in N.AGENCIES:
            continue
        path = out / f"{agency}.{spec.kind}"
        if spec.kind == "xlsx":
            df = pd.read_excel(path, dtype=str).fillna("")
        elif spec.kind == "ndjson":
            df = pd.read_json(path, lines=True, dtype=False).astype(str)
        else:
            df = pd.read_csv(path, sep=spec.delimiter, encoding=spec.encoding, dtype=str,
                             keep_default_na=False)
        rid = spec.column_for("record_id")
        cols = [c.name for f in ("given_name", "family_name", "full_name")
                if (c := spec.column_for(f)) is not None]
        assert rid is not None
        assert cols
        by_id = df.set_index(rid.name)
        for r in texts[texts.source_agency == agency].itertuples():
            row = by_id.loc[r.record_id]
            if isinstance(row, pd.DataFrame):
                row = row.iloc[0]
            for col in cols:
                for name in re.split(r"[\s,]+", str(row[col])):
                    if len(name) >= 3 and name.lower() not in ("nan", "none"):
                        assert not re.search(rf"\b{re.escape(name)}\b", r.text, re.I), (
                            name, r.text)
                        checked += 1
    assert checked > 100


def test_narrate_is_seeded_and_its_truth_is_the_union_of_its_sentences():
    people = N.sample_people(200, np.random.default_rng(4))
    a = [N.narrate(p, np.random.default_rng(i)) for i, p in enumerate(people)]
    b = [N.narrate(p, np.random.default_rng(i)) for i, p in enumerate(people)]
    assert a == b
    for nar in a:
        assert 1 <= len(nar.sentences) <= 4
        assert nar.text == " ".join(t for t, _ in nar.sentences)
        assert nar.codes == frozenset().union(*(c for _, c in nar.sentences))
    # every indicator sentence is kept: a person with only withheld documents gets FL07
    p = N.Person("ForcedLabour", "F_Construction", ("WithholdsDocuments",), "Unknown",
                 "Masculine", False)
    for i in range(20):
        assert N.narrate(p, np.random.default_rng(i)).codes == {"FL07"}
    quiet = N.Person("ForcedLabour", "F_Construction", (), "Unknown", "Feminine", False)
    assert all(not N.narrate(quiet, np.random.default_rng(i)).codes for i in range(20))
    with pytest.raises(ValueError, match="variant"):
        N.narrate(p, np.random.default_rng(0), variant="c")


def test_the_two_paraphrase_halves_are_disjoint():
    for pool in [*N._INDICATOR.values(), *N._RECRUIT.values(), N._CONTEXT, N._FILLER]:
        a, b = set(N._pool(pool, "a")), set(N._pool(pool, "b"))
        assert a
        assert b
        assert not a & b
        assert a | b == set(pool)
