"""The plan model: round-trips, validation that names line and field, diffs on hand-made
versions, the evidence flag, lifecycle and the file library."""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

import pytest
import yaml

from tiplab.policy.indicators import library
from tiplab.policy.plan import (
    Citation,
    PlanError,
    PlanLibrary,
    budget_summary,
    check_evidence,
    check_transition,
    demo_plan,
    diff,
    dump_plan,
    load_plan,
    logframe,
    measure_from_gap,
    new_plan,
    next_version,
    plan_from_dict,
)


def small() -> dict[str, Any]:
    return {
        "id": "t", "title": "Test plan", "country": "Utopia", "period": [2025, 2027],
        "currency": "EUR",
        "objectives": [{"id": "O1", "pillar": "protection", "title": "Support", "measures": [
            {"id": "M1", "title": "Shelter places", "type": "protection", "lead": "NGO",
             "budget": [{"year": 2025, "source": "government", "amount": 100},
                        {"year": 2026, "source": "international_aid", "amount": 50}],
             "indicators": [{"indicator": "PROT-10", "baseline": 10,
                             "targets": {2026: 20, 2027: 30}}]},
            {"id": "M2", "title": "Training", "type": "training",
             "budget": [{"year": 2027, "source": "government", "amount": 25}]},
        ]}],
    }


def test_the_library_has_the_57_indicators_of_the_reference() -> None:
    lib = library()
    assert len(lib) == 57
    assert {i.pillar for i in lib.indicators.values()} == {
        "prevention", "protection", "prosecution", "partnership"}
    assert lib["PROS-03"].direction == "higher_is_better"


def test_yaml_and_json_round_trip_to_an_equal_plan() -> None:
    for plan in (demo_plan(), plan_from_dict(small())):
        for fmt in ("yaml", "json"):
            again = load_plan(dump_plan(plan, fmt))
            assert again.to_dict() == plan.to_dict()
            assert again.content_hash() == plan.content_hash()


def test_budget_summary_by_pillar_year_and_source() -> None:
    s = budget_summary(plan_from_dict(small()))
    assert s["total"] == 175
    assert {r["pillar"]: r["amount"] for r in s["by_pillar"]}["protection"] == 175
    assert [r["amount"] for r in s["by_year"]] == [100, 50, 25]
    assert {r["source"]: r["amount"] for r in s["by_source"]} == {
        "government": 125, "international_aid": 50}
    rows = logframe(plan_from_dict(small()))
    assert [r["measure"] for r in rows] == ["M1 Shelter places", "M2 Training"]
    assert rows[0]["targets"] == {2026: 20, 2027: 30}


def _problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as e:
        load_plan(text)
    return e.value.problems


def test_every_problem_is_reported_with_line_and_field() -> None:
    d = small()
    m = d["objectives"][0]["measures"][0]
    m["budget"].append({"year": 2031, "source": "government", "amount": 5})
    m["budget"].append({"year": 2026, "source": "lottery", "amount": 5, "currency": "XXY"})
    m["colour"] = "red"
    m["indicators"][0]["targets"] = {2026: 20, 2027: 30}
    m["indicators"].append({"indicator": "PROS-03", "baseline": 12, "targets": {2026: 8}})
    d["objectives"][0]["measures"][1]["type"] = "party"
    problems = _problems(yaml.safe_dump(d, sort_keys=False))
    text = "\n".join(problems)
    assert "2031 is outside the plan period 2025-2027" in text
    assert "'lottery' is not one of" in text
    assert "'XXY' is not an ISO 4217 currency code" in text
    assert "unknown field 'colour'" in text
    assert "the 2026 target (8) is below the baseline (12), but PROS-03" in text
    assert "'party' is not one of" in text
    assert all(p.startswith("line ") for p in problems), problems
    line = next(p for p in problems if "colour" in p)
    assert "field 'objectives[0].measures[0].colour'" in line


