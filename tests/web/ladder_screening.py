"""Permission-ladder rows of the screening app (appended to ``tests/web/ladder.py``)."""

from __future__ import annotations

from tests.web.ladder import Rung

ROWS: list[Rung] = []
