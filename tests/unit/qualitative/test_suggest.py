"""Coding suggestions: keyword cues, zero-shot scores, the trained classifier (reproducible,
plain JSON, tied to its codebook and model) and the active-learning order."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tiplab.qualitative import embed
from tiplab.qualitative.codebook import Code, Codebook, default_codebook
from tiplab.qualitative.evaluate import restrict
from tiplab.qualitative.segment import Span
from tiplab.qualitative.suggest import (
    Example,
    Suggester,
    SuggestError,
    SuggestSettings,
    TrainedClassifier,
    fold,
    keyword_suggest,
    train,
    uncertainty_order,
)

needs_model = pytest.mark.skipif(not embed.available(), reason="the 'ai' extra is not installed")


@pytest.fixture(scope="module")
def fl() -> Codebook:
    return restrict(default_codebook(), group="forced_labour")


@pytest.fixture(scope="module")
def embedder() -> embed.Embedder:
    if not embed.available():
        pytest.skip("the 'ai' extra is not installed")
    return embed.Embedder(threads=1)


# --------------------------------------------------------------------------- keywords

def test_fold_keeps_offsets_and_removes_case_and_accents():
    text = "Ils ont PRIS mon passeport à l'Aéroport ’"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "ils ont pris mon passeport a l'aeroport '"


def test_keyword_cues_match_inflections_and_give_the_span_and_the_cue(fl):
    text = "We were LOCKED in at night. The weather was nice. He hit me twice."
    got = keyword_suggest(fl, text)
    assert [(text[s.start:s.end], s.code, s.cue) for s in got] == [
        ("We were LOCKED in at night.", "FL03", "locked in"),
        ("He hit me twice.", "FL05", "hit me"),
    ]
    assert all(s.confidence == 0.9 and s.method == "keywords" for s in got)
    # a cue is a phrase, not loose words: "locked" and "in" apart do not match
    assert keyword_suggest(fl, "The door was locked when I came in.") == []


def test_keyword_spans_given_by_the_caller_are_used():
    code = Code("FL07", "Documents", "forced_labour", "", ("took my passport",))
    cb = Codebook("t", "1", (code,))
    text = "xx They took my passports yy"
    got = keyword_suggest(cb, text, [Span(3, 25, text[3:25])])
    assert [(g.start, g.end, g.code) for g in got] == [(3, 25, "FL07")]


def test_without_a_model_auto_falls_back_to_keywords_and_other_methods_refuse(fl):
    s = Suggester(fl)
    assert s.method == "keywords"
    assert set(s.code_methods.values()) == {"keywords"}
    assert s.model == {}
    assert [x.code for x in s.suggest("They took my passport.")] == ["FL07"]
    with pytest.raises(SuggestError, match="needs the embedded model"):
        Suggester(fl, settings=SuggestSettings(method="zero-shot"))


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"method": "magic"}, "unknown suggestion method"),
    ({"threshold": 0.0}, "outside"),
    ({"threshold": 1.5}, "outside"),
    ({"top_k": 0}, "top_k"),
    ({"min_positives": 0}, "min_positives"),
])
def test_bad_settings_are_refused(kwargs, match):
    with pytest.raises(SuggestError, match=match):
        SuggestSettings(**kwargs)


# --------------------------------------------------------------------------- active learning

def test_uncertainty_order_puts_spans_the_model_is_sure_of_nothing_about_first():
    scores = np.array([
        [0.95, 0.10, 0.50],   # sure of code 0            -> certainty 0.45
        [0.45, 0.55, 0.60],   # unsure of everything      -> 0.10
        [0.02, 0.03, 0.01],   # sure it is none           -> 0.49
        [0.50, 0.52, 0.48],   # the most uncertain        -> 0.02
        [0.70, 0.40, 0.35],   #                           -> 0.20
        [0.45, 0.55, 0.60],   # tie with row 1: keeps input order
    ])
    assert uncertainty_order(scores).tolist() == [3, 1, 5, 4, 0, 2]
    assert uncertainty_order(np.array([0.9, 0.5, 0.2])).tolist() == [1, 2, 0]
    assert uncertainty_order(np.array([[np.nan], [0.6]])).tolist() == [1, 0]
    assert uncertainty_order(np.zeros((0, 3))).tolist() == []


# --------------------------------------------------------------------------- zero-shot

@needs_model
def test_zero_shot_suggests_the_right_indicator_above_the_threshold(fl, embedder):
    text = ("They kept my passport in the office safe. "
            "We had lunch together on Sunday. "
            "The supervisor beat us with a stick.")
    s = Suggester(fl, embedder=embedder)
    assert s.method == "zero-shot"
    assert s.model["id"] == embed.MODEL_ID
    got = s.suggest(text)
    by_span = {}
    for g in got:
        by_span.setdefault(text[g.start:g.end], []).append(g)
    assert by_span["They kept my passport in the office safe."][0].code == "FL07"
    assert "We had lunch together on Sunday." not in by_span
    assert "FL05" in [g.code for g in by_span["The supervisor beat us with a stick."]]
    for items in by_span.values():
        conf = [g.confidence for g in items]
        assert conf == sorted(conf, reverse=True)
        assert min(conf) >= 0.5
        assert len(conf) <= 3
        assert all(g.method == "zero-shot" and g.cue is None for g in items)
    one = Suggester(fl, embedder=embedder, settings=SuggestSettings(top_k=1, threshold=0.2))
    assert all(len([g for g in one.suggest(text) if g.start == st]) == 1
               for st in {g.start for g in one.suggest(text)})
    scores = s.scores(["They kept my passport in the office safe."])
    assert scores.shape == (1, len(fl))
    assert ((scores >= 0) & (scores <= 1)).all()


# --------------------------------------------------------------------------- classifier

EXAMPLES = [
    Example("The agency kept my passport the whole year.", frozenset({"FL07"})),
    Example("He locked our identity cards in a drawer.", frozenset({"FL07"})),
    Example("My papers stayed with the employer.", frozenset({"FL07"})),
    Example("They held on to our travel documents.", frozenset({"FL07"})),
    Example("She never gave me back my ID card.", frozenset({"FL07"})),
    Example("I was never paid for three months.", frozenset({"FL08"})),
    Example("The boss kept our wages.", frozenset({"FL08"})),
    Example("We went to the market on Saturday.", frozenset()),
    Example("The bus was late again this morning.", frozenset()),
    Example("I like cooking rice with vegetables.", frozenset()),
    Example("My sister lives in the capital.", frozenset()),
    Example("The office has a big window.", frozenset()),
]


@needs_model
def test_training_is_reproducible_and_round_trips_through_plain_json(fl, embedder):
    a = train(EXAMPLES, fl, embedder=embedder, seed=3)
    b = train(list(EXAMPLES), fl, embedder=embedder, seed=3)
    assert a.to_json() == b.to_json()
    data = json.loads(a.to_json())
    assert data["codes"] == ["FL07", "FL08"]  # codes without a positive are not trained
    assert data["positives"]["FL07"] == 5
    assert data["positives"]["FL01"] == 0
    assert data["n_examples"] == 12
    assert data["codebook_hash"] == fl.content_hash()
    assert data["model"]["sha256"] == embed.MODEL_SHA256
    assert data["params"]["seed"] == 3
    assert len(data["coef"]) == 2
    assert len(data["coef"][0]) == embed.DIM
    back = TrainedClassifier.from_json(a.to_json())
    X = embedder.embed(["Our passports were kept by the manager.", "It rained all day."])
    np.testing.assert_array_equal(back.predict_proba(X), a.predict_proba(X))
    p = a.predict_proba(X)
    assert p[0, 0] > 0.5 > p[1, 0]  # FL07: a new paraphrase yes, the weather no


@needs_model
def test_auto_uses_the_classifier_only_for_codes_with_enough_positives(fl, embedder):
    clf = train(EXAMPLES, fl, embedder=embedder)
    s = Suggester(fl, embedder=embedder, classifier=clf)
    assert s.method == "classifier"
    assert s.code_methods["FL07"] == "classifier"  # 5 positives
    assert s.code_methods["FL08"] == "zero-shot"   # 2 < min_positives
    assert s.code_methods["FL05"] == "zero-shot"
    low = Suggester(fl, embedder=embedder, classifier=clf,
                    settings=SuggestSettings(min_positives=2))
    assert low.code_methods["FL08"] == "classifier"
    assert Suggester(fl, embedder=embedder, classifier=clf,
                     settings=SuggestSettings(method="zero-shot")).method == "zero-shot"
    got = s.suggest("The manager kept all our passports.")
    assert got
    assert got[0].code == "FL07"
    assert got[0].method == "classifier"


@needs_model
def test_a_classifier_of_another_codebook_or_model_is_refused(fl, embedder):
    clf = train(EXAMPLES, fl, embedder=embedder)
    other = restrict(default_codebook(), ["FL07", "FL08"])
    with pytest.raises(SuggestError, match="another codebook"):
        Suggester(other, embedder=embedder, classifier=clf)
    clf.model = {**clf.model, "sha256": "0" * 64}
    with pytest.raises(SuggestError, match="another model"):
        Suggester(fl, embedder=embedder, classifier=clf)


@needs_model
def test_training_refuses_unknown_codes_and_no_examples(fl, embedder):
    with pytest.raises(SuggestError, match=r"VU\.DEBT"):
        train([Example("x y z", frozenset({"VU.DEBT"}))], fl, embedder=embedder)
    with pytest.raises(SuggestError, match="no examples"):
        train([], fl, embedder=embedder)


def test_a_damaged_classifier_file_is_refused():
    with pytest.raises(SuggestError, match="not a trained classifier"):
        TrainedClassifier.from_json("{\"codes\": [\"FL01\"]}")
    with pytest.raises(SuggestError, match="not a trained classifier"):
        TrainedClassifier.from_json("not json")
