"""Dashboard panel: releases awaiting approval, the privacy budget, the latest brief."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def context(request: HttpRequest) -> dict[str, Any]:
    from . import services
    from .models import Brief, ReleaseVersion

    led = services.ledger()
    waiting = list(ReleaseVersion.objects.filter(status__in=("checked", "blocked"))
                   .select_related("release").order_by("-prepared_at")[:5])
    latest = services.published_versions().first()
    brief = (Brief.objects.filter(version__status="published", published=True)
             .select_related("version__release").order_by("-updated_at").first())
    return {"waiting": waiting, "latest": latest, "brief": brief, "ledger": led,
            "spent": services.spent(led)}


def register() -> None:
    from tiplab_web.core import panels

    panels.register(panels.Panel(
        key="publications", title=_("Publications"), template="publications/panel.html",
        capability="publications.panel", context=context, order=96))
