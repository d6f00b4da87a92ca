from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScreeningConfig(AppConfig):
    name = "tiplab_web.screening"
    label = "screening"
    verbose_name = "Screening: case narratives and online texts for trafficking indicators"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        from . import demo, jobs

        jobs.register_jobs()
        demo.register_jobs()
        nav.register(nav.NavItem(key="screening", label=_("Screening"),
                                 url_name="screening:index", capability="screening.view",
                                 order=87, also=("screening:*",)))