def test_a_lower_is_better_target_above_the_baseline_is_refused() -> None:
    d = small()
    d["objectives"][0]["measures"][0]["indicators"] = [
        {"indicator": "PROT-17", "baseline": 5, "targets": {2026: 4, 2027: 6}}]
    problems = _problems(yaml.safe_dump(d))
    assert len(problems) == 1
    assert "the 2027 target (6) is above the 2026 target (4), but PROT-17" in problems[0]


def test_custom_indicators_and_unknown_library_ids() -> None:
    d = small()
    d["objectives"][0]["measures"][0]["indicators"] = [
        {"indicator": "XX-99"},
        {"custom": {"id": "C1", "name": "Hotline app downloads", "unit": "downloads",
                    "direction": "higher_is_better"}, "baseline": 0, "targets": {2026: 100}}]
    problems = _problems(yaml.safe_dump(d))
    assert len(problems) == 1
    assert "'XX-99' is not in the indicator library" in problems[0]
    d["objectives"][0]["measures"][0]["indicators"].pop(0)
    plan = plan_from_dict(d)
    mi = plan.measure("M1").indicators[0]
    assert mi.indicator == "C1"
    assert mi.custom is not None
    assert mi.custom.custom
    assert load_plan(dump_plan(plan)).to_dict() == plan.to_dict()


def test_structure_errors_duplicates_and_references() -> None:
    d = small()
    d["objectives"][0]["measures"][1]["id"] = "M1"
    d["objectives"][0]["pillar"] = "wellbeing"
    d["objectives"][0]["measures"][0]["agreements"] = ["nowhere"]
    d["period"] = [2028, 2025]
    text = "\n".join(_problems(yaml.safe_dump(d)))
    assert "measure id 'M1' is used more than once" in text
    assert "'wellbeing' is not a pillar of this plan" in text
    assert "no agreement 'nowhere' in the register" in text
    assert "ends (2025) before it starts (2028)" in text
    assert _problems("id: [unclosed")[0].startswith("line 1")


def test_new_plan_pillars() -> None:
    assert [p.id for p in new_plan("a", "A", "X", 2025, 2026).pillars] == [
        "prevention", "protection", "prosecution", "partnership"]
    assert len(new_plan("a", "A", "X", 2025, 2026, pillars="3p").pillars) == 3
    custom = new_plan("a", "A", "X", 2025, 2026, pillars="Research and data, Social inclusion")
    assert [p.id for p in custom.pillars] == ["research-and-data", "social-inclusion"]


def test_diff_on_hand_made_versions() -> None:
    a = plan_from_dict(small())
    d = copy.deepcopy(small())
    d["version"] = 2
    m1 = d["objectives"][0]["measures"][0]
    m1["title"] = "Shelter places for men"
    m1["budget"][0]["amount"] = 120  # 2025 government 100 -> 120
    m1["indicators"][0]["targets"][2027] = 35
    d["objectives"][0]["measures"].pop(1)  # M2 removed
    d["objectives"][0]["measures"].append({"id": "M3", "title": "Hotline", "type": "prevention",
                                          "budget": [{"year": 2026, "source": "private",
                                                      "amount": 10}]})
    d["narrative"] = "A new paragraph."
    b = plan_from_dict(d)
    r = diff(a, b)
    assert [m["measure"] for m in r.measures_added] == ["M3"]
    assert [m["measure"] for m in r.measures_removed] == ["M2"]
    assert [m["measure"] for m in r.measures_changed] == ["M1"]
    fields = {f["field"]: f for f in r.measures_changed[0]["fields"]}
    assert fields["title"]["old"] == "Shelter places"
    assert fields["title"]["new"] == "Shelter places for men"
    assert fields["budget"]["old"] == 150
    assert fields["budget"]["new"] == 170
    budget = {(x["measure"], x["year"], x["source"]): (x["old"], x["new"]) for x in r.budget}
    assert budget == {("M1", 2025, "government"): (100, 120),
                      ("M2", 2027, "government"): (25, None),
                      ("M3", 2026, "private"): (None, 10)}
    assert r.targets == [{"measure": "M1", "indicator": "PROT-10", "year": 2027, "old": 30,
                          "new": 35}]
    assert {"field": "version", "old": 1, "new": 2} in r.header
    assert "+A new paragraph." in r.narrative
    assert diff(a, a).empty


