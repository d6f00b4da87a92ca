"""Redaction of interview notes: recall on the labelled notes (tests/results/
qualitative_redaction, figures and how they were measured in its README), the name model's
findings merged with the rules', English only, and its weights checked on load."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tiplab.privacy.redact import find
from tiplab.qualitative import embed
from tiplab.qualitative import redact as qr

RESULTS = Path(__file__).resolve().parents[2] / "results" / "qualitative_redaction"
needs_model = pytest.mark.skipif(not embed.available(), reason="the 'ai' extra is not installed")


def _measure() -> ModuleType:
    spec = importlib.util.spec_from_file_location("notes_measure", RESULTS / "measure.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_labelled_notes_are_consistent():
    rows = [json.loads(x) for x in (RESULTS / "labelled.jsonl").read_text("utf-8").splitlines()]
    assert len(rows) >= 40
    assert sum(r["split"] == "heldout" for r in rows) >= 24
    for r in rows:
        for s in r["spans"]:
            assert r["text"][s["start"]:s["end"]] == s["text"]
    kinds = {s["kind"] for r in rows for s in r["spans"]}
    assert {"name", "phone", "address", "place", "document"} <= kinds


def test_without_the_model_it_is_the_rules():
    text = "Met Amina in Lagos. Call 07700 900123. Passport A05123987 was kept by Mr Okafor."
    r = qr.redact_note(text, use_model=False)
    assert list(r.findings) == find(text)
    assert "[PHONE]" in r.text
    assert "[PLACE]" in r.text
    assert "Amina" not in r.text


def test_other_languages_get_the_rules_only(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("the model must not run on a non-English note")

    monkeypatch.setattr(qr, "model_findings", boom)
    fr = ("Entretien avec Aminata à Marseille. Elle dit que son patron a gardé son passeport "
          "et qu'elle n'a jamais été payée.")
    r = qr.redact_note(fr)  # detected as French
    assert "Aminata" not in r.text
    assert "Marseille" not in r.text
    qr.redact_note(fr, language="fr")
    # a language the rules do not know is not passed to them (no error), and no model
    de = "Er hat meinen Pass genommen und ich wurde drei Monate nicht bezahlt."
    assert qr.redact_note(de, language="de").text == qr.redact_note(de, use_model=False).text


@needs_model
def test_the_model_adds_names_the_rules_miss_and_merges():
    # note-h-023 of the held-out notes: "Hamid" opens a sentence with no cue
    text = ("Hamid sleeps in a tent behind the car wash on 63 Bath Road. He said Farhad "
            "brought him from Herat.")
    rules = qr.redact_note(text, use_model=False)
    both = qr.redact_note(text, use_model=True)
    assert "Hamid" in rules.text
    assert "Hamid" not in both.text
    assert both.text.startswith("[NAME] sleeps")
    assert any(f.source == "model" and f.text == "Hamid" for f in both.findings)
    # the rules' findings are kept (union), and findings never overlap
    rule_spans = {(f.start, f.end) for f in rules.findings}
    assert all(any(g.start <= s and e <= g.end for g in both.findings) for s, e in rule_spans)
    assert all(a.end <= b.start for a, b in zip(both.findings, both.findings[1:],
                                                strict=False))
    # a place stays a place even if the model also scores it as a name
    assert any(f.kind == "place" and f.text == "Herat" for f in both.findings)
    # masks already in the text are left alone
    assert qr.model_findings("[NAME] said [NAME] drove.") == []


@needs_model
def test_recall_on_the_held_out_notes():
    m = _measure()
    rows = m.load("notes", "heldout")
    rules = m.measure(rows, m.rules)["kinds"]
    both = m.measure(rows, m.rules_and_model)["kinds"]
    # measured 2026-12 (README): name recall 0.787 rules only, 0.979 with the model;
    # overall 0.875 / 0.979; precision 0.966 / 0.941. Floors: measured minus 0.03.
    assert both["name"]["recall"] >= 0.95
    assert both["overall"]["recall"] >= 0.95
    assert both["name"]["recall"] > rules["name"]["recall"] + 0.1
    assert both["overall"]["precision"] >= 0.91
    for kind in ("phone", "address", "place"):
        assert both[kind]["recall"] >= 0.97


def test_weights_are_checked_on_load(monkeypatch, tmp_path):
    model = qr.load_name_model()
    assert model.coef.shape == (embed.DIM + len(qr.EXTRA_FEATURES),)
    assert model.meta["training"]["split"] == "dev"
    assert model.meta["embedder"]["sha256"] == embed.MODEL_SHA256
    data = json.loads((Path(qr.__file__).parent / "data" / "name_model.json").read_text())
    data["coef"][0] += 1.0
    fake = tmp_path / "name_model.json"
    fake.write_text(json.dumps(data))

    class Files:
        def joinpath(self, *parts):
            return fake

    monkeypatch.setattr(qr.resources, "files", lambda _pkg: Files())
    qr.load_name_model.cache_clear()
    try:
        with pytest.raises(embed.ModelUnavailable, match=r"weights have sha256 .* changed"):
            qr.load_name_model()
    finally:
        qr.load_name_model.cache_clear()
