"""Permission-ladder rows of the screening app (appended to ``tests/web/ladder.py``).

Batches belong to the organisation that uploaded them: outsiders get 404. Only analysts and
data stewards screen and review (``screening.view|run|review``)."""

from __future__ import annotations

from tests.web import screening_support as _scr
from tests.web.ladder import Rung

from tiplab_web.core.roles import ANALYST, DATA_STEWARD

SCREEN = frozenset({ANALYST, DATA_STEWARD})

ROWS: list[Rung] = [
    Rung("screening:index", allowed=SCREEN),
    Rung("screening:new", allowed=SCREEN),
    Rung("screening:new", "post", allowed=SCREEN, data={"kind": "texts"}, ok=(400,),
         note="no file: the form again with the error"),
    Rung("screening:batch", allowed=SCREEN, kwargs=_scr.batch_kwargs, outsider=True),
    Rung("screening:queue", allowed=SCREEN, kwargs=_scr.batch_kwargs, outsider=True),
    Rung("screening:export", allowed=SCREEN, kwargs=_scr.batch_kwargs, outsider=True),
    Rung("screening:review", "post", allowed=SCREEN, kwargs=_scr.item_kwargs, outsider=True,
         data={"action": "confirm", "note": ""}),
]
