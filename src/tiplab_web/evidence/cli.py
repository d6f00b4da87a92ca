from __future__ import annotations

from typing import Any


def register(app: Any) -> None:
    """No commands yet."""
