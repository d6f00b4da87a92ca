"""Compute the peer implementations' numbers on the data in this folder.

Not part of the test suite (the peers are not tiplab dependencies). Re-run with:

    .venv/bin/uv pip install --target /tmp/peers csdid==0.4.3 pysyncon==1.7.0 linearmodels==7.1
    PYTHONPATH=/tmp/peers .venv/bin/python tests/results/impact/peers.py \
        > tests/results/impact/peers.json
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).parent
_stdout, sys.stdout = sys.stdout, sys.stderr  # the peers print their summaries: keep them out
out: dict[str, object] = {"versions": {p: version(p) for p in
                                       ("csdid", "pysyncon", "linearmodels", "numpy", "pandas",
                                        "scipy")},
                          "python": sys.version.split()[0]}

# --- linearmodels: two-way fixed effects, clustered by state (organ donations) -------------
from linearmodels.panel import PanelOLS  # noqa: E402

od = pd.read_csv(HERE / "organ_donations.csv")
od["treated"] = ((od.State == "California") & (od.Quarter_Num >= 4)).astype(float)
p = od.set_index(["State", "Quarter_Num"])
m = PanelOLS(p.Rate, p[["treated"]], entity_effects=True, time_effects=True)
# linearmodels scales the cluster sandwich by N/(N - (entities-1) - (periods-1) - 1) here
# (the absorbed effects); tiplab by Stata's CR1 factor. The tests convert between the two.
RAW = {"cov_type": "clustered", "cluster_entity": True, "count_effects": False,
       "debiased": False}
r = m.fit(**RAW)
out["organ_twfe"] = {"estimate": float(r.params["treated"]),
                     "std_error": float(r.std_errors["treated"]),
                     "call": "PanelOLS(Rate ~ treated + EntityEffects + TimeEffects)"
                             ".fit(cov_type='clustered', cluster_entity=True, "
                             "count_effects=False, debiased=False)"}
# event study: relative quarter dummies for California, reference -1 (quarter 3)
ev = {}
for k in (-3, -2, 0, 1, 2):
    od[f"e{k}"] = ((od.State == "California") & (od.Quarter_Num - 4 == k)).astype(float)
p = od.set_index(["State", "Quarter_Num"])
cols = [f"e{k}" for k in (-3, -2, 0, 1, 2)]
r = PanelOLS(p.Rate, p[cols], entity_effects=True, time_effects=True).fit(**RAW)
out["organ_event"] = {c: {"estimate": float(r.params[c]), "std_error": float(r.std_errors[c])}
                      for c in cols}

# castle: TWFE with the staggered adoption
ca = pd.read_csv(HERE / "castle.csv")
ca["d"] = ((ca.first_treat > 0) & (ca.year >= ca.first_treat)).astype(float)
p = ca.set_index(["sid", "year"])
r = PanelOLS(p.l_homicide, p[["d"]], entity_effects=True, time_effects=True).fit(**RAW)
out["castle_twfe"] = {"estimate": float(r.params["d"]), "std_error": float(r.std_errors["d"])}

# --- csdid: Callaway & Sant'Anna, never-treated controls, no covariates (castle) -----------
from csdid.att_gt import ATTgt  # noqa: E402

att = ATTgt(yname="l_homicide", gname="first_treat", idname="sid", tname="year",
            data=ca, control_group="nevertreated").fit(est_method="reg", bstrap=False)
res = att.results
out["castle_cs_attgt"] = [
    {"group": int(g), "period": int(t), "estimate": float(a), "std_error": float(s)}
    for g, t, a, s in zip(res["group"], res["year"], res["att"], res["se"], strict=True)
]
agg = {}
for typ in ("simple", "dynamic", "group"):
    a = att.aggte(typec=typ, bstrap=False)
    agg[typ] = {"estimate": float(a.atte["overall_att"]), "std_error": float(a.atte["overall_se"])}
    if typ == "dynamic":
        agg["dynamic_by_e"] = {int(e): {"estimate": float(v), "std_error": float(s)}
                               for e, v, s in zip(a.atte["egt"], a.atte["att_egt"],
                                                  a.atte["se_egt"], strict=True)}
out["castle_cs_aggte"] = agg

# --- pysyncon: synthetic control for California on the 19 pre-period outcomes ------------
# pysyncon divides each predictor by its standard deviation across units before applying V;
# V = that variance makes the loss the plain sum of squared pre-period gaps (tiplab's V = I).
from pysyncon import Dataprep, Synth  # noqa: E402

cal = pd.read_csv(HERE / "california_prop99.csv")
pre_years = list(range(1970, 1989))
wide = cal.pivot(index="state", columns="year", values="cigsale")


def synth_fit(treated: str, controls: list[str]) -> tuple[dict[str, float], pd.Series]:
    dp = Dataprep(foo=cal, predictors=[], predictors_op="mean", dependent="cigsale",
                  unit_variable="state", time_variable="year", treatment_identifier=treated,
                  controls_identifier=controls, time_predictors_prior=pre_years,
                  special_predictors=[("cigsale", [y], "mean") for y in pre_years],
                  time_optimize_ssr=pre_years)
    v = wide.loc[[treated, *controls], pre_years].var(axis=0).to_numpy()
    s = Synth()
    s.fit(dataprep=dp, custom_V=v)
    z0, z1 = dp.make_outcome_mats(time_period=list(wide.columns))
    return {k: float(x) for k, x in s.weights(round=10).items()}, s._gaps(Z0=z0, Z1=z1)


donors = sorted(set(cal.state) - {"California"})
weights, gap = synth_fit("California", donors)


def ratio(g: pd.Series) -> float:
    pre, post = g.loc[g.index < 1989], g.loc[g.index >= 1989]
    return float(np.sqrt((post**2).mean()) / np.sqrt((pre**2).mean()))


def pre_rmspe(g: pd.Series) -> float:
    return float(np.sqrt((g.loc[g.index < 1989] ** 2).mean()))


ratios = {"California": ratio(gap)}
pre_fit = {"California": pre_rmspe(gap)}
for d in donors:
    g = synth_fit(d, [c for c in donors if c != d])[1]
    ratios[d], pre_fit[d] = ratio(g), pre_rmspe(g)
out["california_synth"] = {
    "weights": {k: v for k, v in weights.items() if v > 1e-8},
    "gap_2000": float(gap.loc[2000]),
    "pre_rmspe": float(np.sqrt((gap.loc[gap.index < 1989] ** 2).mean())),
    "rmspe_ratios": ratios,
    "placebo_pre_rmspe": pre_fit,
    "p_value_rank": sum(r >= ratios["California"] for r in ratios.values()) / len(ratios),
    "call": "Synth().fit(dataprep, custom_V=<variance of cigsale per pre year across the "
            "units of the fit>); special predictors = cigsale in each year 1970-1988; each "
            "donor in turn treated with the other donors as its pool",
}
_stdout.write(json.dumps(out, indent=1, sort_keys=True) + "\n")
