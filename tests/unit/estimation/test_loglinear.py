"""Log-linear fits on tables so sparse that the dark figure's standard error explodes."""

from __future__ import annotations

import math

from tiplab.estimation import CaptureTable, estimate


def sparse() -> CaptureTable:
    # a stratum of the synthetic country (XT-08, sexual exploitation): five persons, no one
    # seen by all three lists, two lists never seen together
    return CaptureTable.from_patterns(("health", "immigration", "ngo_shelters"),
                                      [4, 5, 6], [2, 2, 1])


def test_an_exploding_standard_error_gives_an_unbounded_interval_not_a_crash() -> None:
    result = estimate(sparse(), "stepwise", nboot=0)
    lo, hi = result.interval
    assert result.observed == 5
    assert lo is not None
    assert lo >= 5
    assert hi is not None
    assert math.isinf(hi)
