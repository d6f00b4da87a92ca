from __future__ import annotations

from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "tiplab_web.reporting"
    label = "reporting"
    verbose_name = "Safe reporting channel"
    default_auto_field = "django.db.models.BigAutoField"
