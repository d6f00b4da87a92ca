"""Permission-ladder rows of the monitoring app (appended to ``tests/web/ladder.py``'s LADDER).

``monitoring.view`` (agency reporters, policy officers, analysts, data stewards,
administrators) opens the list and the completeness dashboard. A round's page belongs to the
plan's organisation (agency reporters get 404: they see their own forms only). A form is seen
by the plan's organisation and by the agency that owes it; values are entered by the agency's
``indicators.submit`` holders (the rows' form is the home organisation's, so its policy
officer enters too), reviewed by data stewards. Outsiders (another organisation) get 404."""

from __future__ import annotations

from tests.web import monitoring_support as M
from tests.web.ladder import TOKEN_HOLDERS, Rung

from tiplab_web.core.roles import (
    ADMINISTRATOR,
    AGENCY_REPORTER,
    ANALYST,
    DATA_STEWARD,
    POLICY_OFFICER,
)

VIEW = frozenset({AGENCY_REPORTER, POLICY_OFFICER, ANALYST, DATA_STEWARD, ADMINISTRATOR})
FOLLOW = VIEW - {AGENCY_REPORTER}
MANAGE = frozenset({POLICY_OFFICER})
ENTER = frozenset({AGENCY_REPORTER, POLICY_OFFICER})
REVIEW = frozenset({DATA_STEWARD})

ROWS: list[Rung] = [
    Rung("monitoring:index", allowed=VIEW),
    Rung("monitoring:overview", allowed=VIEW),
    Rung("monitoring:new", allowed=MANAGE),
    Rung("monitoring:new", "post", allowed=MANAGE,
         data=lambda w, u: {"plan": M.make_plan(w).pk, "period": "2026",
                            "opens_on": "2026-01-01", "deadline": "2027-01-31"}),
    Rung("monitoring:round", allowed=FOLLOW, kwargs=M.round_kwargs, outsider=True,
         denied_for=((AGENCY_REPORTER, 404),),
         note="agency reporters see their own forms, not the round"),
    Rung("monitoring:add_item", "post", allowed=MANAGE, kwargs=M.round_kwargs, outsider=True,
         data=lambda w, u: {"organisation": w.home.pk, "indicator": "M-POL|PROS-03"}),
    Rung("monitoring:remove_item", "post", allowed=MANAGE, kwargs=M.item_kwargs,
         outsider=True),
    Rung("monitoring:close", "post", allowed=MANAGE, kwargs=M.round_kwargs, outsider=True),
    Rung("monitoring:form", allowed=VIEW, kwargs=M.form_kwargs, outsider=True),
    Rung("monitoring:values", "post", allowed=ENTER, kwargs=M.form_kwargs, outsider=True,
         data={"v-0": "1", "action": "save"}, note="no value of this form: nothing changed"),
    Rung("monitoring:template", allowed=ENTER, kwargs=M.template_kwargs, outsider=True),
    Rung("monitoring:upload", "post", allowed=ENTER, kwargs=M.form_kwargs, outsider=True,
         note="no file: back with the error"),
    Rung("monitoring:review", "post", allowed=REVIEW, kwargs=M.submitted_form_kwargs,
         outsider=True, data={"decision": "approve"}),
    Rung("api:monitoring_forms", api=True, allowed=TOKEN_HOLDERS, denied=401, ok=(200,)),
    Rung("api:monitoring_form", api=True, allowed=TOKEN_HOLDERS, denied=401, ok=(200,),
         kwargs=M.form_kwargs, outsider=True),
    Rung("api:monitoring_put_values", "put", api=True, allowed=frozenset({AGENCY_REPORTER}),
         denied=401, ok=(200,), kwargs=M.form_kwargs, data=M.values_json, outsider=True,
         denied_for=((ANALYST, 403),)),
    Rung("api:monitoring_submit", "post", api=True, allowed=frozenset({AGENCY_REPORTER}),
         denied=401, ok=(200, 422), kwargs=M.form_kwargs, outsider=True,
         denied_for=((ANALYST, 403),), note="no value entered: 422 says which are missing"),
    Rung("api:monitoring_round_status", api=True, allowed=frozenset({ANALYST}), denied=401,
         ok=(200,), kwargs=M.round_kwargs, outsider=True,
         denied_for=((AGENCY_REPORTER, 404),)),
]
