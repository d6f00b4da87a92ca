"""Permission-ladder rows of the reporting app (appended to ``tests/web/ladder.py``'s LADDER)."""

from __future__ import annotations

from tests.web.ladder import Rung

ROWS: list[Rung] = []
