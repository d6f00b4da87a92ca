"""Suite-wide configuration: markers that need services, and hermetic data directories.

- ``postgres`` tests run when ``TIPLAB_TEST_POSTGRES_URL`` is set (CI sets it after starting a
  server); otherwise they are deselected, except in CI where a missing server is an error.
- ``e2e`` tests need ``/usr/bin/chromium``; in CI its absence is an error, locally a skip.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get("TIPLAB_TEST_POSTGRES_URL"):
        pg = [i for i in items if i.get_closest_marker("postgres")]
        if pg and IN_CI:
            raise pytest.UsageError("CI: postgres tests collected but TIPLAB_TEST_POSTGRES_URL "
                                    "is not set (.ci/run should start PostgreSQL)")
        if pg:
            config.hook.pytest_deselected(items=pg)
            items[:] = [i for i in items if not i.get_closest_marker("postgres")]
    if not CHROMIUM.exists():
        for item in items:
            if item.get_closest_marker("e2e"):
                if IN_CI:
                    raise pytest.UsageError("CI: e2e tests need /usr/bin/chromium")
                item.add_marker(pytest.mark.skip(reason="needs /usr/bin/chromium "
                                                        "(apt-get install chromium)"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only shared data folder beside the checkout."""
    path = SHARED / "data"
    if not path.exists():
        pytest.fail(f"shared data not found at {path}; the checkout must sit beside shared/")
    return path
