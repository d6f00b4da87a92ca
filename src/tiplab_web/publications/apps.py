from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublicationsConfig(AppConfig):
    name = "tiplab_web.publications"
    label = "publications"
    verbose_name = "Publications: releases, privacy budget, briefs, public portal"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        from . import demo, jobs, panels

        jobs.register_jobs()
        demo.register_jobs()
        panels.register()
        nav.register(nav.NavItem(key="publications", label=_("Publications"),
                                 url_name="publications:index",
                                 capability="publications.view", order=96,
                                 also=("publications:*",)))
