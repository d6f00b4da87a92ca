"""Fault injection for the atomicity and runtime tests. Unset in normal use.

``TIPLAB_FAULT_PAUSE_IN_TRANSACTION`` names a file: the writer creates it once its
transaction is open with records written, then waits while the file exists (at most ten
minutes) — the test either kills the process there (nothing may be committed) or deletes
the file to let the import finish (a web server restarted meanwhile, say)."""

from __future__ import annotations

import os
import time
from pathlib import Path

MAX_PAUSE_SECONDS = 600


def pause_in_transaction() -> None:
    marker = os.environ.get("TIPLAB_FAULT_PAUSE_IN_TRANSACTION")
    if not marker:
        return
    path = Path(marker)
    path.write_text("in transaction", encoding="utf-8")
    deadline = time.monotonic() + MAX_PAUSE_SECONDS
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
