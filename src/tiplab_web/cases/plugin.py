"""The ``tiplab.stores`` entry point: set Django up (outside the web server) and open the store.

Kept free of model imports at module level, so the CLI can load it before Django is set up.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def open_store(data_dir: Path, *, migrate: bool = True) -> Any:
    """Set Django up on ``data_dir`` (migrating a new database unless ``migrate`` is false: a
    restore needs the database as it is) and return the case store."""
    import django
    from django.apps import apps
    from django.conf import settings

    if not apps.ready:
        if not settings.configured:
            os.environ["TIPLAB_DATA_DIR"] = str(data_dir)
            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tiplab_web.settings.dev")
            data_dir.mkdir(parents=True, exist_ok=True)
        django.setup()
        if migrate:
            _migrate_if_needed()
    from tiplab_web.cases.store import DjangoCaseStore

    return DjangoCaseStore(Path(data_dir))


def _migrate_if_needed() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        call_command("migrate", interactive=False, verbosity=0)
