"""Named random streams: each part of the model draws from its own generator.

A stream is seeded from the run's seed and a fixed name, so adding an agency or a noise kind
does not shift the draws of the hidden population (and outputs stay comparable across
settings that share a seed).
"""

from __future__ import annotations

import zlib

import numpy as np


def stream(seed: int, name: str) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(name.encode())]))
