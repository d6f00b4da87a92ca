"""Permission-ladder rows of the evaluation app (appended to ``tests/web/ladder.py``'s LADDER).

The scorecard reads the reporting rounds' approved values; with none, every indicator is "no
data yet" — enough for the ladder."""

from __future__ import annotations

from tests.web import evaluation_support as _ev
from tests.web.ladder import Rung

from tiplab_web.core.roles import ADMINISTRATOR, ANALYST, DATA_STEWARD, POLICY_OFFICER

VIEW = frozenset({POLICY_OFFICER, ANALYST, DATA_STEWARD, ADMINISTRATOR})
REVIEW = frozenset({POLICY_OFFICER})
IMPACT = frozenset({POLICY_OFFICER, ANALYST})

ROWS: list[Rung] = [
    Rung("evaluation:index", allowed=VIEW),
    Rung("evaluation:scorecard", allowed=VIEW, kwargs=_ev.plan_kwargs, outsider=True),
    Rung("evaluation:schedule", "post", allowed=REVIEW, kwargs=_ev.plan_kwargs, outsider=True),
    Rung("evaluation:review", allowed=VIEW, kwargs=_ev.review_kwargs, outsider=True),
    Rung("evaluation:snapshot", allowed=VIEW, kwargs=_ev.held_review_kwargs, outsider=True),
    Rung("evaluation:review_action", "post", allowed=REVIEW, outsider=True,
         kwargs=lambda w, u: {**_ev.held_review_kwargs(w, u), "action": "findings"},
         data={"findings": "Shelter capacity lags."}),
    Rung("evaluation:decide", "post", allowed=REVIEW, kwargs=_ev.recommendation_kwargs,
         outsider=True, data={"accept": "yes"}),
    Rung("evaluation:impact", allowed=VIEW, kwargs=_ev.plan_kwargs, outsider=True),
    Rung("evaluation:impact", "post", allowed=IMPACT, kwargs=_ev.plan_kwargs, outsider=True,
         data={"measure": "M1", "method": "did", "start": "2021"},
         note="no region chosen: back with the message"),
    Rung("evaluation:impact_detail", allowed=VIEW, kwargs=_ev.impact_kwargs, outsider=True),
]
