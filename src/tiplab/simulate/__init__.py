"""A synthetic country with ground truth: hidden victims, agency exports, profiles, truth.

Usage::

    from tiplab.simulate import SimulationSettings, simulate
    result = simulate(SimulationSettings(seed=42, victims=20_000), "sim-out")
    result.summary()

See ``docs/simulation.md`` for the generative model and what it can and cannot test.
"""

from tiplab.simulate.errors import SimulationError
from tiplab.simulate.generator import SimulationResult, simulate
from tiplab.simulate.settings import (
    DEFAULT_AGENCIES,
    DEFECT_CODES,
    MeasureSettings,
    NoiseSettings,
    SimulationSettings,
    parse_years,
)

__all__ = [
    "DEFAULT_AGENCIES",
    "DEFECT_CODES",
    "MeasureSettings",
    "NoiseSettings",
    "SimulationError",
    "SimulationResult",
    "SimulationSettings",
    "parse_years",
    "simulate",
]
