"""Shared simulation runs (built once per test session, seeded)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tiplab.simulate import SimulationResult, SimulationSettings, simulate

#: The demo size `make run` uses; the import tests run on it.
DEMO = SimulationSettings(seed=42, victims=20_000, year_start=2015, year_end=2024)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> SimulationResult:
    return simulate(DEMO, tmp_path_factory.mktemp("sim-demo"))


@pytest.fixture(scope="session")
def demo_dir(demo_run: SimulationResult) -> Path:
    return demo_run.out_dir
