"""Errors of the estimation package."""

from __future__ import annotations

from tiplab.errors import TiplabError


class EstimationError(TiplabError):
    """A population estimate cannot be computed (bad table, unfittable model, bad option).

    The message says what was wrong, where (file, stratum, list or model) and how to fix it.
    """
