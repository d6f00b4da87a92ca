"""Legal-framework assessment: instruments, scores against hand-computed values, gaps,
changes, harmonisation and the CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab.policy import legal
from tiplab.policy.legal import (
    Answer,
    Assessment,
    LegalError,
    LegalLibrary,
    builtin_instruments,
    changes,
    gaps,
    harmonisation,
    load_assessment,
    load_instrument,
    score,
)

SHARED = Path(__file__).resolve().parents[4] / "shared"

SMALL = """\
id: small
version: 1
title: A small instrument
sections:
  - id: def
    title: Definition
    items:
      - {id: a, label: A, question: "A?", level: core, article: art. 1}
      - {id: b, label: B, question: "B?", level: core, article: art. 2}
  - id: prot
    title: Protection
    items:
      - {id: c, label: C, question: "C?", level: required, article: art. 3}
      - {id: d, label: D, question: "D?", level: recommended, article: art. 4,
         action: Fund shelters.}
"""


def assessment(country: str, date: str = "2026-01-01", **answers: str) -> Assessment:
    return Assessment(country=country, instrument="small", instrument_version=1,
                      date=dt.date.fromisoformat(date),
                      answers={k: Answer(k, v) for k, v in answers.items()})


@pytest.fixture
def small() -> legal.Instrument:
    return load_instrument(SMALL)


def test_the_shipped_instruments_hold_every_item_of_the_reference_checklists() -> None:
    got = builtin_instruments()
    assert set(got) == {"palermo", "coe_cets197", "eu_directive_2011_36",
                        "tvpa_minimum_standards"}
    ref = SHARED / "reference" / "palermo_elements.yaml"
    if ref.exists():
        data = yaml.safe_load(ref.read_text(encoding="utf-8"))
        ids = {i["id"] for e in data["definition"]["elements"] for i in e["items"]}
        for key in ("consent_and_children", "criminalisation_and_penalties",
                    "victim_protection", "prevention_and_cooperation"):
            ids |= {i["id"] for i in data[key]}
        assert {i.id for i in got["palermo"].items} == ids
        levels = {i["id"]: i["level"] for e in data["definition"]["elements"]
                  for i in e["items"]}
        assert all(got["palermo"].item(k).level == v for k, v in levels.items())
    for inst in got.values():
        assert inst.builtin
        assert all(i.article for i in inst.items)
        assert {i.level for i in inst.items} <= set(legal.LEVELS)


def test_scores_match_hand_computed_values(small: legal.Instrument) -> None:
    a = assessment("GBR", a="yes", b="partial", c="no", d="unknown")
    s = score(small, a)
    # per level, unweighted: core (1 + 0.5) / 2; required 0 / 1; recommended not assessed
    assert s.by_level["core"].score == pytest.approx(75.0)
    assert s.by_level["required"].score == pytest.approx(0.0)
    assert s.by_level["recommended"].score is None
    assert s.by_level["recommended"].coverage == 0.0
    # overall, level-weighted: (3*1 + 3*0.5 + 2*0) / (3 + 3 + 2)
    assert s.overall.score == pytest.approx(100 * 4.5 / 8)
    assert s.overall.assessed == 3
    assert s.overall.coverage == pytest.approx(3 / 4)
    assert s.by_section["def"].score == pytest.approx(75.0)
    # not applicable leaves the score and the coverage's denominator
    na = score(small, assessment("GBR", a="yes", b="partial", c="no", d="not_applicable"))
    assert na.overall.applicable == 3
    assert na.overall.coverage == 1.0
    assert na.overall.score == pytest.approx(s.overall.score)


def test_gaps_are_the_no_and_partial_items_core_first(small: legal.Instrument) -> None:
    found = gaps(small, assessment("JPN", a="partial", b="no", c="yes", d="no"))
    assert [g.item for g in found] == ["b", "a", "d"]
    assert found[0].why == legal.WHY["core"]
    assert "art. 2" in found[0].action
    assert found[2].action == "Fund shelters."


def test_changes_say_what_moved(small: legal.Instrument) -> None:
    before = assessment("GBR", "2025-01-01", a="no", b="yes", c="partial")
    after = Assessment(country="GBR", instrument="small", instrument_version=1,
                       date=dt.date(2026, 1, 1),
                       answers={"a": Answer("a", "yes"), "b": Answer("b", "no"),
                                "c": Answer("c", "partial", statute="Act 2026"),
                                "d": Answer("d", "yes")})
    got = {c.item: c.kind for c in changes(small, before, after)}
    assert got == {"a": "better", "b": "worse", "c": "evidence", "d": "assessed"}


def test_harmonisation_finds_divergence_and_loopholes_both_ways(small: legal.Instrument) -> None:
    old = assessment("AAA", "2020-01-01", a="no", b="no", c="no", d="no")
    found = [old, assessment("AAA", a="yes", b="yes", c="no", d="unknown"),
             assessment("BBB", a="yes", b="partial", c="yes", d="yes"),
             assessment("CCC", a="yes", b="no", c="yes", d="not_applicable")]
    h = harmonisation(small, found)
    assert h.countries == ["AAA", "BBB", "CCC"]
    assert h.dates["AAA"] == "2026-01-01"  # the latest assessment of a country counts
    assert h.divergent == ["b", "c"]  # a: all yes; d: only one assessed answer
    # "not assessed" (AAA's d) is no loophole: only a covered item against no or partial
    pairs = {k: [x.item for x in v] for k, v in h.pair_loopholes().items()}
    assert pairs == {("AAA", "BBB"): ["b"], ("AAA", "CCC"): ["b"], ("BBB", "AAA"): ["c"],
                     ("CCC", "AAA"): ["c"]}
    with pytest.raises(LegalError, match="one instrument"):
        harmonisation(builtin_instruments()["palermo"], found)


def test_rank_correlation_has_an_exact_p_value_for_few_countries() -> None:
    scores = {"AAA": 90.0, "BBB": 70.0, "CCC": 50.0}
    c = legal.rank_correlation("3P index", scores,
                               {"AAA": (2013, 13.0), "BBB": (2013, 11.0), "CCC": (2013, 9.0)})
    assert c.rho == pytest.approx(1.0)
    assert c.p_value == pytest.approx(2 / 6)  # two of the 3! orders reach |rho| = 1
    assert c.n == 3
    few = legal.rank_correlation("TIP tier", scores, {"AAA": (2015, 1.0), "BBB": (2015, 2.0)})
    assert few.rho is None
    assert few.n == 2


def test_an_instrument_with_problems_names_every_line_and_field() -> None:
    bad = SMALL.replace("level: required", "level: mandatory").replace("id: b,", "id: a,")
    with pytest.raises(LegalError) as e:
        load_instrument(bad, name="mine.yaml")
    text = str(e.value)
    assert "mine.yaml" in text
    assert "line 13, field 'sections[1].items[0].level': unknown level 'mandatory'" in text
    assert "line 9, field 'sections[0].items[1].id': item 'a' already used" in text
    with pytest.raises(LegalError, match="line 2, field 'version'"):
        load_instrument(SMALL.replace("version: 1", "version: one"))
    with pytest.raises(LegalError, match="not valid YAML"):
        load_instrument("id: x\n  bad: [")


def test_an_assessment_with_problems_is_refused_whole(small: legal.Instrument,
                                                      tmp_path: Path) -> None:
    f = tmp_path / "a.yaml"
    f.write_text(yaml.safe_dump({
        "country": "Narnia", "instrument": "small", "date": "2026-13-01",
        "answers": [{"item": "a", "answer": "maybe"}, {"item": "zz", "answer": "yes"},
                    {"item": "b", "answer": "yes", "link": "javascript:alert(1)"}]}),
        encoding="utf-8")
    with pytest.raises(LegalError) as e:
        load_assessment(f, small)
    text = str(e.value)
    for expected in ("unknown country 'Narnia'", "'2026-13-01' is not a date",
                     "answer 'maybe' is not on the scale", "item 'zz' is not in small@1",
                     "must be an http(s) address"):
        assert expected in text
    assert "line " in text


def test_answers_round_trip_through_the_csv_template(small: legal.Instrument) -> None:
    a = Assessment(country="DEU", instrument="small", instrument_version=1,
                   date=dt.date(2026, 1, 1),
                   answers={"a": Answer("a", "yes", statute="StGB", article="§ 232",
                                        excerpt="anwirbt, befördert", link="https://x.org/a"),
                            "c": Answer("c", "partial", comment="only adults")})
    text = legal.answers_to_csv(small, a)
    back = legal.answers_from_csv(small, text)
    assert back["a"] == a.answers["a"]
    assert back["c"] == a.answers["c"]
    assert back["b"].answer == "unknown"
    with pytest.raises(LegalError, match="row 4: answer 'perhaps'"):
        legal.answers_from_csv(small, text.replace(",partial,", ",perhaps,"))


def test_the_library_keeps_history_and_refuses_silent_overwrites(small: legal.Instrument,
                                                                 tmp_path: Path) -> None:
    lib = LegalLibrary(tmp_path)
    lib.add_instrument(small)
    lib.add_assessment(assessment("GBR", "2025-01-01", a="no"))
    lib.add_assessment(assessment("GBR", "2026-01-01", a="yes"))
    assert [a.date.year for a in lib.assessments("small")] == [2025, 2026]
    with pytest.raises(LegalError, match="already in the library"):
        lib.add_assessment(assessment("GBR", "2026-01-01", a="no"))
    changed = load_instrument(SMALL.replace("A small", "A changed"))
    with pytest.raises(LegalError, match="raise the version"):
        lib.add_instrument(changed)
    with pytest.raises(LegalError, match="shipped with tiplab"):
        lib.add_instrument(load_instrument(SMALL.replace("id: small", "id: palermo")))
    assert not list((tmp_path / "legal").rglob("*.tmp"))


def test_the_shipped_ratings_are_the_latest_values_of_the_shared_files() -> None:
    shipped = legal.shipped_ratings()
    p3 = SHARED / "data" / "p3_index" / "policy_index.csv"
    tip = SHARED / "data" / "tip_tiers" / "tip_tiers_orig.csv"
    if not (p3.exists() and tip.exists()):
        pytest.skip("../shared/data is not beside the checkout")
    assert shipped["3P index"] == legal.load_p3_index(p3)
    assert shipped["TIP tier"] == legal.load_tip_tiers(tip)
    # from the files themselves (shared/data READMEs): Japan 3P 10 in 2013, Tier 2 in 2015
    assert shipped["3P index"]["JPN"] == (2013, 10.0)
    assert shipped["TIP tier"]["JPN"] == (2015, 2.0)


def test_the_demo_assessments_are_valid_and_marked_illustrative() -> None:
    known = builtin_instruments()
    found = [load_assessment(f, known) for f in legal.demo_assessments()]
    assert {a.country for a in found} == {"GBR", "DEU", "JPN"}
    assert all(a.illustrative for a in found)
    h = harmonisation(known["palermo"], found)
    assert h.divergent
    assert h.loopholes


def test_the_cli_shows_imports_and_compares(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"TIPLAB_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    out = runner.invoke(app, ["assess", "legal", "show", "--json"], env=env)
    assert out.exit_code == 0, out.output
    assert {i["id"] for i in json.loads(out.output)["instruments"]} >= {"palermo"}
    for f in legal.demo_assessments():
        got = runner.invoke(app, ["assess", "legal", "import", str(f), "--json"], env=env)
        assert got.exit_code == 0, got.output
    cmp = runner.invoke(app, ["assess", "legal", "compare", "--json"], env=env)
    assert cmp.exit_code == 0, cmp.output
    body = json.loads(cmp.output)
    direct = harmonisation(builtin_instruments()["palermo"],
                           [load_assessment(f, builtin_instruments())
                            for f in legal.demo_assessments()])
    assert body["divergent"] == direct.divergent
    assert body["scores"]["JPN"]["overall"]["score"] == pytest.approx(
        direct.scores["JPN"].overall.score)
    # the shipped ratings: each country's latest 3P index and TIP tier
    p3 = next(c for c in body["correlations"] if c["rating"] == "3P index")
    assert p3["n"] == 3
    assert {c for c, *_ in p3["pairs"]} == {"GBR", "DEU", "JPN"}
    template = tmp_path / "t.csv"
    exp = runner.invoke(app, ["assess", "legal", "export", "--instrument", "palermo",
                              "--country", "France", "--format", "csv", "--out", str(template)],
                        env=env)
    assert exp.exit_code == 0, exp.output
    assert len(template.read_text(encoding="utf-8").splitlines()) == 52
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("level: core", "level: essential", 1), encoding="utf-8")
    refused = runner.invoke(app, ["assess", "legal", "import", str(bad), "--json"], env=env)
    assert refused.exit_code == 2
    assert "line 8, field 'sections[0].items[0].level'" in json.loads(refused.output)[
        "error"]["message"]
    assert not (tmp_path / "data" / "legal" / "instruments").exists()
