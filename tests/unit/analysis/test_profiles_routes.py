"""CTDC denominator rule on a hand-made table; route legs and centrality on known graphs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from tiplab.analysis import ProfileSettings, RouteSettings, profiles, routes
from tiplab.analysis.routes import centrality
from tiplab.privacy import DisclosureRule

# Six records. Means-of-control flags: r1 DebtBondage+Threats, r2 DebtBondage, r3 nothing
# reported (empty), r4 null, r5 Threats, r6 WithholdsDocuments+DebtBondage.
HAND = pa.table({
    "sex": ["Feminine", "Feminine", "Masculine", "Masculine", "Feminine", "Masculine"],
    "means_of_control": [["DebtBondage", "PhysicalThreats"], ["DebtBondage"], [], None,
                         ["PhysicalThreats"], ["WithholdsDocuments", "DebtBondage"]],
    "recruiter_relation": ["Familial", "Unknown", None, "Familial", "Acquainted", "Familial"],
})


def test_ctdc_denominator_rule_on_hand_made_table() -> None:
    r = profiles(HAND, ProfileSettings(group="means_of_control"))
    got = {x["flag"]: x for x in r.table.to_pylist()}
    # 4 records report at least one means; records 3 and 4 are "not reported", not "no".
    assert {x["denominator"] for x in got.values()} == {4}
    assert got["DebtBondage"]["n"] == 3
    assert got["DebtBondage"]["share"] == pytest.approx(0.75)
    assert got["PhysicalThreats"]["share"] == pytest.approx(0.5)
    assert got["WithholdsDocuments"]["share"] == pytest.approx(0.25)
    assert sum(x["share"] for x in got.values()) == pytest.approx(1.5)  # > 100% is allowed
    assert got["DebtBondage"]["records"] == 6


def test_ctdc_rule_per_breakdown_cell() -> None:
    r = profiles(HAND, ProfileSettings(group="means_of_control", by=("sex",)))
    got = {(x["sex"], x["flag"]): x for x in r.table.to_pylist()}
    assert got[("Feminine", "DebtBondage")]["denominator"] == 3
    assert got[("Feminine", "DebtBondage")]["share"] == pytest.approx(2 / 3)
    # Men: one of three records reports means (r6); r3 empty and r4 null are excluded.
    assert got[("Masculine", "DebtBondage")]["denominator"] == 1
    assert got[("Masculine", "WithholdsDocuments")]["share"] == 1.0
    assert got[("Masculine", "DebtBondage")]["reported"] == pytest.approx(1 / 3)


def test_single_code_group_excludes_unknown() -> None:
    r = profiles(HAND, ProfileSettings(group="recruiter_relation"))
    got = {x["flag"]: x for x in r.table.to_pylist()}
    assert set(got) == {"Familial", "Acquainted"}
    assert got["Familial"]["denominator"] == 4
    assert got["Familial"]["share"] == 0.75


def test_protected_single_code_profile_cannot_be_recovered_from_denominator() -> None:
    r = profiles(HAND, ProfileSettings(group="recruiter_relation"),
                 protect=DisclosureRule(threshold=2))
    rows = r.table.to_pylist()
    # Acquainted (1) is small; Familial (3) must go too, or 4 - 3 would reveal it.
    assert all(x["n"] is None for x in rows)
    assert r.protected


def _path_table(paths: list[tuple[str | None, list[str], str | None]], year: int = 2020
                ) -> pa.Table:
    return pa.table({
        "registration_date": pa.array([dt.date(year, 1, 1)] * len(paths), pa.date32()),
        "origin_country": [p[0] for p in paths],
        "transit_countries": pa.array([p[1] for p in paths], pa.list_(pa.string())),
        "country_of_exploitation": [p[2] for p in paths]})


def test_corridors_and_legs_follow_paths() -> None:
    t = _path_table([("NGA", ["LBY", "ITA"], "FRA"), ("NGA", [], "ITA"),
                     ("NGA", ["LBY"], "ITA"), (None, ["TUR"], "GRC"), ("ROU", [], "ROU")])
    r = routes(t)
    corr = {(x["origin_country"], x["country_of_exploitation"]): x
            for x in r.tables["corridors"].to_pylist()}
    assert corr[("NGA", "ITA")]["n"] == 2
    assert corr[("NGA", "FRA")]["n"] == 1
    assert corr[("ROU", "ROU")]["domestic"]
    legs = {(x["source"], x["target"]): x["n"] for x in r.tables["legs"].to_pylist()}
    assert legs == {("NGA", "LBY"): 2, ("LBY", "ITA"): 2, ("ITA", "FRA"): 1,
                    ("NGA", "ITA"): 1, ("TUR", "GRC"): 1}
    hubs = {x["country"]: x for x in r.tables["hubs"].to_pylist()}
    assert hubs["LBY"]["transit"] == 2


def test_betweenness_on_known_graphs() -> None:
    # Directed path A->B->C->D: B lies on A-C, A-D; C on A-D, B-D. Normalised by (n-1)(n-2)=6.
    e = pd.DataFrame({"source": ["A", "B", "C"], "target": ["B", "C", "D"], "n": [1, 1, 1]})
    b = centrality(e).set_index("country")["betweenness"]
    assert b.to_dict() == pytest.approx({"A": 0.0, "B": 2 / 6, "C": 2 / 6, "D": 0.0})
    # Two equal shortest paths S->X->T and S->Y->T share the credit.
    e = pd.DataFrame({"source": ["S", "S", "X", "Y"], "target": ["X", "Y", "T", "T"],
                      "n": [1, 1, 1, 1]})
    b = centrality(e).set_index("country")["betweenness"]
    assert b["X"] == pytest.approx(0.5 / 6)
    assert b["Y"] == pytest.approx(0.5 / 6)


def test_period_changes_classify_corridors() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for year, n_ab, n_cd in [(2010, 5, 40), (2011, 5, 40), (2020, 40, 0), (2021, 40, 0)]:
        rows += [("AAA", [], "BBB", year)] * n_ab + [("CCC", [], "DDD", year)] * n_cd
    rows += [("EEE", [], "FFF", 2021)] * 3
    rng.shuffle(rows)
    t = pa.table({"year": [r[3] for r in rows], "origin_country": [r[0] for r in rows],
                  "transit_countries": pa.array([r[1] for r in rows], pa.list_(pa.string())),
                  "country_of_exploitation": [r[2] for r in rows]})
    r = routes(t, RouteSettings(period_a=(2010, 2011), period_b=(2020, 2021)))
    st = {x["origin_country"]: x["status"] for x in r.tables["changes"].to_pylist()}
    assert st == {"AAA": "rising", "CCC": "disappeared", "EEE": "new"}
