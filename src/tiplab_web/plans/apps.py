from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlansConfig(AppConfig):
    name = "tiplab_web.plans"
    label = "plans"
    verbose_name = "National Action Plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        from .demo import register_jobs

        register_jobs()

        nav.register(nav.NavItem(key="plans", label=_("Action plans"), url_name="plans:index",
                                 capability="plans.list", order=90, also=("plans:*",)))
