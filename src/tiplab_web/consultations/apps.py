from __future__ import annotations

from django.apps import AppConfig


class ConsultationsConfig(AppConfig):
    name = "tiplab_web.consultations"
    label = "consultations"
    verbose_name = "Consultations and survivors' voice"
    default_auto_field = "django.db.models.BigAutoField"
