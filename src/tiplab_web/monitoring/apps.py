from __future__ import annotations

from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "tiplab_web.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring: reporting rounds"
    default_auto_field = "django.db.models.BigAutoField"
