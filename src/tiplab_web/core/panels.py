"""The dashboard panel registry. Each app adds panels in ``AppConfig.ready()``::

    from tiplab_web.core import panels
    panels.register(panels.Panel(
        key="records_by_source", title=_("Records by source and year"),
        template="cases/panels/records_by_source.html", capability="insights.view",
        context=records_by_source_context, order=10, width="wide"))

``context(request)`` returns the template context (keep it cheap: read the analytics
snapshot, never scan case tables). With ``lazy=True`` the home page shows a placeholder and
htmx fetches the panel from ``/panels/<key>/`` after the page has loaded.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string

from tiplab_web.core.access import can
from tiplab_web.core.roles import roles_with

logger = logging.getLogger("tiplab.web.panels")


def _no_context(request: HttpRequest) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class Panel:
    key: str
    title: Any
    template: str
    capability: str
    context: Callable[[HttpRequest], dict[str, Any]] = field(default=_no_context)
    order: int = 100
    width: str = "normal"  # "normal" (one column) or "wide" (full row)
    lazy: bool = False


@dataclass(frozen=True)
class RenderedPanel:
    panel: Panel
    html: str


_REGISTRY: dict[str, Panel] = {}


def register(panel: Panel) -> None:
    """Add (or replace, by ``key``) a dashboard panel."""
    roles_with(panel.capability)
    if panel.width not in ("normal", "wide"):
        raise ValueError(f"panel {panel.key!r}: width must be 'normal' or 'wide'")
    _REGISTRY[panel.key] = panel


def registered() -> list[Panel]:
    return sorted(_REGISTRY.values(), key=lambda p: (p.order, p.key))


def get(key: str) -> Panel | None:
    return _REGISTRY.get(key)


def visible_panels(request: HttpRequest) -> list[Panel]:
    return [p for p in registered() if can(request.user, p.capability)]


def render_panel(request: HttpRequest, panel: Panel) -> str:
    """The panel's body HTML. A failing panel logs and shows a notice, not a broken page."""
    try:
        context = {"panel": panel, **panel.context(request)}
        return render_to_string(panel.template, context, request=request)
    except Exception:
        logger.exception("dashboard panel %s failed", panel.key)
        return render_to_string("core/panel_error.html", {"panel": panel}, request=request)
