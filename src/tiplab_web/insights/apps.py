from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InsightsConfig(AppConfig):
    """Trends, profiles, routes and hotspots (``tiplab.analysis``) as pages."""

    name = "tiplab_web.insights"
    label = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from tiplab_web.core import nav

        from .gap import register_jobs
        from .vulnerability import register_jobs as register_vulnerability_jobs

        register_jobs()
        register_vulnerability_jobs()
        for key, label, order in (("trends", _("Trends"), 50), ("profiles", _("Profiles"), 60),
                                  ("routes", _("Routes"), 70), ("hotspots", _("Hotspots"), 80),
                                  ("gap", _("Detection gap"), 85),
                                  ("vulnerability", _("Vulnerability"), 86)):
            nav.register(nav.NavItem(key=key, label=label, url_name=f"insights:{key}",
                                     capability="insights.view", order=order))
