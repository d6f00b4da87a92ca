from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def latest_estimate_context(request: Any) -> dict[str, Any]:
    from .access import runs_for

    return {"run": runs_for(request.user).filter(status="done").first()}


class EstimatesConfig(AppConfig):
    name = "tiplab_web.estimates"
    label = "estimates"
    verbose_name = "Estimates"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav, panels

        from .services import register_jobs

        register_jobs()

        nav.register(nav.NavItem(key="estimates", label=_("Estimates"),
                                 url_name="estimates:runs", capability="insights.view",
                                 order=40))
        panels.register(panels.Panel(
            key="latest_estimate", title=_("Latest estimate of the hidden number"),
            template="estimates/panels/latest.html", capability="insights.view",
            context=latest_estimate_context, order=36))
