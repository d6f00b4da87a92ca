from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvidenceConfig(AppConfig):
    name = "tiplab_web.evidence"
    label = "evidence"
    verbose_name = "Qualitative evidence: interview notes, coding, themes"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        from . import demo, jobs, panels

        jobs.register_jobs()
        demo.register_jobs()
        panels.register()
        nav.register(nav.NavItem(key="evidence", label=_("Interview notes"),
                                 url_name="evidence:index", capability="evidence.view",
                                 order=87, also=("evidence:*",)))
