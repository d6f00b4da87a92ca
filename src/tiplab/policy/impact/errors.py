"""Errors of impact evaluation: bad panels and designs the methods cannot estimate."""

from __future__ import annotations

from tiplab.errors import TiplabError


class ImpactError(TiplabError):
    """The panel or the design cannot be evaluated; the message says what and how to fix it."""
