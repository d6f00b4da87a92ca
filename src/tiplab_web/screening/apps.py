from __future__ import annotations

from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "tiplab_web.screening"
    label = "screening"
    default_auto_field = "django.db.models.BigAutoField"
