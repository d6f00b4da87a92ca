"""Permission-ladder rows of the monitoring app (appended to ``tests/web/ladder.py``'s LADDER)."""

from __future__ import annotations

from tests.web.ladder import Rung

ROWS: list[Rung] = []
