from __future__ import annotations

from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "tiplab_web.evidence"
    label = "evidence"
    default_auto_field = "django.db.models.BigAutoField"
