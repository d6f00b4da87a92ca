from __future__ import annotations

from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "tiplab_web.groups"
    label = "groups"
    verbose_name = "Working groups and advisory boards"
    default_auto_field = "django.db.models.BigAutoField"
