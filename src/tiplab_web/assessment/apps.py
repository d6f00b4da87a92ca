from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentConfig(AppConfig):
    name = "tiplab_web.assessment"
    label = "assessment"
    verbose_name = "Legal-framework assessment"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        nav.register(nav.NavItem(key="assessment", label=_("Legal framework"),
                                 url_name="assessment:index", capability="assessment.view",
                                 order=88, also=("assessment:*",)))
