"""Agreement of suggestions with human codes: F1 against hand-computed values, the labelled
set as shipped, and learning-curve rows."""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import pytest

from tiplab.qualitative import embed
from tiplab.qualitative.codebook import default_codebook
from tiplab.qualitative.evaluate import (
    EvaluationError,
    learning_curve,
    load_labelled,
    read_labelled,
    restrict,
    score,
)
from tiplab.qualitative.suggest import Example

RESULTS = Path(__file__).resolve().parents[2] / "results" / "qualitative"
F = frozenset


def test_scores_match_hand_computed_values():
    gold = [F({"A"}), F({"A", "B"}), F(), F({"B"}), F({"A"})]
    pred = [F({"A"}), F({"B"}), F({"A"}), F(), F({"A", "B"})]
    macro, per = score(gold, pred, ["A", "B", "C"])
    a, b, c = per
    # A: tp 2 (units 0, 4), predicted 3, gold 3 -> P = R = F1 = 2/3
    assert (a.support, a.predicted) == (3, 3)
    assert a.precision == pytest.approx(2 / 3)
    assert a.recall == pytest.approx(2 / 3)
    assert a.f1 == pytest.approx(2 / 3)
    # B: tp 1 (unit 1), predicted 2, gold 2 -> P = R = F1 = 1/2
    assert (b.precision, b.recall, b.f1) == pytest.approx((0.5, 0.5, 0.5))
    # C never occurs and is never predicted: listed, not averaged
    assert (c.support, c.f1) == (0, 0.0)
    assert macro == pytest.approx((2 / 3 + 0.5) / 2)
    assert math.isnan(score([F()], [F({"A"})], ["A"])[0])
    with pytest.raises(EvaluationError, match="2 gold units but 1"):
        score([F(), F()], [F()], ["A"])


def test_a_bad_labelled_line_is_named(tmp_path):
    p = tmp_path / "set.jsonl"
    p.write_text('{"text": "ok", "codes": []}\n{"text": "x", "codes": "FL01"}\n', "utf-8")
    with pytest.raises(EvaluationError, match=r"line 2: codes must be a list"):
        load_labelled(p)
    p.write_text('{"text": "ok", "codes": ["FL02"], "split": "test"}\n\n{"text": "b", '
                 '"codes": [], "split": "pool"}\n', "utf-8")
    assert load_labelled(p, "test") == [Example("ok", F({"FL02"}))]
    assert len(load_labelled(p)) == 2


def test_the_shipped_labelled_set_is_what_make_labelled_writes(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_labelled", RESULTS / "make_labelled.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.main()
    assert (tmp_path / "labelled.jsonl").read_bytes() == (RESULTS / "labelled.jsonl").read_bytes()


def test_the_labelled_set_has_what_the_readme_promises():
    rows = read_labelled(RESULTS / "labelled.jsonl")
    codes = {f"FL{i:02d}" for i in range(1, 12)}
    vig = [r for r in rows if r.source == "vignette"]
    assert len(vig) >= 150
    assert sum(1 for r in vig if not r.codes) >= 40  # hard negatives
    for split in ("pool", "test"):
        part = [r for r in vig if r.split == split]
        assert {c for r in part for c in r.codes} == codes, split
    assert all(r.codes <= codes for r in rows)
    assert {r.split for r in rows} == {"pool", "test"}
    assert not {r.text for r in rows if r.split == "pool"} & {
        r.text for r in rows if r.split == "test" and r.source == "vignette"}
    # most vignettes avoid the codebook's cue phrases (the point is generalisation)
    cues = [q.lower() for c in restrict(default_codebook(), group="forced_labour").codes
            for q in c.cues]
    with_cue = sum(1 for r in vig if any(q in r.text.lower() for q in cues))
    assert with_cue < len(vig) * 0.1


def test_learning_curve_without_a_model_is_the_keyword_row_only():
    fl = restrict(default_codebook(), group="forced_labour")
    test = [Example("They took my passport.", F({"FL07"})), Example("Nice day.", F())]
    rows = learning_curve([], test, fl, embedder=None)
    assert [(r.method, r.n_train) for r in rows] == [("keywords", 0)]
    assert rows[0].macro_f1 == 1.0


@pytest.mark.skipif(not embed.available(), reason="the 'ai' extra is not installed")
def test_learning_curve_rows_and_training_sizes():
    fl = restrict(default_codebook(), ["FL07", "FL08"])
    pool = [Example(t, F(c)) for t, c in [
        ("The boss kept my passport.", {"FL07"}), ("My ID card was taken by him.", {"FL07"}),
        ("They held our papers.", {"FL07"}), ("Nobody gave us our documents back.", {"FL07"}),
        ("He kept the passports in his car.", {"FL07"}), ("I was not paid.", {"FL08"}),
        ("We got no salary at all.", {"FL08"}), ("It was sunny.", set()),
        ("We ate bread.", set()), ("The bus came at nine.", set())]]
    test = [Example("The recruiter took away my passport.", F({"FL07"})),
            Example("They never paid us a cent.", F({"FL08"})),
            Example("The river was cold.", F())]
    rows = learning_curve(pool, test, fl, embedder=embed.Embedder(threads=1), sizes=(0, 8),
                          seed=1)
    assert [(r.method, r.n_train) for r in rows] == [
        ("keywords", 0), ("zero-shot", 0), ("classifier", 8)]
    assert all(0.0 <= r.macro_f1 <= 1.0 for r in rows)
    assert rows[2].params["seed"] == 1
    assert rows[2].params["classifier"]["n_examples"] == 8
    json.dumps([r.as_dict() for r in rows])
    with pytest.raises(EvaluationError, match="exceeds the pool"):
        learning_curve(pool, test, fl, embedder=embed.Embedder(threads=1), sizes=(50,))
