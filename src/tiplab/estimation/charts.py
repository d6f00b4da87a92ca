"""Charts (Altair; saved to PNG/SVG/HTML offline through vl-convert with ``chart.save(path)``)."""

from __future__ import annotations

from typing import Any

from tiplab.estimation.results import MSEResult, SensitivityTable, StratifiedResult


def estimates_chart(sens: SensitivityTable) -> Any:
    """Point estimate and interval per method, with the observed count as a rule."""
    import altair as alt
    import pandas as pd

    rows = [r for r in sens.rows if r.get("estimate") is not None]
    df = pd.DataFrame([{"method": r["method"], "estimate": r["estimate"],
                        "lower": r["lower"], "upper": r["upper"],
                        "interval": r.get("interval_type", "")} for r in rows])
    base = alt.Chart(df).encode(y=alt.Y("method:N", sort=None, title=None))
    bars = base.mark_rule().encode(x=alt.X("lower:Q", title="Estimated population"),
                                   x2="upper:Q")
    pts = base.mark_point(filled=True, size=60).encode(
        x="estimate:Q", tooltip=["method", "estimate", "lower", "upper", "interval"])
    obs = alt.Chart(pd.DataFrame({"observed": [sens.observed]})).mark_rule(
        strokeDash=[4, 4], color="grey").encode(x="observed:Q")
    return (bars + pts + obs).properties(
        title="Estimates by method (dashed: observed cases)", width=420)


def bootstrap_chart(result: MSEResult) -> Any:
    """Histogram of the bootstrap replicates with the estimate and the interval."""
    import altair as alt
    import pandas as pd

    if result.bootstrap is None:
        raise ValueError("the result has no bootstrap; run with nboot > 0.")
    df = pd.DataFrame({"replicate": result.bootstrap.replicates})
    hist = alt.Chart(df).mark_bar().encode(
        x=alt.X("replicate:Q", bin=alt.Bin(maxbins=40), title="Bootstrap estimate"),
        y=alt.Y("count():Q", title="Replicates"))
    lines = pd.DataFrame({"value": [result.estimate, *result.interval],
                          "what": ["estimate", "lower", "upper"]})
    rules = alt.Chart(lines).mark_rule(color="firebrick").encode(x="value:Q",
                                                                  tooltip=["what", "value"])
    return (hist + rules).properties(
        title=f"Bootstrap distribution ({result.method}, {result.bootstrap.replicates.size} "
              "replicates)", width=420)


def strata_chart(strat: StratifiedResult) -> Any:
    """Observed vs estimated population by stratum, with intervals."""
    import altair as alt
    import pandas as pd

    rows = []
    for key, r in strat.results():
        label = ", ".join("not recorded" if v is None else str(v) for v in key.values())
        rows.append({"stratum": label, "value": r.observed, "kind": "observed",
                     "lower": None, "upper": None})
        rows.append({"stratum": label, "value": r.estimate, "kind": "estimated",
                     "lower": r.interval[0], "upper": r.interval[1]})
    df = pd.DataFrame(rows)
    base = alt.Chart(df).encode(y=alt.Y("stratum:N", title=None))
    pts = base.mark_point(filled=True, size=60).encode(
        x=alt.X("value:Q", title="Cases"), color="kind:N",
        tooltip=["stratum", "kind", "value", "lower", "upper"])
    err = base.transform_filter("datum.kind == 'estimated'").mark_rule().encode(
        x="lower:Q", x2="upper:Q")
    return (err + pts).properties(title="Observed and estimated by stratum", width=420)
