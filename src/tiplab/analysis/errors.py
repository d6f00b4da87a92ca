"""Errors of the analysis package."""

from __future__ import annotations

from tiplab.errors import TiplabError


class AnalysisError(TiplabError):
    """An analysis cannot run on the given data or parameters."""


class ColumnError(AnalysisError):
    """A column the analysis needs is missing or has the wrong type."""


class InputDataError(AnalysisError):
    """An input file (regions, adjacency, population, route coding) is unusable."""