def test_evidence_flag_when_a_newer_data_version_moves_the_figure() -> None:
    d = small()
    d["objectives"][0]["measures"][0]["evidence"] = [
        {"kind": "hotspot", "label": "XT-05 z", "value": 3.0, "data_version": "v1",
         "selector": {"region": "XT-05"}},
        {"kind": "trend", "label": "2024 labour", "value": 200, "data_version": "v1",
         "selector": {"year": 2024}},
        {"kind": "route", "label": "A->B", "value": 40, "data_version": "v1"},
        {"kind": "estimate", "label": "N", "value": 1000, "data_version": "v1"}]
    plan = plan_from_dict(d)
    now = {"hotspot": 3.1, "trend": 260.0, "route": None}

    def current(c: Citation) -> float | None:
        if c.kind == "estimate":
            raise LookupError("not here")
        return now[c.kind]

    flags = {f.citation.kind: f for f in check_evidence(plan, current, "v2")}
    assert flags["hotspot"].state == "unchanged"
    assert flags["trend"].state == "changed"
    assert (flags["trend"].old, flags["trend"].new) == (200, 260)
    assert flags["trend"].change == pytest.approx(0.3)
    assert flags["route"].state == "gone"
    assert flags["estimate"].state == "unavailable"
    # the same data version: nothing is recomputed
    assert {f.state for f in check_evidence(plan, current, "v1")} == {"unchanged"}


def test_a_legal_gap_becomes_a_measure_in_one_step() -> None:
    gap = {"instrument": "palermo@1", "country": "JPN", "item": "means.fraud",
           "label": "Fraud or deception as a means", "answer": "partial",
           "article": "Palermo art. 3(a)", "action": "Add fraud to the means of the offence.",
           "why": "Part of the definition."}
    m = measure_from_gap(gap, measure_id="PS9.1", data_version="assessment-7")
    assert m.type == "legislative"
    assert m.title.startswith("Amend the law")
    c = m.evidence[0]
    assert (c.kind, c.value, c.ref) == ("legal_gap", 0.5, "palermo@1:means.fraud")
    d = small()
    plan = plan_from_dict(d)
    plan.objectives[0].measures.append(m)
    assert load_plan(dump_plan(plan)).measure("PS9.1").evidence[0].selector["item"] == \
        "means.fraud"


def test_lifecycle_moves() -> None:
    check_transition("draft", "consultation")
    check_transition("consultation", "adopted")
    with pytest.raises(PlanError, match="cannot become adopted"):
        check_transition("superseded", "adopted")
    with pytest.raises(PlanError, match="starts from an adopted plan"):
        next_version(plan_from_dict(small()))


def test_the_library_keeps_revisions_and_never_edits_an_adopted_version(tmp_path: Any) -> None:
    lib = PlanLibrary(tmp_path)
    plan = plan_from_dict(small())
    assert lib.save(plan, author="ana").number == 1
    changed = replace(plan, title="Test plan (rev)")
    assert lib.save(changed).number == 2
    adopted = replace(changed, status="adopted")
    assert lib.save(adopted, comment="adopted").number == 3
    assert lib.save(adopted).number == 3  # same content: no new revision
    with pytest.raises(PlanError, match="adopted and cannot be edited"):
        lib.save(replace(adopted, title="sneaky"))
    v2 = next_version(lib.load("t"))
    assert (v2.version, v2.status) == (2, "draft")
    assert lib.save(v2).number == 4
    assert lib.load("t", 1).title == "Test plan"
    assert [r.status for r in lib.revisions("t")] == ["draft", "draft", "adopted", "draft"]
    assert not list(tmp_path.glob("plans/t/*.tmp"))
