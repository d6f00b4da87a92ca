"""Permission-ladder rows of the evidence app (appended to ``tests/web/ladder.py``).

Notes belong to an organisation: outsiders get 404. Policy officers read notes redacted;
analysts code; analysts and data stewards manage notes and the codebook."""

from __future__ import annotations

from tests.web import evidence_support as _ev
from tests.web.ladder import Rung

from tiplab_web.core.roles import ANALYST, DATA_STEWARD, POLICY_OFFICER

VIEW = frozenset({ANALYST, DATA_STEWARD, POLICY_OFFICER})
MANAGE = frozenset({ANALYST, DATA_STEWARD})
CODE = frozenset({ANALYST})

ROWS: list[Rung] = [
    Rung("evidence:index", allowed=VIEW),
    Rung("evidence:add", allowed=MANAGE),
    Rung("evidence:add", "post", allowed=MANAGE, data={"title": ""},
         note="no text: the form again with its errors"),
    Rung("evidence:upload", allowed=MANAGE),
    Rung("evidence:upload", "post", allowed=MANAGE, data={"title": "x"},
         note="no file: the form again with its errors"),
    Rung("evidence:note", allowed=VIEW, kwargs=_ev.note_kwargs, outsider=True),
    Rung("evidence:note_settings", "post", allowed=MANAGE, kwargs=_ev.note_kwargs,
         outsider=True, data={"language": "en", "consent_analysis": "on"}),
    Rung("evidence:code", "post", allowed=CODE, kwargs=_ev.note_kwargs, outsider=True,
         data=_ev.coding_data),
    Rung("evidence:finish", "post", allowed=CODE, kwargs=_ev.note_kwargs, outsider=True),
    Rung("evidence:quote", "post", allowed=CODE, kwargs=_ev.note_kwargs, outsider=True,
         data={"start": 0, "end": 20}, note="no consent to quote: refused with a message"),
    Rung("evidence:suggest", "post", allowed=CODE, kwargs=_ev.note_kwargs, outsider=True),
    Rung("evidence:uncode", "post", allowed=CODE, kwargs=_ev.coding_kwargs, outsider=True),
    Rung("evidence:decide", "post", allowed=CODE, kwargs=_ev.suggestion_kwargs,
         outsider=True),
    Rung("evidence:suggest_all", "post", allowed=CODE),
    Rung("evidence:next", allowed=CODE),
    Rung("evidence:agreement", allowed=VIEW),
    Rung("evidence:codebook", allowed=VIEW),
    Rung("evidence:codebook_edit", allowed=MANAGE),
    Rung("evidence:codebook_edit", "post", allowed=MANAGE, data={"mode": "add"},
         note="incomplete: the form again with its errors"),
    Rung("evidence:train", "post", allowed=MANAGE,
         note="nothing coded yet: refused with a message"),
    Rung("evidence:themes", allowed=VIEW),
    Rung("evidence:quotation", allowed=VIEW, kwargs=_ev.quotation_kwargs, outsider=True,
         ok=(200,)),
]
