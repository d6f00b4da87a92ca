from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportingConfig(AppConfig):
    name = "tiplab_web.reporting"
    label = "reporting"
    verbose_name = "Safe reporting channel"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        nav.register(nav.NavItem(key="reporting", label=_("Reports from the public"),
                                 url_name="reporting:index", capability="reporting.triage",
                                 order=95, also=("reporting:*",)))
