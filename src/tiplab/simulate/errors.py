"""Errors of the simulator."""

from __future__ import annotations

from tiplab.errors import TiplabError


class SimulationError(TiplabError):
    """The simulation settings are inconsistent or an output cannot be written."""
