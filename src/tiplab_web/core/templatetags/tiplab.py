"""Template helpers for the shell: ``{% load tiplab %}``."""

from __future__ import annotations

import json
from typing import Any

from django import template

from tiplab_web.core.access import can as _can

register = template.Library()


@register.filter
def as_json(value: Any) -> str:
    """Compact, readable JSON (for audit details); autoescaped by the template."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


@register.filter
def can(user: Any, capability: str) -> bool:
    """``{% if user|can:"cases.export" %}`` in templates."""
    return _can(user, capability)
