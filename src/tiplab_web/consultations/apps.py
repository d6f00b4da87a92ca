from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationsConfig(AppConfig):
    name = "tiplab_web.consultations"
    label = "consultations"
    verbose_name = "Consultations and survivors' voice"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        nav.register(nav.NavItem(key="consultations", label=_("Consultations"),
                                 url_name="consultations:index",
                                 capability="consultations.view", order=92,
                                 also=("consultations:*",)))
