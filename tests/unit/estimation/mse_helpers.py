from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tiplab.estimation import CaptureTable
from tiplab.estimation.terms import ordered_patterns

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "mse"


def load(name: str) -> CaptureTable:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"reference data {path} not available")
    return CaptureTable.from_csv(path)


def simulate_table(n_true: int, t: int, beta: dict[int, float], main: list[float],
                   rng: np.random.Generator) -> tuple[CaptureTable, float]:
    """Draw a capture table from a log-linear model with known N.

    Cell probabilities are proportional to exp(sum of main effects and interactions in the
    pattern), the all-zero cell included; N cases are drawn multinomially, the dark cell
    dropped. Returns the table and the true N.
    """
    pats = np.concatenate([[0], ordered_patterns(t)])
    logit = np.zeros(pats.size)
    for i, a in enumerate(main):
        logit += a * ((pats >> i) & 1)
    for term, b in beta.items():
        logit += b * ((pats & term) == term)
    p = np.exp(logit)
    p /= p.sum()
    counts = rng.multinomial(n_true, p)
    names = [f"L{i + 1}" for i in range(t)]
    return CaptureTable.from_patterns(names, pats[1:], counts[1:]), float(n_true)
