from __future__ import annotations

from django.apps import AppConfig


class EvaluationConfig(AppConfig):
    name = "tiplab_web.evaluation"
    label = "evaluation"
    verbose_name = "Evaluation: scorecards, reviews, impact"
    default_auto_field = "django.db.models.BigAutoField"
