"""Refuse UPDATE and DELETE on privacy-ledger entries in the database itself (skipped when
``settings.TIPLAB_AUDIT_DB_TRIGGERS`` is False, as for the audit log)."""

from django.conf import settings
from django.db import migrations

from tiplab_web.publications import triggers


def install(apps, schema_editor):
    if getattr(settings, "TIPLAB_AUDIT_DB_TRIGGERS", True):
        triggers.install(schema_editor.connection)


def remove(apps, schema_editor):
    triggers.remove(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = (("publications", "0001_initial"),)
    operations = (migrations.RunPython(install, remove),)
