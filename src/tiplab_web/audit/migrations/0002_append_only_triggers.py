"""Refuse UPDATE and DELETE on audit entries in the database itself.

Skipped when ``settings.TIPLAB_AUDIT_DB_TRIGGERS`` is False (the test settings: Django's
test flush deletes every row between transactional tests). Tests install them explicitly.
"""

from django.conf import settings
from django.db import migrations

from tiplab_web.audit import triggers


def install(apps, schema_editor):
    if getattr(settings, "TIPLAB_AUDIT_DB_TRIGGERS", True):
        triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = (("audit", "0001_initial"),)
    operations = (migrations.RunPython(install, remove),)
