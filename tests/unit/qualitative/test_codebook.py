"""The codebook: the shipped one holds the ILO indicators and tiplab's themes; a codebook with
a duplicate key, an empty label, an unknown group or a bad strength is refused, saying where."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tiplab.qualitative.codebook import (
    GROUPS,
    Code,
    Codebook,
    CodebookError,
    UnknownCode,
    default_codebook,
    load_codebook,
)

ROOT = Path(__file__).resolve().parents[3]


def _script():
    spec = importlib.util.spec_from_file_location("make_codebook",
                                                  ROOT / "scripts" / "make_codebook.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SMALL = """
name: test
version: 2
codes:
  - key: FL02
    label: Deception
    group: forced_labour
    description: Promises not kept.
    cues: [promised a job]
  - key: VU.DEBT
    label: Debt
    group: vulnerability
    description: In debt before.
"""


def test_the_shipped_codebook_has_the_eleven_ilo_indicators():
    cb = default_codebook()
    fl = cb.groups()["forced_labour"]
    assert [c.key for c in fl] == [f"FL{i:02d}" for i in range(1, 12)]
    # names as in the ILO booklet (2012), via shared/reference/ilo_indicators.yaml
    assert cb.get("FL01").label == "Abuse of vulnerability"
    assert cb.get("FL02").label == "Deception"
    assert cb.get("FL07").label == "Retention of identity documents"
    assert cb.get("FL11").label == "Excessive overtime"
    assert "took my passport" in cb.get("FL07").cues
    assert all(c.description and c.cues and c.strength is None for c in fl)


def test_operational_indicators_keep_their_strength_per_profile():
    cb = default_codebook()
    ops = cb.groups()["operational"]
    assert {c.key.split(".")[1] for c in ops} == {"D1", "D2", "D3", "D4", "D5", "D6"}
    job = cb.get("OP.D1.JOB")  # deceived about the nature of the job: strong in both lists
    assert job.strength == "strong"
    assert dict(job.strengths) == {"adult_labour": "strong",
                                                                "child_labour": "strong"}
    assert job.related == ("FL02",)
    edu = cb.get("OP.D1.EDUCATION")  # weak for adults, strong for children
    assert edu.strength == "weak"
    assert dict(edu.strengths)["child_labour"] == "strong"
    # not in the child-labour list: that profile is left out, not invented
    assert dict(cb.get("OP.D4.SOCIAL_PROTECTION").strengths) == {"adult_labour": "medium"}
    assert all(c.strength in ("strong", "medium", "weak") for c in ops)
    assert all(r in cb for c in ops for r in c.related)


def test_the_themes_match_the_script_that_writes_them():
    cb = default_codebook()
    themes = _script().THEMES
    prefix = {"vulnerability": "VU.", "recruitment": "RE.", "barriers": "BJ.",
              "service_gaps": "SG."}
    for group, rows in themes.items():
        got = cb.groups()[group]
        assert [c.key for c in got] == [r[0] for r in rows]
        assert all(c.key.startswith(prefix[group]) and len(c.cues) >= 3 and c.description
                   for c in got)
    for key in ("VU.DEBT", "RE.ONLINE", "RE.LOVERBOY", "BJ.DEPORTATION", "BJ.NOT_VICTIM",
                "SG.SHELTER", "SG.INTERPRETER", "SG.LEGAL_AID", "SG.PSYCH", "SG.DELAY"):
        assert key in cb
    assert tuple(cb.groups()) == GROUPS


def test_round_trip_and_content_hash():
    cb = default_codebook()
    again = Codebook.from_dict(cb.as_dict())
    assert again == cb
    assert again.content_hash() == cb.content_hash()
    changed = replace(cb, codes=(replace(cb.codes[0], label="Other"), *cb.codes[1:]))
    assert changed.content_hash() != cb.content_hash()
    assert len(cb.keys()) == len(set(cb.keys())) == len(cb)


def test_load_from_text_and_from_a_file(tmp_path):
    cb = load_codebook(SMALL)
    assert cb.version == "2"
    assert cb.keys() == ("FL02", "VU.DEBT")
    path = tmp_path / "book.yaml"
    path.write_text(SMALL, encoding="utf-8")
    assert load_codebook(path) == cb == load_codebook(str(path))


def test_duplicate_keys_name_the_key_and_both_places(tmp_path):
    text = SMALL + """  - key: FL02
    label: Deception again
    group: forced_labour
    description: A copy.
"""
    path = tmp_path / "dup.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    msg = str(err.value)
    assert "duplicate code key 'FL02'" in msg
    assert "codes[0]" in msg
    assert "line 5" in msg
    assert "codes[2]" in msg
    assert "line 14" in msg
    assert str(path) in msg
    with pytest.raises(CodebookError, match="duplicate code key 'X'"):
        Codebook("b", "1", (Code("X", "a", "barriers", ""), Code("X", "b", "barriers", "")))


@pytest.mark.parametrize(("change", "match"), [
    ("label: Deception", "empty label"),
    ("group: forced_labour", "unknown group 'forced'"),
    ("cues: [promised a job]", "bad strength 'very strong'"),
    ("description: Promises not kept.", "unknown field"),
])
def test_bad_codes_are_refused_saying_where(change, match):
    bad = {"label: Deception": "label: ''",
           "group: forced_labour": "group: forced",
           "cues: [promised a job]": "cues: [promised a job]\n    strength: very strong",
           "description: Promises not kept.": "description: x\n    colour: red"}[change]
    with pytest.raises(CodebookError, match=match) as err:
        load_codebook(SMALL.replace(change, bad, 1))
    assert "codes[0] (key 'FL02', line 5)" in str(err.value)


def test_other_malformed_codebooks():
    with pytest.raises(CodebookError, match="not valid YAML"):
        load_codebook("name: [unclosed\n")
    with pytest.raises(CodebookError, match="no codes"):
        load_codebook("name: x\nversion: 1\ncodes: []\n")
    with pytest.raises(CodebookError, match="no name"):
        load_codebook(SMALL.replace("name: test", "name: ''"))
    with pytest.raises(CodebookError, match="bad key"):
        load_codebook(SMALL.replace("key: VU.DEBT", "key: vu debt"))
    with pytest.raises(CodebookError, match="cannot read"):
        load_codebook(Path("/nonexistent/book.yaml"))
    with pytest.raises(CodebookError, match="bad strength"):
        Code("OP.X", "x", "operational", "", strength="S")


def test_unknown_key_is_a_codebook_error_and_a_key_error():
    cb = default_codebook()
    with pytest.raises(UnknownCode, match="unknown code 'FL99'") as err:
        cb.get("FL99")
    assert isinstance(err.value, KeyError)
    assert isinstance(err.value, CodebookError)
    assert str(err.value).startswith("unknown code 'FL99'")
