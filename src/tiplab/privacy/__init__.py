"""Disclosure control for every output that leaves the analyst role."""

from tiplab.privacy.disclosure import (
    DEFAULT_THRESHOLD,
    DisclosureError,
    DisclosureRule,
    Protection,
    suppress_1d,
    suppress_2d,
)
from tiplab.privacy.tables import protect_counts, protect_grouped

__all__ = [
    "DEFAULT_THRESHOLD", "DisclosureError", "DisclosureRule", "Protection",
    "protect_counts", "protect_grouped", "suppress_1d", "suppress_2d",
]
