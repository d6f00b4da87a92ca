from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "tiplab_web.jobs"
    label = "jobs"
    verbose_name = "Background jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        nav.register(nav.NavItem(key="jobs", label=_("Jobs"), url_name="jobs:list",
                                 capability="jobs.view", order=890, also=("jobs:*",)))
