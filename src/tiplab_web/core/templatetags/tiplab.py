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
def as_pairs(value: Any) -> list[tuple[str, str]]:
    """Audit details as (name, readable value) pairs: words for a person, not raw JSON.
    Lists are joined, nested objects written as ``key: value`` in brackets, empty values
    left out."""

    def text(v: Any) -> str:
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, list | tuple):
            return ", ".join(text(x) for x in v)
        if isinstance(v, dict):
            return "(" + "; ".join(f"{k}: {text(x)}" for k, x in sorted(v.items())
                                   if x not in (None, "", [], {})) + ")"
        return str(v)

    if not isinstance(value, dict):
        return [("", text(value))] if value not in (None, "") else []
    return [(str(k).replace("_", " "), text(v)) for k, v in sorted(value.items())
            if v not in (None, "", [], {})]


@register.filter
def label(value: Any, field: str) -> str:
    """``{{ r.sex|label:"sex" }}``: a code in words (``core.labels``)."""
    from tiplab_web.core.labels import label as _label

    return _label(value, field)


@register.simple_tag
def term(slug: str) -> str:
    """``{% term "gi-star" %}``: a small "?" link to the term in the glossary."""
    from django.urls import reverse
    from django.utils.html import format_html
    from django.utils.translation import gettext as _

    from tiplab_web.core.glossary import TERMS

    name = TERMS[slug][0]
    return format_html('<a class="term" href="{}#{}" title="{}" aria-label="{}">?</a>',
                       reverse("core:glossary"), slug, name,
                       _("%(term)s in the glossary") % {"term": name})


@register.filter
def can(user: Any, capability: str) -> bool:
    """``{% if user|can:"cases.export" %}`` in templates."""
    return _can(user, capability)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    """``{{ labels|get:code }}``: a dictionary's value for a key held in a variable."""
    try:
        return mapping.get(key, "")
    except AttributeError:
        return ""
