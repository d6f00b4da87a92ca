from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "tiplab_web.evaluation"
    label = "evaluation"
    verbose_name = "Evaluation: scorecards, reviews, impact"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from tiplab_web.core import nav

        from . import demo, impact

        impact.register_jobs()
        demo.register_jobs()

        nav.register(nav.NavItem(key="evaluation", label=_("Scorecards and reviews"),
                                 url_name="evaluation:index", capability="evaluation.view",
                                 order=94, also=("evaluation:*",)))
