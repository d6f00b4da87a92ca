"""``tiplab plan`` and ``tiplab allocate``: the JSON shapes, the lifecycle from the command
line (an adopted version refused), and a plan's scenario built from its measures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tiplab.cli import app
from tiplab.policy.allocation import AllocationError
from tiplab.policy.funding import allocate_plan, plan_budget_sources, problem_document
from tiplab.policy.plan import demo_plan, dump_plan, load_plan


def _run(args: list[str], tmp_path: Path) -> tuple[int, str]:
    out = CliRunner().invoke(app, args, env={"TIPLAB_DATA_DIR": str(tmp_path / "data"),
                                             "COLUMNS": "200"})
    return out.exit_code, out.output


def test_new_import_show_status_and_diff(tmp_path: Path) -> None:
    code, out = _run(["plan", "new", "nap", "--title", "NAP", "--country", "Utopia",
                      "--period", "2025-2027", "--pillars", "3p", "--json"], tmp_path)
    assert code == 0, out
    body = json.loads(out)
    assert [p["id"] for p in body["plan"]["pillars"]] == ["prevention", "protection",
                                                          "prosecution"]
    assert body["stored"]["revision"] == 1
    demo = tmp_path / "demo.yaml"
    demo.write_text(dump_plan(demo_plan()), encoding="utf-8")
    code, out = _run(["plan", "import", str(demo), "--json"], tmp_path)
    assert code == 0, out
    assert json.loads(out)["measures"] == 10
    code, out = _run(["plan", "show", "xt-nap-2025", "--json"], tmp_path)
    body = json.loads(out)
    assert set(body) == {"plan", "budget", "logframe", "hash"}
    assert body["budget"]["total"] == 3_305_000
    assert len(body["logframe"]) >= 10
    code, out = _run(["plan", "status", "xt-nap-2025", "adopted", "--json"], tmp_path)
    assert code == 0, out
    assert json.loads(out)["status"] == "adopted"
    # the adopted version cannot be changed by importing an edited file
    d = yaml.safe_load(demo.read_text(encoding="utf-8"))
    d["title"] = "Edited after adoption"
    demo.write_text(yaml.safe_dump(d | {"status": "adopted"}), encoding="utf-8")
    code, out = _run(["plan", "import", str(demo), "--json"], tmp_path)
    assert code == 2
    assert "cannot be edited" in json.loads(out)["error"]["message"]
    code, out = _run(["plan", "new-version", "xt-nap-2025", "--json"], tmp_path)
    assert json.loads(out)["version"] == 2
    d["status"], d["version"] = "draft", 2
    demo.write_text(yaml.safe_dump(d), encoding="utf-8")
    code, out = _run(["plan", "import", str(demo), "--json"], tmp_path)
    assert code == 0, out
    code, out = _run(["plan", "diff", "xt-nap-2025@1", "xt-nap-2025", "--json"], tmp_path)
    body = json.loads(out)
    assert {"field": "title", "old": demo_plan().title, "new": "Edited after adoption"} in \
        body["header"]
    assert body["empty"] is False


def test_a_bad_file_is_refused_whole_with_line_and_field(tmp_path: Path) -> None:
    d = demo_plan().to_dict()
    d["objectives"][0]["measures"][0]["budget"][0]["year"] = 2031
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(d, sort_keys=False), encoding="utf-8")
    code, out = _run(["plan", "import", str(bad), "--json"], tmp_path)
    assert code == 2
    message = json.loads(out)["error"]["message"]
    assert "line " in message
    assert "budget[0].year" in message
    assert not (tmp_path / "data" / "plans").exists()


def test_export_formats(tmp_path: Path) -> None:
    demo = tmp_path / "demo.yaml"
    demo.write_text(dump_plan(demo_plan()), encoding="utf-8")
    for fmt, head in (("pdf", b"%PDF"), ("docx", b"PK"), ("html", b"<!DOCTYPE")):
        target = tmp_path / f"plan.{fmt}"
        code, out = _run(["plan", "export", str(demo), "--format", fmt, "--out",
                          str(target)], tmp_path)
        assert code == 0, out
        assert target.read_bytes().startswith(head), fmt
    code, out = _run(["plan", "export", str(demo), "--format", "json"], tmp_path)
    assert json.loads(out)["id"] == "xt-nap-2025"
    assert load_plan(out).to_dict() == demo_plan().to_dict()  # (JSON keys are text)


def test_allocate_json_shape_and_infeasible_exit(tmp_path: Path) -> None:
    from importlib import resources

    demo = tmp_path / "demo.yaml"
    demo.write_text(dump_plan(demo_plan()), encoding="utf-8")
    scenario = tmp_path / "s.yaml"
    scenario.write_text(resources.files("tiplab.policy").joinpath(
        "plans", "demo-scenario.yaml").read_text("utf-8"), encoding="utf-8")
    code, out = _run(["allocate", str(demo), "--scenario", str(scenario), "--greedy",
                      "--json"], tmp_path)
    assert code == 0, out
    body = json.loads(out)
    assert body["allocation"]["status"] == "optimal"
    assert body["greedy"]["total_effect"] is not None
    assert {"binding", "shadow_prices", "totals", "measures", "problem_hash"} <= \
        set(body["allocation"])
    d = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    d["constraints"]["pillar_shares"].append({"pillar": "prosecution", "min_share": 0.7})
    scenario.write_text(yaml.safe_dump(d), encoding="utf-8")
    code, out = _run(["allocate", str(demo), "--scenario", str(scenario), "--json"],
                     tmp_path)
    assert code == 1
    body = json.loads(out)
    assert body["allocation"]["status"] == "infeasible"
    assert "prosecution" in body["allocation"]["message"]


def test_a_scenario_takes_pillars_titles_regions_and_money_from_the_plan() -> None:
    plan = demo_plan()
    doc = problem_document(plan, {"measures": {"PV1.1": {"unit_cost": 1000, "effect": 1},
                                               "PA1.1": {"unit_cost": 100, "effect": 1}}})
    m = {x["id"]: x for x in doc["measures"]}
    assert m["PV1.1"]["pillar"] == "prevention"
    assert m["PV1.1"]["regions"] == ["XT-05", "XT-12"]
    assert m["PA1.1"]["regions"] == "national"
    assert doc["years"] == [2025, 2026, 2027, 2028]
    gov = next(s for s in plan_budget_sources(plan) if s["id"] == "government")
    assert sum(gov["budget"].values()) == sum(
        b.amount for _o, x in plan.measures() for b in x.budget if b.source == "government")
    with pytest.raises(AllocationError, match="the plan has no measure 'XX'"):
        problem_document(plan, {"measures": {"XX": {"unit_cost": 1, "effect": 1}}})
    with pytest.raises(AllocationError, match="line 3: not valid YAML"):
        allocate_plan(plan, "measures:\n  PV1.1: {unit_cost: [\n")
    with pytest.raises(AllocationError, match="unknown field"):
        problem_document(plan, {"measures": {"PV1.1": {"unit_cost": 1, "effect": 1}},
                                "budget": 5})
    result = allocate_plan(plan, {"measures": {"PV1.1": {"unit_cost": 1000, "effect": 1}}})
    # one measure with no limit, and the plan's own budget lines as the money: all of it
    assert result.status == "optimal"
    assert result.total_spend == pytest.approx(3_305_000)
