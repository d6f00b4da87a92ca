"""Permission-ladder rows of the reporting app (appended to ``tests/web/ladder.py``'s LADDER).

The public pages (``/report/``) answer everyone, signed in or not; the staff pages
(``/reporting/``) are for data stewards of the national coordinator: every other role gets
403, and a data steward of another kind of organisation (the outsider, a shelter) gets 404
for a report, whose existence does not leak."""

from __future__ import annotations

from tests.web import reporting_support as _rs
from tests.web.ladder import Rung

from tiplab_web.core.roles import DATA_STEWARD

TRIAGE = frozenset({DATA_STEWARD})

ROWS: list[Rung] = [
    Rung("report:form", public=True),
    Rung("report:form", "post", public=True, data=_rs.REPORT_POST,
         note="a valid report: the receipt page"),
    Rung("report:receipt", public=True),
    Rung("report:receipt", "post", public=True, data=_rs.receipt_data,
         note="a valid code: the reporter's thread"),
    Rung("reporting:index", allowed=TRIAGE),
    Rung("reporting:detail", allowed=TRIAGE, kwargs=_rs.report_kwargs, outsider=True),
    Rung("reporting:triage", "post", allowed=TRIAGE, kwargs=_rs.report_kwargs, outsider=True,
         data={"status": "triage", "urgency": "high", "category": "forced_labour"}),
    Rung("reporting:reply", "post", allowed=TRIAGE, kwargs=_rs.report_kwargs, outsider=True,
         data={"text": "Thank you."}),
    Rung("reporting:note", "post", allowed=TRIAGE, kwargs=_rs.report_kwargs, outsider=True,
         data={"text": "Call the inspectorate."}),
    Rung("reporting:refer", "post", allowed=TRIAGE, kwargs=_rs.report_kwargs, outsider=True,
         data={"to": "police", "organisation": "National Police", "on": "2025-01-02"}),
    Rung("reporting:duplicate", "post", allowed=TRIAGE, kwargs=_rs.report_kwargs,
         outsider=True, data={"original": "R-99999"}, note="no such original: back with it"),
    Rung("reporting:convert", "post", allowed=TRIAGE, kwargs=_rs.report_kwargs, outsider=True,
         note="no category yet: back with the reason"),
    Rung("reporting:attachment", allowed=TRIAGE, kwargs=_rs.attachment_kwargs, outsider=True),
]
