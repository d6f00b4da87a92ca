from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def late_context(request: Any) -> dict[str, Any]:
    """Agencies late in the open rounds the manager runs."""
    from . import services

    return {"rows": services.late_forms(request.user)[:10]}


class MonitoringConfig(AppConfig):
    name = "tiplab_web.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring: reporting rounds"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav, panels

        from .jobs import register_jobs

        nav.register(nav.NavItem(key="monitoring", label=_("Monitoring"),
                                 url_name="monitoring:index", capability="monitoring.view",
                                 order=93, also=("monitoring:*",)))
        panels.register(panels.Panel(
            key="monitoring_late", title=_("Reporting rounds: late agencies"),
            template="monitoring/panels/late.html", capability="monitoring.manage",
            context=late_context, order=93))
        register_jobs()
